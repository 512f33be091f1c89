/**
 * The core benchmark: our tasks, scopes and yields against the runtime's raw
 * equivalents, measured in one process (`deno task bench`).
 *
 * - spawn+join of 100k trivial tasks in one task group vs `Promise.all` over
 *   100k async calls (goal ≤ 3×);
 * - enter+exit of 1M `moveOnAfter(1e9, …)` scopes vs 1M `setTimeout` +
 *   `clearTimeout` pairs (goal ≤ 1×: no timer per scope);
 * - 100k `coroYield()` vs the fastest raw macrotask yield of the runtime,
 *   `setImmediate` or a `MessageChannel` round, whichever is faster here
 *   (goal ≤ 2×).
 *
 * A reference row shows what one run of the task context's carrier
 * (`AsyncLocalStorage.run()`, which every task and scope needs) costs on its
 * own: a floor under the spawn and scope ratios.
 *
 * Everything below the backend selection is runtime-neutral. Run through
 * `run_all.ts`, `gc()` is exposed and the heap is collected before each timed
 * run, so that no run pays for the garbage of the one before.
 *
 * @module
 */

import type { AsyncBackend } from "../../backend/mod.ts";
import { ContextVariable } from "../../backend/common/context.ts";
import { AsyncBackendFactory } from "../../factory/mod.ts";
import process from "node:process";
import { compare, type Comparison, median, report, type Result } from "./measure.ts";

// ---- Backend selection: the runtime's own backend, through the factory ----

const backend: AsyncBackend = AsyncBackendFactory.new();
const runtime = "deno" in process.versions
  ? `Deno ${process.versions.deno} (V8 ${process.versions.v8})`
  : `Node ${process.versions.node} (V8 ${process.versions.v8})`;

// ---- Workloads ----

const TASKS = 100_000;
const SCOPES = 1_000_000;
const YIELDS = 100_000;

const noop = (): void => {};
const trivial = async (): Promise<number> => 1;

async function spawnInGroup(): Promise<void> {
  await backend.createTaskGroup((tg) => {
    for (let i = 0; i < TASKS; i++) tg.startSoon(trivial);
  });
}

async function promiseAll(): Promise<void> {
  const promises = new Array<Promise<number>>(TASKS);
  for (let i = 0; i < TASKS; i++) promises[i] = trivial();
  await Promise.all(promises);
}

// The carrier of the task context (AsyncLocalStorage), alone.
const context = new ContextVariable<object>();

async function promiseAllInContexts(): Promise<void> {
  const promises = new Array<Promise<number>>(TASKS);
  for (let i = 0; i < TASKS; i++) promises[i] = context.run({}, trivial);
  await Promise.all(promises);
}

async function moveOnScopes(): Promise<void> {
  for (let i = 0; i < SCOPES; i++) await backend.moveOnAfter(1e9, noop);
}

function timerPairs(): void {
  for (let i = 0; i < SCOPES; i++) clearTimeout(setTimeout(noop, 1e9));
}

async function coroYields(): Promise<void> {
  for (let i = 0; i < YIELDS; i++) await backend.coroYield();
}

function setImmediateYield(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

const channel = new MessageChannel();
let channelWaiter: (() => void) | null = null;
channel.port1.onmessage = () => {
  const resolve = channelWaiter!;
  channelWaiter = null;
  resolve();
};

function messageChannelYield(): Promise<void> {
  return new Promise<void>((resolve) => {
    channelWaiter = resolve;
    channel.port2.postMessage(null);
  });
}

async function rawYields(yieldOnce: () => Promise<void>): Promise<void> {
  for (let i = 0; i < YIELDS; i++) await yieldOnce();
}

/** Picks the faster raw macrotask yield of this runtime (median of interleaved runs). */
async function fastestRawYield(): Promise<{ name: string; yieldOnce: () => Promise<void> }> {
  const candidates = [
    { name: "setImmediate", yieldOnce: setImmediateYield },
    { name: "MessageChannel", yieldOnce: messageChannelYield },
  ];
  const times = candidates.map(() => [] as number[]);
  for (let round = 0; round < 5; round++) {
    for (const [i, candidate] of candidates.entries()) {
      const start = performance.now();
      await rawYields(candidate.yieldOnce);
      times[i].push(performance.now() - start);
    }
  }
  const medians = times.map(median);
  return candidates[medians.indexOf(Math.min(...medians))];
}

// ---- Run ----

const results: Result[] = await backend.bootstrap(async () => {
  const rawYield = await fastestRawYield();
  const comparisons: Comparison[] = [
    {
      name: "spawn+join 100k tasks in a group",
      ops: TASKS,
      ours: spawnInGroup,
      rawName: "Promise.all",
      raw: promiseAll,
      goal: 3,
    },
    {
      name: "(reference) 100k context runs",
      ops: TASKS,
      ours: promiseAllInContexts,
      rawName: "Promise.all",
      raw: promiseAll,
    },
    {
      name: "enter+exit 1M moveOnAfter(1e9) scopes",
      ops: SCOPES,
      ours: moveOnScopes,
      rawName: "setTimeout+clearTimeout",
      raw: timerPairs,
      goal: 1,
    },
    {
      name: "100k coroYield()",
      ops: YIELDS,
      ours: coroYields,
      rawName: rawYield.name,
      raw: () => rawYields(rawYield.yieldOnce),
      goal: 2,
    },
  ];
  const results: Result[] = [];
  for (const comparison of comparisons) results.push(await compare(comparison));
  return results;
});
channel.port1.close();

const gcNote = "gc" in globalThis ? "heap collected before each run" : "no gc() between runs";
report(`Core benchmark on ${runtime}: median of 7 interleaved rounds after 2 warm-ups, ${gcNote}`, results);
