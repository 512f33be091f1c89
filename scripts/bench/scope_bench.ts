/**
 * The standalone-scope benchmark: what `openCancelScope()` and an outside
 * `AbortSignal` cost over the scopes the core already had, and what a
 * cancellation carrying a reason costs to deliver.
 *
 * - **run 200k standalone scopes**: `openCancelScope({ deadline }).run(noop)`
 *   against `moveOnAfter(1e9, noop)`, the same engine scope made and entered
 *   in one call (goal ≤ 1.5×: the handle and the option checks only).
 * - **run 200k scopes listening to a signal**: the same with
 *   `{ signal }` (a listener added at entry, removed at exit), for reference.
 * - **cancel(reason) wakes 10k tasks**: 10k tasks sleep in a standalone scope
 *   three scopes deep, and `cancel(reason)` wakes them all with a
 *   `CancelledError` carrying the reason; the raw side rejects 10k promises
 *   from a list of their reject functions, the floor of waking 10k waits
 *   (one `AbortSignal` with 10k listeners is no floor: adding a listener
 *   scans those already added). Both sides include setting the waits up:
 *   ours spawns 10k tasks in a group (for reference).
 *
 * Each row: median of 7 interleaved rounds after 2 warm-ups, ratio median with
 * its min–max, and the load average of the machine when the run ended.
 *
 * @module
 */

import type { AsyncBackend } from "../../backend/mod.ts";
import { AsyncBackendFactory } from "../../factory/mod.ts";
import { loadavg } from "node:os";
import process from "node:process";
import { compare, type Comparison, report, type Result } from "./measure.ts";

const backend: AsyncBackend = AsyncBackendFactory.new();
const runtime = "deno" in process.versions
  ? `Deno ${process.versions.deno} (V8 ${process.versions.v8})`
  : `Node ${process.versions.node} (V8 ${process.versions.v8})`;

const SCOPES = 200_000;
const WAITERS = 10_000;
const noop = (): void => {};

async function standaloneScopes(): Promise<void> {
  for (let i = 0; i < SCOPES; i++) await backend.openCancelScope({ deadline: 1e12 }).run(noop);
}

async function moveOnScopes(): Promise<void> {
  for (let i = 0; i < SCOPES; i++) await backend.moveOnAfter(1e9, noop);
}

async function listeningScopes(): Promise<void> {
  const signal = new AbortController().signal;
  for (let i = 0; i < SCOPES; i++) await backend.openCancelScope({ signal }).run(noop);
}

async function cancelWithReason(): Promise<void> {
  const scope = backend.openCancelScope();
  let waiting = 0;
  await scope.run(() =>
    backend.moveOnAfter(1e9, () =>
      backend.createTaskGroup(async (tg) => {
        for (let i = 0; i < WAITERS; i++) {
          tg.startSoon(async () => {
            waiting++;
            await backend.sleepForever();
          });
        }
        while (waiting < WAITERS) await backend.coroYield();
        scope.cancel("shutdown");
      }))
  );
}

async function rawRejects(): Promise<void> {
  const rejects = new Array<(reason: unknown) => void>(WAITERS);
  const waits = new Array<Promise<void>>(WAITERS);
  for (let i = 0; i < WAITERS; i++) waits[i] = new Promise<void>((_, reject) => rejects[i] = reject);
  const settled = Promise.allSettled(waits);
  await null;
  for (let i = 0; i < WAITERS; i++) rejects[i](new Error("shutdown"));
  await settled;
}

const comparisons: Comparison[] = [
  {
    name: "run 200k openCancelScope({ deadline })",
    ops: SCOPES,
    ours: standaloneScopes,
    rawName: "moveOnAfter(1e9)",
    raw: moveOnScopes,
    goal: 1.5,
  },
  {
    name: "run 200k openCancelScope({ signal })",
    ops: SCOPES,
    ours: listeningScopes,
    rawName: "moveOnAfter(1e9)",
    raw: moveOnScopes,
  },
  {
    name: "cancel(reason) wakes 10k sleeping tasks",
    ops: WAITERS,
    ours: cancelWithReason,
    rawName: "reject 10k promises",
    raw: rawRejects,
  },
];

const results: Result[] = await backend.bootstrap(async () => {
  const out: Result[] = [];
  for (const comparison of comparisons) out.push(await compare(comparison));
  return out;
});

const gcNote = "gc" in globalThis ? "heap collected before each run" : "no gc() between runs";
const load = loadavg().map((n) => n.toFixed(2)).join(", ");
report(`Scope benchmark on ${runtime}: median of 7 interleaved rounds after 2 warm-ups, ${gcNote}`, results);
console.log(`\nLoad average (1, 5, 15 min) at the end: ${load}`);
