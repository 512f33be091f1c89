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
  TlsServerWrapOptions,
  TlsWrapOptions,
  UdpEndpointOptions,
} from "../abc/socket.ts";
import type { AnyFunction, ThreadFunction, ThreadsPortal } from "../abc/threads.ts";
import { chainMacrotasks, DENO_TURN_IMMEDIATES } from "../_core/checkpoint.ts";
import { BaseAsyncBackend, type RuntimeHost } from "../base_backend.ts";
import * as connect from "./connect.ts";
import * as datagram from "./udp.ts";
import * as listener from "./listener_socket.ts";
import * as starttls from "./starttls_server.ts";
import * as threads from "./threads.ts";

const denoHost: RuntimeHost = {
  timers: {
    now: () => performance.now(),
    setTimer: (callback, ms) => setTimeout(callback, ms),
    clearTimer: (id) => clearTimeout(id as number),
    refTimer: (id, ref) => ref ? Deno.refTimer(id as number) : Deno.unrefTimer(id as number),
  },
  // setImmediate is Deno's cheapest macrotask (about 1.3 µs) but polls I/O only one
  // round in 61; a full turn chains 64 of them (about 80 µs), where setTimeout(0)
  // takes 1 to 2 ms. Why, with the figures: common/checkpoint.ts.
  yieldMacrotask: (callback) => void setImmediate(callback),
  yieldTurn: chainMacrotasks((callback) => void setImmediate(callback), DENO_TURN_IMMEDIATES),
  yieldMacrotasksPerTurn: DENO_TURN_IMMEDIATES,
};

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
export class DenoBackend extends BaseAsyncBackend {
  /** Creates the backend. It holds no resource until a runner is started. */
  constructor() {
    super(denoHost);
  }

  /** Opens a TCP connection, racing every resolved address (RFC 8305). */
  createTcpConnection(
    host: string,
    port: number,
    options?: TcpConnectionOptions,
  ): Promise<AsyncHalfCloseableStreamSocketAdapter> {
    return connect.createTcpConnection(host, port, options);
  }

  /** Opens a TLS connection over TCP (`Deno.startTls` after the Happy Eyeballs race). */
  createSslOverTcpConnection(
    host: string,
    port: number,
    tls: TlsOptions,
    options?: TlsConnectionOptions,
  ): Promise<AsyncStreamSocketAdapter> {
    return connect.createSslOverTcpConnection(host, port, tls, options);
  }

  /** Takes ownership of a connected `Deno.TcpConn`. */
  wrapTcpClientSocket(conn: unknown): Promise<AsyncHalfCloseableStreamSocketAdapter> {
    return connect.wrapTcpClientSocket(conn);
  }

  /** Upgrades a connected `Deno.TcpConn` to TLS as a client (`Deno.startTls`). */
  wrapSslOverTcpClientSocket(
    conn: unknown,
    tls: TlsOptions,
    options: TlsWrapOptions,
  ): Promise<AsyncStreamSocketAdapter> {
    return connect.wrapSslOverTcpClientSocket(conn, tls, options);
  }

  /**
   * Upgrades an accepted plain connection to TLS as the server (server-side
   * STARTTLS). Deno has no API for it, so this one method uses Deno's `node:tls`.
   * `conn` is a `Deno.TcpConn` or a stream adapter of this backend that was never
   * read from.
   */
  wrapSslOverTcpServerSocket(
    conn: unknown,
    tls: TlsOptions,
    options?: TlsServerWrapOptions,
  ): Promise<AsyncStreamSocketAdapter> {
    return starttls.wrapSslOverTcpServerSocket(conn, tls, options);
  }

  /** Opens one TCP listener per bound address; `host` `null` means every interface. */
  createTcpListeners(
    host: string | readonly string[] | null,
    port: number,
    backlog: number,
    options?: TcpListenerOptions,
  ): Promise<AsyncListenerSocketAdapter[]> {
    return listener.createTcpListeners(host, port, backlog, options);
  }

  /** Opens TLS listeners; the handshake happens in `AcceptedSocket.connect()`. */
  createSslOverTcpListeners(
    host: string | readonly string[] | null,
    port: number,
    backlog: number,
    tls: TlsOptions,
    options?: TlsListenerOptions,
  ): Promise<AsyncListenerSocketAdapter[]> {
    return listener.createSslOverTcpListeners(host, port, backlog, tls, options);
  }

  /** Opens a UDP endpoint (needs `--unstable-net`). */
  createUdpEndpoint(options?: UdpEndpointOptions): Promise<AsyncDatagramSocketAdapter> {
    return datagram.createUdpEndpoint(options);
  }

  /** Takes ownership of a UDP `Deno.DatagramConn` (needs `--unstable-net`). */
  wrapUdpSocket(sock: unknown): Promise<AsyncDatagramSocketAdapter> {
    return datagram.wrapUdpSocket(sock);
  }

  /**
   * Runs `fn(...args)` in a Web Worker of the runner's pool (see `threadModule`).
   * Rejects with a `TypeError` for a plain function: workers cannot receive closures.
   */
  runInThread<F extends AnyFunction>(
    fn: ThreadFunction<F>,
    ...args: Parameters<F>
  ): Promise<Awaited<ReturnType<F>>> {
    return threads.runInThread(fn, args);
  }

  /** Creates a portal over loop functions, to pass to `runInThread` as an argument. */
  createThreadsPortal<F extends Record<string, AnyFunction>>(functions: F): ThreadsPortal<F> {
    return threads.createThreadsPortal(functions);
  }
}

threads.registerThreadHost(DenoBackend);
