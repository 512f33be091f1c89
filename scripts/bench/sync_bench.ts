/**
 * The wait-queue benchmark: does a hand-off of a `Lock`, a `Semaphore` or a
 * `CapacityLimiter`, or a `Condition.notify`, cost the same with 1k and 100k
 * waiters (issue 13 goal 3: within 1.3×)? And is a `Semaphore` as fast as a
 * `Lock` (issue 14: within 1.2×)?
 *
 * - **hand-off** (lock, semaphore of 1 token, limiter of 1 token): N tasks wait
 *   on the held primitive; the holder releases and each waiter, once granted,
 *   releases at once. Timed from the first release until the last waiter let
 *   go: N hand-offs, each a grant, a task resumption and a release (parking the
 *   waiters is not timed).
 * - **condition notify**: N tasks wait on a condition; the holder calls
 *   `notify()` N times (timed alone: it is synchronous), then lets them drain.
 * - **flat cost** rows (goal ≤ 1.3×): N = 100k waiters against the same
 *   hand-offs or notifies done in 100 runs of 1k waiters: the ratio is the cost
 *   per operation at 100k over the cost at 1k.
 * - **reference** rows: the lock hand-off and the notify at 1k and 100k against
 *   a FIFO of promise resolvers (each waiter resolving the next; for the
 *   notify, N resolver calls): the floor of a hand-off on this runtime.
 * - **Semaphore vs Lock** (goal ≤ 1.2×): 200k `await acquire()` + `release()`
 *   of a free semaphore of 1 token against the same on a free lock; the same
 *   releasing by the guard; 10k hand-offs of each.
 *
 * Rows are `measure.ts` comparisons (interleaved ABBA rounds, median ratio with
 * its min–max, the load average), recorded by `run_all.ts`. Runs on Deno
 * (`deno task bench sync`) and, from the npm build, on Node
 * (`node --expose-gc npm/scripts/bench/sync_bench.js`).
 *
 * @module
 */

import type { AsyncBackend } from "../../backend/mod.ts";
import { AsyncBackendFactory } from "../../factory/mod.ts";
import process from "node:process";
import {
  collectGarbage,
  compare,
  type Comparison,
  QUICK,
  report,
  type Result,
  selfTimed,
  sized,
  type Workload,
} from "./measure.ts";

const backend: AsyncBackend = AsyncBackendFactory.new();
const runtime = "deno" in process.versions
  ? `Deno ${process.versions.deno} (V8 ${process.versions.v8})`
  : `Node ${process.versions.node} (V8 ${process.versions.v8})`;

const FEW = sized(1_000, 10);
const MANY = sized(100_000, 100);
const FREE_OPS = sized(200_000, 200);
const HAND_OFFS = sized(10_000, 10);
const ROUNDS = QUICK ? 1 : 7;

const label = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));

/** Something with a hand-off: acquire (resolving once granted) and release. */
interface Primitive {
  acquire(): Promise<unknown>;
  release(): void;
}

/**
 * Ms for `n` hand-offs of a primitive held by this task: `n` tasks park on
 * it; timed from the first release until the last waiter let go.
 */
async function handOffs(create: () => Primitive, n: number): Promise<number> {
  const primitive = create();
  let start = 0;
  let end = 0;
  let left = n;
  await backend.createTaskGroup(async (tg) => {
    await primitive.acquire();
    for (let i = 0; i < n; i++) {
      tg.startSoon(async () => {
        await primitive.acquire();
        primitive.release();
        if (--left === 0) end = performance.now();
      });
    }
    await backend.coroYield();
    await backend.coroYield();
    collectGarbage();
    start = performance.now();
    primitive.release();
  });
  return end - start;
}

const lock = (): Primitive => backend.createLock();
const semaphore = (): Primitive => backend.createSemaphore(1);
const limiter = (): Primitive => backend.createCapacityLimiter(1);

/** Ms for `n` `notify()` calls on `n` waiting tasks (the drain is not timed). */
async function notifies(n: number): Promise<number> {
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
    collectGarbage();
    const start = performance.now();
    for (let i = 0; i < n; i++) cond.notify();
    elapsed = performance.now() - start;
    cond.release();
  });
  if (cond.statistics().tasksWaiting !== 0) throw new Error("A waiter was not notified");
  return elapsed;
}

/** `n` parked async calls, each resuming on its own resolver. */
function parkResolvers(n: number, chain: boolean): { resolvers: (() => void)[]; done: Promise<void[]> } {
  const resolvers = new Array<() => void>(n);
  const done = new Array<Promise<void>>(n);
  for (let i = 0; i < n; i++) {
    done[i] = (async () => {
      await new Promise<void>((resolve) => resolvers[i] = resolve);
      if (chain && i + 1 < n) resolvers[i + 1]();
    })();
  }
  return { resolvers, done: Promise.all(done) };
}

/** Ms for `n` hand-offs through a FIFO of resolvers, each waiter resolving the next. */
async function resolverHandOffs(n: number): Promise<number> {
  const { resolvers, done } = parkResolvers(n, true);
  await null;
  collectGarbage();
  const start = performance.now();
  resolvers[0]();
  await done;
  return performance.now() - start;
}

/** Ms for `n` resolver calls waking `n` parked calls (the drain is not timed). */
async function resolverCalls(n: number): Promise<number> {
  const { resolvers, done } = parkResolvers(n, false);
  await null;
  collectGarbage();
  const start = performance.now();
  for (let i = 0; i < n; i++) resolvers[i]();
  const elapsed = performance.now() - start;
  await done;
  return elapsed;
}

/** `run(MANY)` against `MANY / FEW` runs of `run(FEW)`: the cost per op at 100k over the cost at 1k. */
function flat(name: string, run: (n: number) => Promise<number>): Comparison {
  const times = Math.max(1, Math.round(MANY / FEW));
  return {
    name: `${name}: ${label(MANY)} waiters vs ${times} × ${label(FEW)}`,
    ops: MANY,
    ours: selfTimed(() => run(MANY)),
    rawName: `${times} runs of ${label(FEW)} waiters`,
    raw: selfTimed(async () => {
      let total = 0;
      for (let i = 0; i < times; i++) total += await run(FEW);
      return total;
    }),
    goal: 1.3,
  };
}

/** `n` acquire + release() of a free primitive, in this task. */
async function freeCycles(primitive: Primitive, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await primitive.acquire();
    primitive.release();
  }
}

/** `n` acquire + guard disposal of a free primitive, in this task. */
async function freeGuards(primitive: { acquire(): Promise<Disposable> }, n: number): Promise<void> {
  for (let i = 0; i < n; i++) (await primitive.acquire())[Symbol.dispose]();
}

function semaphoreVsLock(name: string, ops: number, ours: Workload, raw: Workload): Comparison {
  return { name: `semaphore vs lock: ${name}`, ops, ours, rawName: "the same on a lock", raw, goal: 1.2 };
}

const comparisons: Comparison[] = [
  flat("lock hand-off", (n) => handOffs(lock, n)),
  flat("condition notify()", notifies),
  flat("semaphore hand-off", (n) => handOffs(semaphore, n)),
  flat("capacity limiter hand-off", (n) => handOffs(limiter, n)),
  ...[FEW, MANY].flatMap((n): Comparison[] => [
    {
      name: `(reference) lock hand-off, ${label(n)} waiters`,
      ops: n,
      ours: selfTimed(() => handOffs(lock, n)),
      rawName: "resolver FIFO",
      raw: selfTimed(() => resolverHandOffs(n)),
    },
    {
      name: `(reference) condition notify(), ${label(n)} waiters`,
      ops: n,
      ours: selfTimed(() => notifies(n)),
      rawName: "resolver calls",
      raw: selfTimed(() => resolverCalls(n)),
    },
  ]),
  semaphoreVsLock(
    `${label(FREE_OPS)} acquire + release(), free`,
    FREE_OPS,
    () => freeCycles(backend.createSemaphore(1), FREE_OPS),
    () => freeCycles(backend.createLock(), FREE_OPS),
  ),
  semaphoreVsLock(
    `${label(FREE_OPS)} acquire + guard disposal, free`,
    FREE_OPS,
    () => freeGuards(backend.createSemaphore(1), FREE_OPS),
    () => freeGuards(backend.createLock(), FREE_OPS),
  ),
  semaphoreVsLock(
    `${label(HAND_OFFS)} hand-offs to waiting tasks`,
    HAND_OFFS,
    selfTimed(() => handOffs(semaphore, HAND_OFFS)),
    selfTimed(() => handOffs(lock, HAND_OFFS)),
  ),
];

const results: Result[] = await backend.bootstrap(async () => {
  const results: Result[] = [];
  for (const comparison of comparisons) results.push(await compare(comparison, { rounds: ROUNDS }));
  return results;
});

report(`Wait-queue benchmark on ${runtime}: median of ${ROUNDS} interleaved rounds`, results);
