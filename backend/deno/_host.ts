/**
 * What Deno gives the shared code: timers, yields, workers, and the networking driver
 * (its runtime calls are in `dns.ts`, `tcp.ts`, `tls.ts` and `udp.ts`).
 *
 * @module
 */

import { chainMacrotasks, DENO_TURN_IMMEDIATES } from "../_core/checkpoint.ts";
import type { TimerHost } from "../_core/timers.ts";
import type { SignalHost } from "../_core/signal_receiver.ts";
import { denoDiagnostics } from "./_diagnostics.ts";
import type { NetDriver } from "../_net/driver.ts";
import type { ThreadHost } from "../_threads/run_in_thread.ts";
import type { RuntimeHost } from "../base_backend.ts";
import * as dns from "./dns.ts";
import * as tcp from "./tcp.ts";
import * as tls from "./tls.ts";
import * as udp from "./udp.ts";
import type { SpawnWorker, ThreadWorker } from "../_threads/pool.ts";
import { type EventedWorker, watchWorker } from "../_threads/evented_worker.ts";
import type * as NodeV8Module from "node:v8";
import type * as NodeWorkerThreadsModule from "node:worker_threads";

// ---- Workers ----

// A literal `new URL("./x.ts", import.meta.url)`: the npm build rewrites `.ts` to `.js`.
const ENTRY = new URL("./_worker.ts", import.meta.url);

type NodeWorkerThreads = typeof NodeWorkerThreadsModule;

let workerThreads: NodeWorkerThreads | undefined;
let heapLimitMb = 0;

/**
 * Deno's `node:worker_threads`, loaded on the first worker (a static import
 * would load Deno's Node layer in every program, 16 to 40 ms at startup), and
 * the heap limit the workers get: this isolate's own.
 */
function nodeWorkers(): NodeWorkerThreads {
  if (workerThreads === undefined) {
    const process = (globalThis as unknown as { process: { getBuiltinModule(id: string): unknown } }).process;
    workerThreads = process.getBuiltinModule("node:worker_threads") as NodeWorkerThreads;
    const v8 = process.getBuiltinModule("node:v8") as typeof NodeV8Module;
    heapLimitMb = Math.ceil(v8.getHeapStatistics().heap_size_limit / 2 ** 20);
  }
  return workerThreads;
}

/**
 * Starts a worker on Deno's `node:worker_threads` running the pool's entry
 * script, rather than a Web Worker: in Deno 2.9 a Web Worker's `terminate()`
 * leaves a busy worker spinning (the process never exits) and a Web Worker out
 * of memory takes the whole process down, where a `node:worker_threads` worker
 * stops at once and, given a heap limit (`resourceLimits`, here the loop
 * isolate's own, so the same budget as before), reports
 * `ERR_WORKER_OUT_OF_MEMORY` and goes away alone. Its constructor blocks the
 * loop longer (30 to 60 ms against 10 to 25 ms). The figures: README, "Threads".
 */
export const denoSpawnWorker: SpawnWorker = (name, events): ThreadWorker => {
  const { Worker } = nodeWorkers();
  const worker = new Worker(ENTRY, { name, resourceLimits: { maxOldGenerationSizeMb: heapLimitMb } });
  return watchWorker(worker as unknown as EventedWorker, events, true);
};

/** Deno's networking calls. Deno's binds are synchronous; the shared code awaits them all the same. */
export const denoNet: NetDriver<tcp.DenoConn> = {
  resolve: dns.resolve,
  mapError: dns.mapError,
  anyAddress: async () => tcp.anyAddress(),
  connect: tcp.connect,
  close: tcp.close,
  remoteAddress: tcp.remoteAddress,
  stream: (conn) => tcp.stream(conn),
  tcpConn: tcp.tcpConn,
  isPlainTcp: tcp.isPlainTcp,
  checkClientTls: tls.checkClientTls,
  startClientTls: tls.startClientTls,
  startServerTls: tls.startServerTls,
  acceptTls: tls.acceptTls,
  listen: async (hostname, port, backlog, reusePort, options) =>
    options === null
      ? tcp.listen(hostname, port, backlog, reusePort)
      : tls.listenTls(hostname, port, backlog, reusePort, options),
  requireUdp: udp.requireUdp,
  openUdp: async (local, remote, reusePort) => udp.openUdp(local, remote, reusePort),
  wrapUdp: udp.wrapUdp,
};

/**
 * Deno's timers: the web platform's (_core/timers.ts), which Deno lets
 * unreference. The one timer host of the backend, its deadlines, sleeps and
 * handshake bounds, and of its worker pools' idle sweeps.
 */
export const denoTimers: TimerHost = {
  now: () => performance.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms),
  clearTimer: (id) => clearTimeout(id as number),
  refTimer: (id, ref) => ref ? Deno.refTimer(id as number) : Deno.unrefTimer(id as number),
};

/** Deno's workers and timers for the per-runner pool. */
export const denoThreadHost: ThreadHost = { spawn: denoSpawnWorker, timers: denoTimers };

/** Deno's signal listeners; Deno rejects unknown names and `SIGKILL`/`SIGSTOP` with a `TypeError`. */
export const denoSignals: SignalHost = {
  add: (signal, listener) => Deno.addSignalListener(signal as Deno.Signal, listener),
  remove: (signal, listener) => Deno.removeSignalListener(signal as Deno.Signal, listener),
};

/** Reads an environment variable when `--allow-env` grants it (no prompt); else `undefined`. */
export function denoEnv(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") return undefined;
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** Deno's host. */
export const denoHost: RuntimeHost = {
  timers: denoTimers,
  // setImmediate is Deno's cheapest macrotask (about 1.3 µs) but polls I/O only one
  // round in 61; a full turn chains 64 of them (about 80 µs), where setTimeout(0)
  // takes 1 to 2 ms. Why, with the figures: _core/checkpoint.ts.
  yieldMacrotask: (callback) => void setImmediate(callback),
  yieldTurn: chainMacrotasks((callback) => void setImmediate(callback), DENO_TURN_IMMEDIATES),
  yieldMacrotasksPerTurn: DENO_TURN_IMMEDIATES,
  net: denoNet,
  threads: denoThreadHost,
  signals: denoSignals,
  diagnostics: denoDiagnostics,
  env: denoEnv,
};
