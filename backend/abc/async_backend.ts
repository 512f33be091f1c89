/**
 * The `AsyncBackend` contract.
 *
 * @module
 */

import type { MemoryReceiveChannel, MemorySendChannel } from "./channel.ts";
import type {
  ConnectionHandler,
  ServeOptions,
  ServeTcpOptions,
  ServeTlsOptions,
  TcpConnectionHandler,
} from "./serve.ts";
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
} from "./socket.ts";
import type { CapacityLimiter, Condition, Event, Lock, Semaphore, SemaphoreOptions } from "./sync.ts";
import type { AnyFunction, CancellableFuture, ThreadFunction, ThreadsPortal } from "./threads.ts";
import { AsyncBackendCore } from "./async_backend_core.ts";

/**
 * An asynchronous backend: runners, tasks, cancellation, timeouts, sockets,
 * synchronization primitives and threads, with one API on every runtime.
 *
 * Time is in milliseconds; `Infinity` means no deadline. Every `await` of this
 * API is a checkpoint where cancellation is delivered.
 */
export abstract class AsyncBackend extends AsyncBackendCore {
  // ---- Networking ----

  /** Opens a TCP connection, trying every resolved address (RFC 8305). */
  abstract createTcpConnection(
    host: string,
    port: number,
    options?: TcpConnectionOptions,
  ): Promise<AsyncHalfCloseableStreamSocketAdapter>;
  /** Opens a TLS connection over TCP. */
  abstract createSslOverTcpConnection(
    host: string,
    port: number,
    tls: TlsOptions,
    options?: TlsConnectionOptions,
  ): Promise<AsyncStreamSocketAdapter>;
  /** Takes ownership of a connected runtime TCP socket. */
  abstract wrapTcpClientSocket(conn: unknown): Promise<AsyncHalfCloseableStreamSocketAdapter>;
  /** Upgrades a connected runtime TCP socket to TLS (client STARTTLS). */
  abstract wrapSslOverTcpClientSocket(
    conn: unknown,
    tls: TlsOptions,
    options: TlsWrapOptions,
  ): Promise<AsyncStreamSocketAdapter>;
  /**
   * Upgrades an accepted plain connection (a runtime TCP socket or a plain
   * stream adapter of this backend) to TLS as the server (server STARTTLS).
   */
  abstract wrapSslOverTcpServerSocket(
    conn: unknown,
    tls: TlsOptions,
    options?: TlsServerWrapOptions,
  ): Promise<AsyncStreamSocketAdapter>;
  /** Opens one TCP listener per bound address; `host` `null` means every interface. */
  abstract createTcpListeners(
    host: string | readonly string[] | null,
    port: number,
    backlog: number,
    options?: TcpListenerOptions,
  ): Promise<AsyncListenerSocketAdapter[]>;
  /** Like {@linkcode AsyncBackend.createTcpListeners}; the handshake happens in `AcceptedSocket.connect()`. */
  abstract createSslOverTcpListeners(
    host: string | readonly string[] | null,
    port: number,
    backlog: number,
    tls: TlsOptions,
    options?: TlsListenerOptions,
  ): Promise<AsyncListenerSocketAdapter[]>;
  /** Opens a UDP endpoint. */
  abstract createUdpEndpoint(options?: UdpEndpointOptions): Promise<AsyncDatagramSocketAdapter>;
  /** Takes ownership of a runtime UDP socket. */
  abstract wrapUdpSocket(sock: unknown): Promise<AsyncDatagramSocketAdapter>;

  // ---- Synchronization ----

  /** Creates a FIFO-fair lock. */
  abstract createLock(): Lock;
  /** Creates an event. */
  abstract createEvent(): Event;
  /** Creates a condition variable over `lock` (a lock of this backend) or a new lock. */
  abstract createConditionVar(lock?: Lock): Condition;

  // ---- Threads ----

  /** Runs a worker-module function in a pooled worker thread. */
  abstract runInThread<F extends AnyFunction>(
    fn: ThreadFunction<F>,
    ...args: Parameters<F>
  ): Promise<Awaited<ReturnType<F>>>;
  /** Creates a portal over loop-thread functions, to pass to a worker. */
  abstract createThreadsPortal<F extends Record<string, AnyFunction>>(functions: F): ThreadsPortal<F>;
  /**
   * Awaits a promise-like as a checkpoint; when the waiter is cancelled, the
   * future's `cancel()` is called.
   */
  abstract waitFuture<T>(future: CancellableFuture<T>): Promise<T>;

  // ---- Semaphores and capacity limiters ----

  /**
   * Creates a FIFO-fair counting semaphore (Trio's `Semaphore`) with `initial`
   * free tokens.
   *
   * @param initial The number of free tokens at first: a non-negative integer.
   * @param options `max`: the largest value the semaphore may reach, an integer
   *   at least `initial` (default `Infinity`); a release beyond it throws a
   *   `RangeError`.
   * @throws {TypeError} if `initial` or `max` is not a number, or `options` has
   *   another option.
   * @throws {RangeError} if `initial` is not a non-negative integer, or `max` is
   *   not an integer at least `initial` or `Infinity`.
   *
   * @example
   * ```ts
   * import { AsyncBackendFactory } from "@easynetwork/async-backend/factory";
   *
   * const backend = AsyncBackendFactory.new();
   * await backend.bootstrap(async () => {
   *   const semaphore = backend.createSemaphore(1, { max: 1 });
   *   {
   *     using _token = await semaphore.acquire();
   *     console.log(semaphore.value, semaphore.tryAcquire()); // 0 false
   *   }
   *   console.log(semaphore.value); // 1
   * });
   * ```
   */
  abstract createSemaphore(initial: number, options?: SemaphoreOptions): Semaphore;

  /**
   * Creates a FIFO-fair capacity limiter lending `totalTokens` tokens, one per
   * borrower (Trio's and AnyIO's `CapacityLimiter`; the contract says where
   * they differ and which this follows).
   *
   * @param totalTokens How many tokens may be out at once: an integer at least
   *   1, or `Infinity`; settable later as `limiter.totalTokens`.
   * @throws {TypeError} if `totalTokens` is not a number.
   * @throws {RangeError} if `totalTokens` is not an integer at least 1 or `Infinity`.
   *
   * @example
   * ```ts
   * import { AsyncBackendFactory } from "@easynetwork/async-backend/factory";
   *
   * const backend = AsyncBackendFactory.new();
   * await backend.bootstrap(async () => {
   *   const limiter = backend.createCapacityLimiter(4);
   *   const job = {};
   *   using _token = await limiter.acquireOnBehalfOf(job);
   *   console.log(limiter.borrowedTokens, limiter.availableTokens); // 1 3
   * });
   * ```
   */
  abstract createCapacityLimiter(totalTokens: number): CapacityLimiter;

  // ---- Channels ----

  /**
   * Creates a memory channel: a send end and a receive end that pass items of
   * type `T` between tasks, first in, first out, with backpressure (Trio's
   * `open_memory_channel`, AnyIO's `create_memory_object_stream`).
   *
   * The two ends come as a tuple, as in Trio: they are separate objects because
   * they usually go to different tasks, each closes its own end when done (the
   * receivers see the end of the channel once every send end is closed, the
   * senders a broken channel once every receive end is), and each end can be
   * cloned for more producers or consumers. Destructuring names them:
   * `const [send, receive] = backend.createMemoryChannel<T>(n)`.
   *
   * @example
   * ```ts
   * import { AsyncBackendFactory } from "@easynetwork/async-backend/factory";
   *
   * const backend = AsyncBackendFactory.new();
   * await backend.bootstrap(async () => {
   *   const [send, receive] = backend.createMemoryChannel<string>(0); // rendezvous
   *   await backend.createTaskGroup((tg) => {
   *     tg.startSoon(async () => {
   *       await using _ = send;
   *       await send.send("hello"); // returns once the consumer took it
   *     });
   *     tg.startSoon(async () => {
   *       console.log(await receive.receive()); // "hello"
   *     });
   *   });
   * });
   * ```
   *
   * @param maxBufferSize How many items the channel holds with no receiver
   *   waiting: `0` (a rendezvous: a send waits until a receiver takes its item),
   *   a positive integer, or `Infinity` (sends never wait).
   * @throws {TypeError} if `maxBufferSize` is not a number.
   * @throws {RangeError} if `maxBufferSize` is negative, NaN, or a finite non-integer.
   */
  abstract createMemoryChannel<T>(maxBufferSize: number): [MemorySendChannel<T>, MemoryReceiveChannel<T>];

  // ---- Servers ----

  /**
   * Serves connections on `listeners` until cancelled: an accept loop per
   * listener, and a task per connection that runs `handler(stream)` and closes
   * the stream when the handler ends (returns or throws). All of them run in one
   * task group inside this call.
   *
   * - A handler's error goes to `options.onError(error, stream)` while the
   *   stream is still open (default: `console.error` with the peer's address);
   *   the server goes on. So does a connection whose setup (a TLS handshake)
   *   failed, reported with `stream` `null`. What `onError` throws stops the
   *   server with that error.
   * - An accept error that concerns one connection (`ECONNABORTED`, ...) is
   *   skipped; one of a process out of resources (`EMFILE`, `ENFILE`,
   *   `ENOBUFS`, `ENOMEM`) is reported to `onError` (with `stream` `null`) and
   *   accepting resumes 100 ms later; any other error of a listener (it failed,
   *   or someone closed it: `ClosedResourceError`) cancels the handlers and
   *   rejects the call with it.
   * - Cancelling the call stops accepting, cancels every handler (its next
   *   checkpoint rejects with `CancelledError`) and closes every connection.
   * - The call owns `listeners`: it closes them when it ends, however it ends
   *   (as Trio's `serve_listeners` does).
   * - `options.taskStatus`: see {@linkcode ServeOptions.taskStatus}.
   *
   * @param handler Serves one connection.
   * @param listeners The listeners, not empty.
   * @param options `onError` and `taskStatus`.
   * @returns Never resolves; rejects with the error that stopped the server.
   *
   * @example
   * ```ts
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * await backend.bootstrap(async () => {
   *   const listeners = await backend.createTcpListeners("127.0.0.1", 0, 16);
   *   const port = listeners[0].getLocalAddress().port;
   *   await backend.createTaskGroup(async (tg) => {
   *     tg.startSoon(() => backend.serveListeners((stream) => stream.sendall(new TextEncoder().encode("hi")), listeners));
   *     await using client = await backend.createTcpConnection("127.0.0.1", port);
   *     console.log(new TextDecoder().decode(await client.recv(16))); // "hi"
   *     tg.cancelScope.cancel(); // stops the server; its listeners are closed
   *   });
   * });
   * ```
   */
  abstract serveListeners(
    handler: ConnectionHandler,
    listeners: readonly AsyncListenerSocketAdapter[],
    options?: ServeOptions,
  ): Promise<never>;
  /**
   * Listens on `port` with {@linkcode AsyncBackend.createTcpListeners} (`host`
   * `null` and backlog 511 unless `options` say otherwise) and serves the
   * connections with {@linkcode AsyncBackend.serveListeners} until cancelled.
   * With `tg.start()` and `options.taskStatus`, the caller gets the listeners
   * (and so the port of port `0`) once the server accepts.
   *
   * @param handler Serves one connection (a stream that can close its write side alone).
   * @param port The port, `0` for one the system picks.
   * @param options Where to listen, `onError` and `taskStatus`.
   * @returns Never resolves; rejects with the error that stopped the server.
   *
   * @example
   * ```ts
   * import type { ServeStatus } from "@easynetwork/async-backend/backend";
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * await backend.bootstrap(async () => {
   *   await backend.createTaskGroup(async (tg) => {
   *     const [listener] = await tg.start((status: ServeStatus) =>
   *       backend.serveTcp(async (stream) => {
   *         for (let data; (data = await stream.recv(1024)).length > 0;) await stream.sendall(data);
   *       }, 0, { host: "127.0.0.1", taskStatus: status })
   *     );
   *     await using client = await backend.createTcpConnection("127.0.0.1", listener.getLocalAddress().port);
   *     await client.sendall(new TextEncoder().encode("echo"));
   *     console.log(new TextDecoder().decode(await client.recv(16))); // "echo"
   *     tg.cancelScope.cancel();
   *   });
   * });
   * ```
   */
  abstract serveTcp(handler: TcpConnectionHandler, port: number, options?: ServeTcpOptions): Promise<never>;
  /**
   * Like {@linkcode AsyncBackend.serveTcp} over TLS: listens with
   * {@linkcode AsyncBackend.createSslOverTcpListeners}; each connection's
   * handshake (bounded by `options.sslHandshakeTimeout`) runs in its own task,
   * and a failed one goes to `onError` with `stream` `null`.
   *
   * @param handler Serves one connection.
   * @param port The port, `0` for one the system picks.
   * @param tls The server's certificate chain and key (and ALPN protocols).
   * @param options Where to listen, the handshake bound, `onError` and `taskStatus`.
   * @returns Never resolves; rejects with the error that stopped the server.
   *
   * @example
   * ```ts ignore
   * import { readFileSync } from "node:fs";
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * const tls = { cert: readFileSync("cert.pem", "utf8"), key: readFileSync("key.pem", "utf8") };
   * await backend.bootstrap(() =>
   *   backend.serveTls((stream) => stream.sendall(new TextEncoder().encode("hello over TLS\n")), 8443, tls)
   * );
   * ```
   */
  abstract serveTls(
    handler: ConnectionHandler,
    port: number,
    tls: TlsOptions,
    options?: ServeTlsOptions,
  ): Promise<never>;
}
