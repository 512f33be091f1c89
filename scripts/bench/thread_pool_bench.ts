/**
 * The worker pool benchmark, runtime-neutral (Deno, and Node from the npm
 * build: `node --expose-gc npm/scripts/bench/thread_pool_bench.js`). Every row
 * is measured against raw `node:worker_threads` messaging in one process,
 * interleaved rounds; the peers (piscina 5, tinypool 2, synckit) get rows of
 * their own against the same raw reference, where they load on the runtime.
 *
 * - `runInThread` round trip of a tiny function vs a raw ping-pong (≤ 1.3×);
 * - 100k tiny calls on a 2-worker `AsyncThreadPoolExecutor` vs 100k raw
 *   messages posted at once to 2 echo workers (≤ 1.5×), and the same calls on
 *   piscina and tinypool (our goal: ≥ 3× piscina's rate);
 * - a blocking portal call (`portal.runSync`) vs a raw `postMessage` +
 *   `Atomics.wait` + `receiveMessageOnPort` round trip (≤ 1.2×), and a synckit
 *   call (the same mechanism, loop to worker) against the same reference.
 *
 * @module
 */

import os from "node:os";
import process from "node:process";
import { MessageChannel, Worker } from "node:worker_threads";
import { AsyncBackendFactory } from "../../factory/mod.ts";
import type { AsyncBackend } from "../../backend/mod.ts";
import { threadModule } from "../../backend/mod.ts";
import { AsyncThreadPoolExecutor } from "../../futures/mod.ts";
import { compare, type Comparison, formatPerOp, QUICK, report, type Result, sized } from "./measure.ts";

const ROUND_TRIPS = sized(2_000, 10);
const CALLS = sized(100_000, 100);
const PORTAL_CALLS = sized(5_000, 10);
const ROUNDS = QUICK ? 1 : Number(process.env.BENCH_ROUNDS ?? 9);

const backend: AsyncBackend = AsyncBackendFactory.new();
const runtime = "deno" in process.versions
  ? `Deno ${process.versions.deno} (V8 ${process.versions.v8})`
  : `Node ${process.versions.node} (V8 ${process.versions.v8})`;
const work = threadModule<typeof import("./thread_bench_work.ts")>(new URL("./thread_bench_work.ts", import.meta.url));
const peerWork = new URL("./thread_peer_work.ts", import.meta.url);

/** A raw echo worker with a promise per request (answers come in order). */
class RawWorker {
  readonly worker: Worker = new Worker(new URL("./thread_echo_work.ts", import.meta.url));
  #waiters: ((value: number) => void)[] = [];
  #head = 0;

  constructor() {
    this.worker.on("message", (n: number) => {
      const resolve = this.#waiters[this.#head];
      this.#waiters[this.#head++] = undefined as never;
      if (this.#head === this.#waiters.length) {
        this.#waiters.length = 0;
        this.#head = 0;
      }
      resolve(n);
    });
  }

  request(message: unknown, transfer: unknown[] = []): Promise<number> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.worker.postMessage(message, transfer as never);
    });
  }
}

async function rawPingPong(worker: RawWorker): Promise<void> {
  for (let i = 0; i < ROUND_TRIPS; i++) await worker.request(i);
}

async function rawPipelined(workers: RawWorker[]): Promise<void> {
  const pending = new Array<Promise<number>>(CALLS);
  for (let i = 0; i < CALLS; i++) pending[i] = workers[i & 1].request(i);
  await Promise.all(pending);
}

async function pipelined(run: (i: number) => Promise<unknown>): Promise<void> {
  const pending = new Array<Promise<unknown>>(CALLS);
  for (let i = 0; i < CALLS; i++) pending[i] = run(i);
  await Promise.all(pending);
}

/** The raw blocking round trip: a channel whose loop side answers and notifies. */
async function rawBlocking(worker: RawWorker): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  const state = new Int32Array(new SharedArrayBuffer(4));
  port1.on("message", (n: number) => {
    port1.postMessage(n);
    Atomics.add(state, 0, 1);
    Atomics.notify(state, 0);
  });
  await worker.request({ port: port2, state: state.buffer, count: PORTAL_CALLS }, [port2]);
  port1.close();
}

/** Loads a peer by its bare name (pinned in deno.json / devDependencies); `null` when it does not load here. */
async function peer<T>(name: string, make: (module: Record<string, unknown>) => T): Promise<T | null> {
  try {
    return make(await import(name));
  } catch (error) {
    console.log(`(${name} does not load on ${runtime}: ${error instanceof Error ? error.message : error})`);
    return null;
  }
}

type Runner = { run(n: number): Promise<unknown>; destroy(): Promise<unknown> };

const results: Result[] = await backend.bootstrap(async () => {
  const raw = [new RawWorker(), new RawWorker()];
  await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 2, threadNamePrefix: "bench" });
  const portal = backend.createThreadsPortal({ noop: (n: number) => n });
  const piscina = await peer<Runner>("piscina", (m) => {
    const Piscina = m.default as new (options: object) => Runner;
    return new Piscina({ filename: peerWork.href, minThreads: 2, maxThreads: 2 });
  });
  const tinypool = await peer<Runner>("tinypool", (m) => {
    const Tinypool = (m.default ?? m.Tinypool) as new (options: object) => Runner;
    return new Tinypool({ filename: peerWork.href, minThreads: 2, maxThreads: 2 });
  });
  const synckit = await peer<(n: number) => number>("synckit", (m) => {
    const createSyncFn = m.createSyncFn as (path: string) => (n: number) => number;
    return createSyncFn(new URL("./thread_synckit_work.ts", import.meta.url).href);
  });
  const comparisons: Comparison[] = [
    {
      name: `runInThread round trip (${ROUND_TRIPS} sequential)`,
      ops: ROUND_TRIPS,
      ours: async () => {
        for (let i = 0; i < ROUND_TRIPS; i++) await backend.runInThread(work.tiny, i);
      },
      rawName: "postMessage ping-pong",
      raw: () => rawPingPong(raw[0]),
      goal: 1.3,
    },
    {
      name: `${CALLS / 1000}k tiny calls on 2 workers`,
      ops: CALLS,
      ours: () => pipelined((i) => executor.run(work.tiny, [i] as never)),
      rawName: "pipelined postMessage, 2 workers",
      raw: () => rawPipelined(raw),
      goal: 1.5,
    },
  ];
  for (const [name, pool] of [["piscina 5", piscina], ["tinypool 2", tinypool]] as const) {
    if (pool === null) continue;
    comparisons.push({
      name: `${CALLS / 1000}k tiny calls on 2 workers: ${name}`,
      ops: CALLS,
      ours: () => pipelined((i) => pool.run(i)),
      rawName: "pipelined postMessage, 2 workers",
      raw: () => rawPipelined(raw),
    });
  }
  comparisons.push({
    name: `blocking portal.runSync (${PORTAL_CALLS} in a row)`,
    ops: PORTAL_CALLS,
    ours: async () => void await backend.runInThread(work.portalCalls, portal, PORTAL_CALLS),
    rawName: "postMessage+Atomics.wait+receiveMessageOnPort",
    raw: () => rawBlocking(raw[0]),
    goal: 1.2,
  });
  if (synckit !== null) {
    comparisons.push({
      name: `synckit blocking call (${PORTAL_CALLS} in a row)`,
      ops: PORTAL_CALLS,
      ours: () => {
        for (let i = 0; i < PORTAL_CALLS; i++) synckit(i);
      },
      rawName: "postMessage+Atomics.wait+receiveMessageOnPort",
      raw: () => rawBlocking(raw[0]),
    });
  }
  const results: Result[] = [];
  try {
    // BENCH_ONLY=<regex> runs the matching rows only (for profiling one of them).
    const only = new RegExp(process.env.BENCH_ONLY ?? "");
    for (const comparison of comparisons) {
      if (only.test(comparison.name)) results.push(await compare(comparison, { rounds: ROUNDS }));
    }
  } finally {
    for (const worker of raw) await worker.worker.terminate();
    await piscina?.destroy();
    await tinypool?.destroy();
  }
  return results;
});

report(
  `Worker pool benchmark on ${runtime}: median of ${ROUNDS} interleaved rounds; load average ` +
    os.loadavg().map((n) => n.toFixed(1)).join(" "),
  results,
);
const perOp = (name: string) => results.find((r) => r.comparison.name.endsWith(name))?.oursPerOp;
const ours = perOp(`${CALLS / 1000}k tiny calls on 2 workers`);
if (ours !== undefined) {
  console.log(`\nOurs: ${(1000 / ours).toFixed(0)} calls/s (${formatPerOp(ours)} per call)`);
  for (const name of ["piscina 5", "tinypool 2"]) {
    const theirs = perOp(name);
    if (theirs !== undefined) {
      console.log(`${name}: ${(1000 / theirs).toFixed(0)} calls/s; ours ${(theirs / ours).toFixed(2)}× its rate`);
    }
  }
}
