/**
 * What Deno gives the shared code: timers, yields, workers, and the networking driver
 * (its runtime calls are in `dns.ts`, `tcp.ts`, `tls.ts` and `udp.ts`).
 *
 * @module
 */

import { chainMacrotasks, DENO_TURN_IMMEDIATES } from "../_core/checkpoint.ts";
import type { TimerHost } from "../_core/timers.ts";
import type { SignalHost } from "../_core/signal_receiver.ts";
import type { NetDriver } from "../_net/driver.ts";
import type { ThreadHost } from "../_threads/run_in_thread.ts";
import type { RuntimeHost } from "../base_backend.ts";
import * as dns from "./dns.ts";
import * as tcp from "./tcp.ts";
import * as tls from "./tls.ts";
import * as udp from "./udp.ts";
import type { SpawnWorker, ThreadWorker } from "../_threads/pool.ts";
import type { FromWorker, ToWorker, TransferItem } from "../_threads/protocol.ts";

// ---- Workers ----

// A literal `new URL("./x.ts", import.meta.url)`: the npm build rewrites `.ts` to `.js`.
const ENTRY = new URL("./_worker.ts", import.meta.url);

/** Starts a Web Worker running the pool's entry script. */
export const denoSpawnWorker: SpawnWorker = (name, events): ThreadWorker => {
  const worker = new Worker(ENTRY, { type: "module", name });
  let gone = false;
  const die = (reason: string): void => {
    if (gone) return;
    gone = true;
    events.died(reason);
  };
  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    if (!gone) events.message(event.data);
  };
  worker.onerror = (event: ErrorEvent) => {
    // Handled here: an uncaught error in a worker must not take the loop down.
    event.preventDefault();
    die(event.message || "uncaught error");
  };
  worker.onmessageerror = () => die("a message from the worker could not be deserialized");
  return {
    postMessage(message: ToWorker, transfer: TransferItem[]): void {
      worker.postMessage(message, transfer);
    },
    terminate(): void {
      gone = true;
      worker.terminate();
    },
  };
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
  env: denoEnv,
};
