/**
 * The wait-queue benchmark of the primitives beside the core bench's: does a
 * hand-off of a `Semaphore` or a `CapacityLimiter` cost the same with 1k and
 * 100k waiters (issue 13 goal 3: within 1.3×; the `Lock` hand-off and the
 * `Condition.notify` rows are in `core_bench.ts`, the same measure)? And is a
 * `Semaphore` as fast as a `Lock` (issue 14: within 1.2×)?
 *
 * - **flat cost** (semaphore of 1 token, limiter of 1 token): N tasks wait on
 *   the held primitive; the holder releases and each waiter, once granted,
 *   releases at once. Timed from the first release until the last waiter let
 *   go: N hand-offs, each a grant, a task resumption and a release (parking the
 *   waiters is not timed). 100k waiters against 10 runs of 1k, scaled to as
 *   many operations: the ratio is the cost per hand-off at 100k over the cost
 *   at 1k.
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
/** Runs of `FEW` waiters a flat-cost row times (scaled to `MANY` operations). */
const FEW_RUNS = QUICK ? 1 : 10;
const FREE_OPS = sized(200_000, 200);
const HAND_OFFS = sized(10_000, 10);

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

/**
 * `run(MANY)` against the same number of operations at `FEW` waiters:
 * `FEW_RUNS` runs of `run(FEW)`, their time scaled to `MANY` operations. The
 * ratio is the cost per operation at 100k waiters over the cost at 1k.
 */
function flat(name: string, run: (n: number) => Promise<number>): Comparison {
  return {
    name: `${name}: ${label(MANY)} vs ${label(FEW)} waiters`,
    ops: MANY,
    ours: selfTimed(() => run(MANY)),
    rawName: `${label(FEW)} waiters (${FEW_RUNS} runs, per op)`,
    // 100k waiting tasks a run: fewer rounds, to keep the bench short.
    rounds: 5,
    warmups: 1,
    raw: selfTimed(async () => {
      let total = 0;
      for (let i = 0; i < FEW_RUNS; i++) total += await run(FEW);
      return (total * MANY) / (FEW * FEW_RUNS);
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
  flat("semaphore hand-off", (n) => handOffs(semaphore, n)),
  flat("capacity limiter hand-off", (n) => handOffs(limiter, n)),
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
  for (const comparison of comparisons) results.push(await compare(comparison));
  return results;
});

report(`Wait-queue benchmark on ${runtime}: median of 5 (flat cost) or 7 interleaved rounds`, results);
