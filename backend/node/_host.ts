/**
 * What Node gives the shared code: timers, yields, workers, and the networking driver
 * (its runtime calls are in `dns.ts`, `tcp.ts`, `tls.ts` and `udp.ts`).
 *
 * @module
 */

import type { Socket } from "node:net";
import { constants } from "node:os";
import diagnostics from "node:diagnostics_channel";
import process from "node:process";
import { clearTimeout, setImmediate, setTimeout } from "node:timers";
import { chainMacrotasks, DENO_TURN_IMMEDIATES } from "../_core/checkpoint.ts";
import type { MacrotaskScheduler, TimerHost } from "../_core/timers.ts";
import type { SignalHost } from "../_core/signal_receiver.ts";
import { diagnosticsChannels } from "../_core/instruments.ts";
import type { NetDriver } from "../_net/driver.ts";
import type { ThreadHost } from "../_threads/run_in_thread.ts";
import { eventSocketStream } from "../_net/push_connect.ts";
import type { RuntimeHost } from "../runtime_host.ts";
import * as dns from "./dns.ts";
import * as tcp from "./tcp.ts";
import * as tls from "./tls.ts";
import * as udp from "./udp.ts";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { getHeapStatistics } from "node:v8";
import { Worker } from "node:worker_threads";
import type { SpawnWorker, ThreadWorker } from "../_threads/pool.ts";
import { type EventedWorker, watchWorker } from "../_threads/evented_worker.ts";

// ---- Workers ----

/** The file of a bundler's CommonJS output, which has no `import.meta.url`; undeclared in ES modules. */
declare const __filename: string | undefined;

let entry: URL | undefined;

/**
 * The pool's worker entry: `_worker` beside this module. When a bundler has moved
 * this module (no such file beside the bundle, or no `import.meta.url` in its
 * CommonJS output), the entry of the installed package is used instead, found
 * from the bundle through `node_modules` by the package's `./backend/node`
 * export. With neither, an error says what to do.
 */
function workerEntry(): URL {
  if (entry !== undefined) return entry;
  if (typeof import.meta.url === "string") {
    // A literal `new URL("./x.ts", import.meta.url)`: the npm build makes it `./x.js`.
    const beside = new URL("./_worker.ts", import.meta.url);
    if (beside.protocol !== "file:" || existsSync(fileURLToPath(beside))) return entry = beside;
  }
  const door = packageDoor();
  return entry = new URL(`./_worker${door.slice(door.lastIndexOf("."))}`, door);
}

/** The URL of the installed package's `./backend/node` entry, resolved from this (bundled) module. */
function packageDoor(): string {
  try {
    // Literal specifiers, for the tools that analyze them.
    if (typeof import.meta.resolve === "function") {
      return import.meta.resolve("@easynetwork/async-backend/backend/node");
    }
    if (typeof __filename === "string") {
      return pathToFileURL(createRequire(__filename).resolve("@easynetwork/async-backend/backend/node")).href;
    }
  } catch {
    // Not installed beside the bundle: said below.
  }
  const where = typeof import.meta.url === "string"
    ? import.meta.url
    : typeof __filename === "string"
    ? __filename
    : "?";
  throw new Error(
    `The worker entry of @easynetwork/async-backend is not beside ${where}, and the package does not resolve ` +
      "from there: when bundling an app that runs code in worker threads, install @easynetwork/async-backend " +
      "beside the bundle (in its node_modules) or mark it as external",
  );
}

/** This isolate's heap limit in MiB. */
function loopHeapLimitMb(): number {
  return Math.ceil(getHeapStatistics().heap_size_limit / 2 ** 20);
}

/** Starts a worker thread running the pool's entry script. */
export const nodeSpawnWorker: SpawnWorker = (name, events): ThreadWorker => {
  // The loop's heap limit, explicitly: a worker without one that runs out of memory takes the whole process
  // down on Node 24 (and on Deno), where with one it ends alone with ERR_WORKER_OUT_OF_MEMORY.
  const resourceLimits = { maxOldGenerationSizeMb: loopHeapLimitMb() };
  const worker = new Worker(
    workerEntry(),
    { name, workerData: { name }, resourceLimits } as ConstructorParameters<typeof Worker>[1],
  );
  return watchWorker(worker as unknown as EventedWorker, events, versions.deno !== undefined);
};

/** Node's networking calls. */
export const nodeNet: NetDriver<Socket> = {
  resolve: dns.resolve,
  mapError: dns.mapError,
  anyAddress: tcp.anyAddress,
  connect: tcp.connect,
  close: tcp.close,
  remoteAddress: tcp.remoteAddress,
  stream: eventSocketStream,
  tcpConn: tcp.tcpConn,
  isPlainTcp: tcp.isPlainTcp,
  checkClientTls: tls.checkClientTls,
  startClientTls: tls.startClientTls,
  startServerTls: tls.startServerTls,
  acceptTls: tls.startServerTls,
  listen: (hostname, port, backlog, reusePort) => tcp.listen(hostname, port, backlog, reusePort),
  requireUdp: udp.requireUdp,
  openUdp: udp.openUdp,
  wrapUdp: udp.wrapUdp,
};

type NodeTimeout = ReturnType<typeof setTimeout>;

/**
 * One `MessageChannel` round per batch of yields: Node's cheapest macrotask
 * (about 1.3 µs, against about 1.7 µs for `setImmediate`), but not a turn of the
 * loop: Node runs the messages posted while it delivers messages in the same
 * round, up to 1,000, without running timers or polling I/O in between. The
 * backend's yield takes a full turn (`setImmediate`) at least once a
 * millisecond. One channel per thread, shared by every backend. The port is
 * referenced only while a yield is pending, so an idle channel keeps no process
 * (nor worker) alive.
 */
class ChannelYield {
  #queue: (() => void)[] = [];
  #channel: MessageChannel | null = null;

  schedule: MacrotaskScheduler = (callback) => {
    const queue = this.#queue;
    queue.push(callback);
    if (queue.length !== 1) return;
    const channel = this.#channel ??= this.#open();
    // Node's MessagePort has ref()/unref(); the DOM typings do not know them.
    (channel.port1 as unknown as { ref(): void }).ref();
    channel.port2.postMessage(null);
  };

  #open(): MessageChannel {
    const channel = new MessageChannel();
    channel.port1.onmessage = this.#drain;
    (channel.port1 as unknown as { unref(): void }).unref();
    return channel;
  }

  #drain = (): void => {
    const batch = this.#queue;
    this.#queue = [];
    (this.#channel!.port1 as unknown as { unref(): void }).unref();
    // Callbacks only resolve promises; a throwing one must not starve the rest.
    for (const callback of batch) {
      try {
        callback();
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  };
}

const versions: Record<string, string | undefined> = process.versions;
const immediate: MacrotaskScheduler = (callback) => void setImmediate(callback);

/**
 * The yields (why, with the figures: _core/checkpoint.ts).
 *
 * - Node: a channel round, and for a full turn two `setImmediate` rounds: the
 *   first ends the loop iteration under way (it may have been scheduled from the
 *   poll phase, where channel messages and I/O callbacks run), the second runs
 *   after the next iteration's timers and I/O poll.
 * - Deno (running this backend through its `node:` modules): `setImmediate`, and
 *   for a full turn a chain of them, as the Deno backend does. A `MessageChannel`
 *   is no use there: a long-lived `MessagePort` is a resource with a pending
 *   receive op, which Deno's `--sanitize-ops --sanitize-resources` report as a
 *   leak in whichever test first yields.
 * - Bun: `setImmediate` alone, as before (not measured).
 */
const yields: Pick<RuntimeHost, "yieldMacrotask" | "yieldTurn" | "yieldMacrotasksPerTurn"> = versions.deno !== undefined
  ? {
    yieldMacrotask: immediate,
    yieldTurn: chainMacrotasks(immediate, DENO_TURN_IMMEDIATES),
    yieldMacrotasksPerTurn: DENO_TURN_IMMEDIATES,
  }
  : versions.bun !== undefined
  ? { yieldMacrotask: immediate }
  : { yieldMacrotask: new ChannelYield().schedule, yieldTurn: chainMacrotasks(immediate, 2) };

/**
 * Node's timers (`node:timers`, which can be unreferenced): the one timer host
 * of the backend, its deadlines, sleeps and handshake bounds, and of its worker
 * pools' idle sweeps.
 */
export const nodeTimers: TimerHost = {
  now: () => performance.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms),
  clearTimer: (id) => clearTimeout(id as NodeTimeout),
  refTimer: (id, ref) => ref ? (id as NodeTimeout).ref() : (id as NodeTimeout).unref(),
};

/** Node's workers and timers for the per-runner pool. */
export const nodeThreadHost: ThreadHost = { spawn: nodeSpawnWorker, timers: nodeTimers };

/**
 * Node's signal listeners, on `process`. Node takes any event name, so an
 * unknown signal is refused here; it refuses `SIGKILL` and `SIGSTOP` itself.
 */
export const nodeSignals: SignalHost = {
  add(signal, listener) {
    if (!Object.hasOwn(constants.signals, signal)) throw new TypeError(`Unknown signal ${signal}`);
    process.on(signal, listener);
  },
  remove: (signal, listener) => void process.off(signal, listener),
};

/** Node's host (also for Deno and Bun running this backend through their `node:` modules). */
export const nodeHost: RuntimeHost = {
  timers: nodeTimers,
  ...yields,
  net: nodeNet,
  threads: nodeThreadHost,
  signals: nodeSignals,
  diagnostics: diagnosticsChannels(diagnostics.channel),
  env: (name) => process.env[name],
};
