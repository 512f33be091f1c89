/**
 * The Node backend.
 *
 * @module
 */

import process from "node:process";
import { clearTimeout, setImmediate, setTimeout } from "node:timers";
import type {
  AsyncDatagramSocketAdapter,
  AsyncHalfCloseableStreamSocketAdapter,
  AsyncListenerSocketAdapter,
  AsyncStreamSocketAdapter,
  TcpConnectionOptions,
  TcpListenerOptions,
  TlsConnectionOptions,
  TlsListenerOptions,
  TlsOptions,
  TlsWrapOptions,
  UdpEndpointOptions,
} from "../abc/socket.ts";
import type { AnyFunction, ThreadFunction, ThreadsPortal } from "../abc/threads.ts";
import type { MacrotaskScheduler } from "../common/checkpoint.ts";
import { CoreBackend, type RuntimeHost } from "../common/core_backend.ts";

type NodeTimeout = ReturnType<typeof setTimeout>;

/**
 * One `MessageChannel` round per batch of yields: Node's cheapest macrotask
 * (about 1 µs, against about 3 µs for `setImmediate`, which waits for a whole
 * event-loop turn). One channel per thread, shared by every backend. The port is
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

/**
 * The macrotask yield: a channel round on Node; on Deno and Bun (running this
 * backend through their `node:` modules) `setImmediate`, which is their cheapest
 * macrotask. On Deno it also keeps the test sanitizers quiet: a long-lived
 * `MessagePort` is a resource with a pending receive op, which Deno's
 * `--sanitize-ops --sanitize-resources` report as a leak in whichever test
 * first yields.
 */
const yieldMacrotask: MacrotaskScheduler = versions.deno === undefined && versions.bun === undefined
  ? new ChannelYield().schedule
  : (callback) => void setImmediate(callback);

const nodeHost: RuntimeHost = {
  timers: {
    now: () => performance.now(),
    setTimer: (callback, ms) => setTimeout(callback, ms),
    clearTimer: (id) => clearTimeout(id as NodeTimeout),
    refTimer: (id, ref) => ref ? (id as NodeTimeout).ref() : (id as NodeTimeout).unref(),
  },
  yieldMacrotask,
};

function notYetAvailable(method: string, area: string): Error {
  return new Error(`${method}() is not yet available on the Node backend: it is delivered with ${area}`);
}

const NETWORKING = "the Node networking work (issue #6)";
const THREADS = "the Node worker-thread work (issue #6)";

/**
 * The backend for Node (20 and later): the shared cancellation core on Node's
 * timers, with `node:net`, `node:tls` and `node:dgram` for networking and
 * `node:worker_threads` for threads. It also runs on Deno and Bun, through their
 * `node:` modules.
 *
 * @example Run a task group with a timeout
 * ```ts
 * import { NodeBackend } from "@easynetwork/async-backend/backend/node";
 *
 * const backend = new NodeBackend();
 * const result = await backend.bootstrap(async () => {
 *   return await backend.moveOnAfter(50, async () => {
 *     await backend.createTaskGroup(async (tg) => {
 *       tg.startSoon(() => backend.sleep(10));
 *     });
 *     return "done";
 *   });
 * });
 * console.log(result); // "done"
 * ```
 */
export class NodeBackend extends CoreBackend {
  /** Creates the backend. It holds no resource until a runner is started. */
  constructor() {
    super(nodeHost);
  }

  /** Opens a TCP connection (not yet available). */
  createTcpConnection(
    _host: string,
    _port: number,
    _options?: TcpConnectionOptions,
  ): Promise<AsyncHalfCloseableStreamSocketAdapter> {
    return Promise.reject(notYetAvailable("createTcpConnection", NETWORKING));
  }

  /** Opens a TLS connection (not yet available). */
  createSslOverTcpConnection(
    _host: string,
    _port: number,
    _tls: TlsOptions,
    _options?: TlsConnectionOptions,
  ): Promise<AsyncStreamSocketAdapter> {
    return Promise.reject(notYetAvailable("createSslOverTcpConnection", NETWORKING));
  }

  /** Wraps a connected `net.Socket` (not yet available). */
  wrapTcpClientSocket(_conn: unknown): Promise<AsyncHalfCloseableStreamSocketAdapter> {
    return Promise.reject(notYetAvailable("wrapTcpClientSocket", NETWORKING));
  }

  /** Upgrades a connected `net.Socket` to TLS (not yet available). */
  wrapSslOverTcpClientSocket(
    _conn: unknown,
    _tls: TlsOptions,
    _options: TlsWrapOptions,
  ): Promise<AsyncStreamSocketAdapter> {
    return Promise.reject(notYetAvailable("wrapSslOverTcpClientSocket", NETWORKING));
  }

  /** Opens TCP listeners (not yet available). */
  createTcpListeners(
    _host: string | readonly string[] | null,
    _port: number,
    _backlog: number,
    _options?: TcpListenerOptions,
  ): Promise<AsyncListenerSocketAdapter[]> {
    return Promise.reject(notYetAvailable("createTcpListeners", NETWORKING));
  }

  /** Opens TLS listeners (not yet available). */
  createSslOverTcpListeners(
    _host: string | readonly string[] | null,
    _port: number,
    _backlog: number,
    _tls: TlsOptions,
    _options?: TlsListenerOptions,
  ): Promise<AsyncListenerSocketAdapter[]> {
    return Promise.reject(notYetAvailable("createSslOverTcpListeners", NETWORKING));
  }

  /** Opens a UDP endpoint (not yet available). */
  createUdpEndpoint(_options?: UdpEndpointOptions): Promise<AsyncDatagramSocketAdapter> {
    return Promise.reject(notYetAvailable("createUdpEndpoint", NETWORKING));
  }

  /** Wraps a `dgram.Socket` (not yet available). */
  wrapUdpSocket(_sock: unknown): Promise<AsyncDatagramSocketAdapter> {
    return Promise.reject(notYetAvailable("wrapUdpSocket", NETWORKING));
  }

  /** Runs a function in a worker (not yet available). */
  runInThread<F extends AnyFunction>(
    _fn: ThreadFunction<F>,
    ..._args: Parameters<F>
  ): Promise<Awaited<ReturnType<F>>> {
    return Promise.reject(notYetAvailable("runInThread", THREADS));
  }

  /** Creates a threads portal (not yet available). */
  createThreadsPortal<F extends Record<string, AnyFunction>>(_functions: F): ThreadsPortal<F> {
    throw notYetAvailable("createThreadsPortal", THREADS);
  }
}
