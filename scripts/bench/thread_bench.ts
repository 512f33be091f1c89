/**
 * The threads benchmark (Deno): our worker pool and portal against raw Web
 * Worker messaging, measured in one process (`deno task bench threads`).
 *
 * - `runInThread` round trip of a tiny function vs a raw `postMessage`
 *   ping-pong with one worker (goal ≤ 1.3×);
 * - 100k tiny calls in flight on a 2-worker `AsyncThreadPoolExecutor` vs 100k
 *   raw messages pipelined to 2 echo workers (calls/s in the printout);
 * - a blocking portal call (`portal.runSync`) vs a raw `postMessage` +
 *   `Atomics.wait` + `receiveMessageOnPort` round trip (goal ≤ 1.2×).
 *
 * @module
 */

import { threadModule } from "../../mod.ts";
import { DenoBackend } from "../../backend/deno/mod.ts";
import { AsyncThreadPoolExecutor } from "../../futures/mod.ts";
import { compare, type Comparison, formatPerOp, report, type Result } from "./measure.ts";

const ROUND_TRIPS = 2_000;
const CALLS = 100_000;
const PORTAL_CALLS = 5_000;

const backend = new DenoBackend();
const work = threadModule<typeof import("./thread_bench_work.ts")>(new URL("./thread_bench_work.ts", import.meta.url));
const runtime = `Deno ${Deno.version.deno} (V8 ${Deno.version.v8})`;

/** A raw Web Worker with a promise-returning request. */
class RawWorker {
  readonly worker: Worker = new Worker(new URL("./thread_bench_echo.ts", import.meta.url), { type: "module" });
  #waiters: ((value: number) => void)[] = [];
  #head = 0;

  constructor() {
    this.worker.onmessage = (event: MessageEvent<number>) => {
      const resolve = this.#waiters[this.#head];
      this.#waiters[this.#head++] = undefined as never;
      if (this.#head === this.#waiters.length) {
        this.#waiters.length = 0;
        this.#head = 0;
      }
      resolve(event.data);
    };
  }

  request(message: unknown, transfer: Transferable[] = []): Promise<number> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.worker.postMessage(message, transfer);
    });
  }
}

async function rawPingPong(worker: RawWorker): Promise<void> {
  for (let i = 0; i < ROUND_TRIPS; i++) await worker.request(i);
}

async function ourRoundTrips(): Promise<void> {
  for (let i = 0; i < ROUND_TRIPS; i++) await backend.runInThread(work.tiny, i);
}

async function rawPipelined(workers: RawWorker[]): Promise<void> {
  const pending = new Array<Promise<number>>(CALLS);
  for (let i = 0; i < CALLS; i++) pending[i] = workers[i & 1].request(i);
  await Promise.all(pending);
}

async function ourPipelined(executor: AsyncThreadPoolExecutor): Promise<void> {
  const pending = new Array<Promise<number>>(CALLS);
  for (let i = 0; i < CALLS; i++) pending[i] = executor.run(work.tiny, i);
  await Promise.all(pending);
}

/** The raw blocking round trip: a channel whose loop side answers and notifies. */
async function rawBlocking(worker: RawWorker): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  const state = new Int32Array(new SharedArrayBuffer(4));
  port1.onmessage = (event: MessageEvent<number>) => {
    port1.postMessage(event.data);
    Atomics.add(state, 0, 1);
    Atomics.notify(state, 0);
  };
  await worker.request({ port: port2, state: state.buffer, count: PORTAL_CALLS }, [port2]);
  port1.close();
}

const results: Result[] = await backend.bootstrap(async () => {
  const raw = [new RawWorker(), new RawWorker()];
  await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 2, threadNamePrefix: "bench" });
  const portal = backend.createThreadsPortal({ noop: (n: number) => n });
  const comparisons: Comparison[] = [
    {
      name: `runInThread round trip (${ROUND_TRIPS} sequential)`,
      ops: ROUND_TRIPS,
      ours: ourRoundTrips,
      rawName: "postMessage ping-pong",
      raw: () => rawPingPong(raw[0]),
      goal: 1.3,
    },
    {
      name: `${CALLS / 1000}k tiny calls on 2 workers`,
      ops: CALLS,
      ours: () => ourPipelined(executor),
      rawName: "pipelined postMessage, 2 workers",
      raw: () => rawPipelined(raw),
      goal: 2,
    },
    {
      name: `blocking portal.runSync (${PORTAL_CALLS} in a row)`,
      ops: PORTAL_CALLS,
      ours: async () => void await backend.runInThread(work.portalCalls, portal, PORTAL_CALLS),
      rawName: "postMessage+Atomics.wait+receiveMessageOnPort",
      raw: () => rawBlocking(raw[0]),
      goal: 1.2,
    },
  ];
  const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 7);
  const results: Result[] = [];
  for (const comparison of comparisons) results.push(await compare(comparison, { rounds, warmups: 2 }));
  for (const worker of raw) worker.worker.terminate();
  return results;
});

report(`Threads benchmark on ${runtime}: median of interleaved rounds, after 2 warm-up rounds`, results);
const pooled = results[1];
console.log(
  `\n${CALLS / 1000}k tiny calls on 2 workers: ${(1000 / pooled.oursPerOp).toFixed(0)} calls/s ` +
    `(raw pipelined: ${(1000 / pooled.rawPerOp).toFixed(0)} messages/s; ${formatPerOp(pooled.oursPerOp)} per call)`,
);
