/**
 * The wait-queue benchmark: does a `Lock` hand-off or a `Condition.notify`
 * cost the same with 1k and 200k waiters (issue 13 goal 3: within 1.3×)?
 *
 * - **lock hand-off**: N tasks wait on a held lock; the holder releases and
 *   each waiter, once granted, releases at once. Timed from the first release
 *   until the last waiter has the lock and let it go: N hand-offs, each one a
 *   grant, a task resumption and a release.
 * - **condition notify**: N tasks wait on a condition; the holder calls
 *   `notify()` N times (synchronous, timed alone), then lets them drain.
 *
 * Each row is the median of 5 rounds (after 1 warm-up) in µs per operation,
 * with a raw reference: a FIFO of N promise resolvers, each waiter resolving
 * the next (the floor of a hand-off on this runtime).
 *
 * Then a `Semaphore` against a `Lock` (issue 14 goal: within 1.2×), rounds
 * interleaved in ABBA order in this process, the ratio's median with its min
 * and max, and the load average:
 *
 * - **acquire + release, free**: 200k `await acquire()` then `release()` of a
 *   free semaphore of 1 token, against the same on a free lock;
 * - **acquire + guard, free**: the same, releasing by disposing the guard;
 * - **hand-off**: 10k tasks wait on a semaphore of 1 token held by the timer,
 *   each releasing at once when granted, against the lock hand-off above.
 *
 * Runs on Deno (`deno run -A --v8-flags=--expose-gc scripts/bench/sync_bench.ts`)
 * and, from the npm build, on Node (`node --expose-gc npm/scripts/bench/sync_bench.js`).
 *
 * @module
 */

import type { AsyncBackend } from "../../backend/mod.ts";
import { AsyncBackendFactory } from "../../factory/mod.ts";
import { loadavg } from "node:os";
import process from "node:process";
import { median } from "./measure.ts";

const backend: AsyncBackend = AsyncBackendFactory.new();
const runtime = "deno" in process.versions
  ? `Deno ${process.versions.deno} (V8 ${process.versions.v8})`
  : `Node ${process.versions.node} (V8 ${process.versions.v8})`;
const collectGarbage = (globalThis as { gc?: () => void }).gc;
const quick = process.argv.includes("--quick");
const SIZES = quick ? [100, 1_000] : [1_000, 200_000];
const ROUNDS = quick ? 1 : 5;
const WARMUPS = quick ? 0 : 1;

/** Ms for N lock hand-offs, from the first release until the last waiter let go. */
async function lockHandOff(n: number): Promise<number> {
  const lock = backend.createLock();
  let start = 0;
  let end = 0;
  let left = n;
  await backend.createTaskGroup(async (tg) => {
    await lock.acquire();
    for (let i = 0; i < n; i++) {
      tg.startSoon(async () => {
        await lock.acquire();
        lock.release();
        if (--left === 0) end = performance.now();
      });
    }
    await backend.coroYield();
    await backend.coroYield();
    collectGarbage?.();
    start = performance.now();
    lock.release();
  });
  return end - start;
}

/** Ms for N `notify()` calls on N waiters. */
async function conditionNotify(n: number): Promise<number> {
  const cond = backend.createConditionVar();
  let elapsed = 0;
  await backend.createTaskGroup(async (tg) => {
    for (let i = 0; i < n; i++) {
      tg.startSoon(async () => {
        await cond.acquire();
        try {
          await cond.wait();
        } finally {
          cond.release();
        }
      });
    }
    await backend.coroYield();
    await backend.coroYield();
    await cond.acquire();
    collectGarbage?.();
    const start = performance.now();
    for (let i = 0; i < n; i++) cond.notify();
    elapsed = performance.now() - start;
    cond.release();
  });
  return elapsed;
}

/** Ms for N hand-offs through a raw FIFO of resolvers (the floor). */
async function rawHandOff(n: number): Promise<number> {
  const resolvers: (() => void)[] = [];
  const done: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    done.push((async () => {
      await new Promise<void>((resolve) => resolvers.push(resolve));
      const next = resolvers[i + 1];
      if (next !== undefined) next();
    })());
  }
  collectGarbage?.();
  const start = performance.now();
  resolvers[0]();
  await Promise.all(done);
  return performance.now() - start;
}

/** Ms for N hand-offs of a 1-token semaphore, as {@linkcode lockHandOff}. */
async function semaphoreHandOff(n: number): Promise<number> {
  const semaphore = backend.createSemaphore(1);
  let start = 0;
  let end = 0;
  let left = n;
  await backend.createTaskGroup(async (tg) => {
    await semaphore.acquire();
    for (let i = 0; i < n; i++) {
      tg.startSoon(async () => {
        await semaphore.acquire();
        semaphore.release();
        if (--left === 0) end = performance.now();
      });
    }
    await backend.coroYield();
    await backend.coroYield();
    collectGarbage?.();
    start = performance.now();
    semaphore.release();
  });
  return end - start;
}

/** Ms for `n` acquire + release() of a free primitive, in this task. */
async function freeCycles(primitive: { acquire(): Promise<unknown>; release(): void }, n: number): Promise<number> {
  collectGarbage?.();
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    await primitive.acquire();
    primitive.release();
  }
  return performance.now() - start;
}

/** Ms for `n` acquire + guard disposal of a free primitive, in this task. */
async function freeGuards(primitive: { acquire(): Promise<Disposable> }, n: number): Promise<number> {
  collectGarbage?.();
  const start = performance.now();
  for (let i = 0; i < n; i++) (await primitive.acquire())[Symbol.dispose]();
  return performance.now() - start;
}

const SEMAPHORE_ROUNDS = quick ? 3 : 9;
const SEMAPHORE_GOAL = 1.2;

/**
 * Times `ours` and `reference` (each returns its own ms) in interleaved ABBA
 * rounds after a warm-up of each, and returns a row: per-op times and the
 * median ratio with its spread.
 */
async function versus(
  name: string,
  n: number,
  ours: (n: number) => Promise<number>,
  reference: (n: number) => Promise<number>,
): Promise<string> {
  await ours(n);
  await reference(n);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < SEMAPHORE_ROUNDS; i++) {
    if (i % 2 === 0) {
      a.push(await ours(n));
      b.push(await reference(n));
    } else {
      b.push(await reference(n));
      a.push(await ours(n));
    }
  }
  const ratios = a.map((t, i) => t / b[i]);
  const ratio = median(ratios);
  const perOp = (times: number[]) => `${((median(times) / n) * 1e6).toFixed(0)} ns`;
  const spread = `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
  const met = ratio <= SEMAPHORE_GOAL ? "yes" : "**no**";
  return `| ${name} | ${n.toLocaleString("en-US")} | ${perOp(a)} | ${perOp(b)} | ${
    ratio.toFixed(2)
  }× (${spread}) | ${met} |`;
}

async function row(name: string, n: number, run: (n: number) => Promise<number>): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < WARMUPS + ROUNDS; i++) {
    const ms = await run(n);
    if (i >= WARMUPS) times.push(ms);
  }
  const perOp = (median(times) / n) * 1000;
  const spread = `${((Math.min(...times) / n) * 1000).toFixed(3)}–${((Math.max(...times) / n) * 1000).toFixed(3)}`;
  return `| ${name} | ${n.toLocaleString("en-US")} | ${perOp.toFixed(3)} µs | ${spread} |`;
}

const lines: string[] = await backend.bootstrap(async () => {
  const lines: string[] = [];
  for (const n of SIZES) lines.push(await row("lock hand-off", n, lockHandOff));
  for (const n of SIZES) lines.push(await row("condition notify()", n, conditionNotify));
  for (const n of SIZES) lines.push(await row("(raw) resolver FIFO hand-off", n, rawHandOff));
  return lines;
}) as string[];

const FREE_OPS = quick ? 20_000 : 200_000;
const HAND_OFFS = quick ? 1_000 : 10_000;
const semaphoreLines: string[] = await backend.bootstrap(async () => [
  await versus(
    "acquire + release(), free",
    FREE_OPS,
    (n) => freeCycles(backend.createSemaphore(1), n),
    (n) => freeCycles(backend.createLock(), n),
  ),
  await versus(
    "acquire + guard disposal, free",
    FREE_OPS,
    (n) => freeGuards(backend.createSemaphore(1), n),
    (n) => freeGuards(backend.createLock(), n),
  ),
  await versus("hand-off to waiting tasks", HAND_OFFS, semaphoreHandOff, lockHandOff),
]) as string[];

console.log(`\nWait-queue benchmark on ${runtime}: median of ${ROUNDS} rounds after ${WARMUPS} warm-up\n`);
console.log("| Workload | Waiters | Per op | Min–max (µs) |");
console.log("|---|---:|---:|---:|");
for (const line of lines) console.log(line);

const load = loadavg().map((l) => l.toFixed(2)).join(", ");
console.log(
  `\nSemaphore vs Lock on ${runtime}: median ratio of ${SEMAPHORE_ROUNDS} interleaved rounds (goal ≤ ${SEMAPHORE_GOAL}×), load average ${load}\n`,
);
console.log("| Workload | Ops | Semaphore / op | Lock / op | Ratio (min–max) | Met |");
console.log("|---|---:|---:|---:|---:|---|");
for (const line of semaphoreLines) console.log(line);
