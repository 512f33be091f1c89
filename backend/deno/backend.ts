/**
 * The Deno backend.
 *
 * @module
 */

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
import { CoreBackend, type RuntimeHost } from "../common/core_backend.ts";

const denoHost: RuntimeHost = {
  timers: {
    now: () => performance.now(),
    setTimer: (callback, ms) => setTimeout(callback, ms),
    clearTimer: (id) => clearTimeout(id as number),
    refTimer: (id, ref) => ref ? Deno.refTimer(id as number) : Deno.unrefTimer(id as number),
  },
  // setImmediate is Deno's cheapest macrotask (about 1 µs), far below setTimeout(0).
  yieldMacrotask: (callback) => void setImmediate(callback),
};

function notYetAvailable(method: string, area: string): Error {
  return new Error(`${method}() is not yet available on the Deno backend: it is delivered with ${area}`);
}

const NETWORKING = "the Deno networking work (issue #4)";
const THREADS = "the worker-thread work (issue #5)";

/**
 * The backend for Deno: the shared cancellation core on Deno's timers, with
 * `Deno.connect`, `Deno.listen` and friends for networking and Web Workers for
 * threads.
 *
 * @example Run a task group with a timeout
 * ```ts
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 *
 * const backend = new DenoBackend();
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
export class DenoBackend extends CoreBackend {
  /** Creates the backend. It holds no resource until a runner is started. */
  constructor() {
    super(denoHost);
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

  /** Wraps a `Deno.TcpConn` (not yet available). */
  wrapTcpClientSocket(_conn: unknown): Promise<AsyncHalfCloseableStreamSocketAdapter> {
    return Promise.reject(notYetAvailable("wrapTcpClientSocket", NETWORKING));
  }

  /** Upgrades a `Deno.TcpConn` to TLS (not yet available). */
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

  /** Wraps a `Deno.DatagramConn` (not yet available). */
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
