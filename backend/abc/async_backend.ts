/**
 * The `AsyncBackend` contract.
 *
 * @module
 */

import { CancelledError } from "../errors.ts";
import type { CancelScope, CancelScopeOptions, TimeoutHandle } from "./cancel_scope.ts";
import type { SignalReceiver } from "./signals.ts";
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
import type { Runner, SystemTask, TaskFunction, TaskGroup } from "./tasks.ts";
import type { TaskTree } from "./diagnostics.ts";
import type { RunnerOptions } from "./leaks.ts";
import type { AnyFunction, CancellableFuture, ThreadFunction, ThreadsPortal } from "./threads.ts";

/**
 * An asynchronous backend: runners, tasks, cancellation, timeouts, sockets,
 * synchronization primitives and threads, with one API on every runtime.
 *
 * Time is in milliseconds; `Infinity` means no deadline. Every `await` of this
 * API is a checkpoint where cancellation is delivered.
 */
export abstract class AsyncBackend {
  // ---- Runners ----

  /**
   * Returns a new runner. With `options.clock` (a `MockClock` of the
   * `testing` entry point), every timer of the runner follows that clock.
   *
   * @example A runner on a frozen clock, moved by hand
   * ```ts
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   * import { MockClock } from "@easynetwork/async-backend/testing";
   *
   * const backend = new DenoBackend();
   * const clock = new MockClock();
   * await using runner = backend.newRunner({ clock });
   * const woke = runner.run(async () => {
   *   await backend.sleep(10_000);
   *   return backend.currentTime();
   * });
   * await clock.advance(10_000);
   * console.log(await woke); // 10000
   * ```
   *
   * @param options `debug` records where each task, socket, listener, channel,
   *   worker and timer was made (shown by the task tree and the leak report);
   *   `strict` makes `close()` reject with `ResourceLeakError` when any was still alive;
   *   `clock` is the clock the runner's timers follow.
   * @throws {TypeError} when `options` is not an object or `options.clock` not a `MockClock`.
   * @throws {Error} when the clock already serves an open runner.
   */
  abstract newRunner(options?: RunnerOptions): Runner;

  /**
   * Runs `fn(...args)` in a new runner, closes the runner and returns the result.
   *
   * @param fn The function to run.
   * @param args Its arguments.
   */
  // deno-lint-ignore no-explicit-any
  bootstrap<A extends any[], T>(fn: TaskFunction<A, T>, ...args: A): Promise<T>;
  /**
   * Runs `fn(...args)` in a new runner made with `options` (see
   * {@linkcode AsyncBackend.newRunner}), closes the runner and returns the result.
   *
   * @param options The runner's options.
   * @param fn The function to run.
   * @param args Its arguments.
   */
  // deno-lint-ignore no-explicit-any
  bootstrap<A extends any[], T>(options: RunnerOptions, fn: TaskFunction<A, T>, ...args: A): Promise<T>;
  // deno-lint-ignore no-explicit-any
  async bootstrap(first: RunnerOptions | TaskFunction<any[], unknown>, ...rest: any[]): Promise<unknown> {
    // Options are an object; anything else is the function (checked by run()).
    const withOptions = typeof first === "object" && first !== null;
    const runner = withOptions ? this.newRunner(first) : this.newRunner();
    const [fn, ...args] = withOptions ? rest : [first, ...rest];
    try {
      return await runner.run(fn, ...args);
    } finally {
      await runner.close();
    }
  }

  // ---- Coroutines and tasks ----

  /**
   * A checkpoint that yields to the event loop: the tasks that yielded before it
   * resume first, in the order they yielded. When a millisecond or more has passed
   * since the loop last took a full turn, the yield is one: every timer due and
   * every I/O callback ready by then runs before the caller resumes. A yield that
   * comes sooner is the runtime's cheapest macrotask, which may run neither.
   *
   * So a task that yields never holds timers and I/O back for much more than a
   * millisecond, and yielding in a tight loop stays cheap: a task that burns 2 ms
   * of CPU between calls sees a timer due in 1 ms within 3 calls, and an accept,
   * a write and the peer's read complete within 9 (SPEC 2.1 rule 4, on Deno and
   * Node). `sleep(0)` and `sleepUntil()` of a past deadline are this checkpoint.
   *
   * @throws {CancelledError} at once, without yielding, if the caller's scope is
   *   cancelled; after the yield, if the scope was cancelled meanwhile.
   */
  abstract coroYield(): Promise<void>;
  /** Yields like {@linkcode AsyncBackend.coroYield}, but never rejects. */
  abstract cancelShieldedCoroYield(): Promise<void>;
  /** Returns the cancellation error class, {@linkcode CancelledError}. */
  getCancelledExcClass(): typeof CancelledError {
    return CancelledError;
  }
  /**
   * Runs `fn` shielded from the caller's cancellation; an outer cancellation waits
   * for it and arrives at the next checkpoint after it.
   */
  abstract ignoreCancellation<T>(fn: () => T | PromiseLike<T>): Promise<T>;
  /**
   * Runs `fn` with a deadline `ms` from now and resolves with its value.
   *
   * When the deadline cancels the body, the call rejects with a `DOMException`
   * named `"TimeoutError"`; when `handle.cancel()` does, with one named
   * `"AbortError"` (the web's words for the two causes). A cancellation of an
   * enclosing scope is not this scope's: it leaves as `CancelledError`, even if
   * this scope was cancelled too.
   */
  abstract timeout<T>(ms: number, fn: (handle: TimeoutHandle) => T | PromiseLike<T>): Promise<T>;
  /**
   * Like {@linkcode AsyncBackend.timeout} with an absolute deadline: rejects with a
   * `DOMException` named `"TimeoutError"` when the deadline cancels the body, and
   * one named `"AbortError"` when `handle.cancel()` does.
   */
  abstract timeoutAt<T>(deadline: number, fn: (handle: TimeoutHandle) => T | PromiseLike<T>): Promise<T>;
  /** Runs `fn` with a deadline `ms` from now; resolves `undefined` when the deadline cancels it. */
  abstract moveOnAfter<T>(ms: number, fn: (handle: TimeoutHandle) => T | PromiseLike<T>): Promise<T | undefined>;
  /** Like {@linkcode AsyncBackend.moveOnAfter} with an absolute deadline. */
  abstract moveOnAt<T>(deadline: number, fn: (handle: TimeoutHandle) => T | PromiseLike<T>): Promise<T | undefined>;
  /**
   * The backend clock: monotonic milliseconds. Inside a runner made with a
   * `MockClock`, that clock's virtual time (see {@linkcode AsyncBackend.newRunner}).
   */
  abstract currentTime(): number;
  /** Sleeps `ms` milliseconds; `0` is a checkpoint. */
  abstract sleep(ms: number): Promise<void>;
  /** Sleeps until cancelled. */
  abstract sleepForever(): Promise<never>;
  /** Sleeps until `deadline` on the backend clock; a past deadline is a checkpoint. */
  abstract sleepUntil(deadline: number): Promise<void>;
  /**
   * Starts a system task: it runs under the runner, outside the caller's scopes.
   *
   * Its error is never lost. Take it with `join()`, `wait()` or
   * `joinOrCancel()`; if the task fails (with anything but a cancellation)
   * and none of them was called by the time it ended, the error is reported
   * as an unhandled promise rejection whose reason is the error itself, the
   * way the runtime reports an `async` call nobody awaited: Node emits
   * `'unhandledRejection'` (by default it exits with the error), Deno, Bun and
   * browsers dispatch `unhandledrejection` on `globalThis` (Deno exits unless
   * a listener calls `preventDefault()`). To join a task later, call `wait()`
   * or `join()` early (from another task), or catch inside `fn`.
   */
  // deno-lint-ignore no-explicit-any
  abstract spawnTask<A extends any[], T>(fn: TaskFunction<A, T>, ...args: A): SystemTask<T>;
  /**
   * Runs `body(tg)` and waits for every task started in the group. The first
   * error (body or child) cancels the rest; the call rejects with it, or with an
   * `AggregateError` when there are several. Resolves the body's result, or
   * `undefined` when the group's own scope was cancelled before the body returned.
   */
  abstract createTaskGroup<T>(body: (tg: TaskGroup) => T | PromiseLike<T>): Promise<T | undefined>;

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

  // ---- Standalone cancel scopes and signals ----

  /**
   * Makes a standalone cancel scope (Trio's `CancelScope`): it can be cancelled,
   * rescheduled and shielded before it runs, and is entered once, in the
   * caller's scope, with `scope.run(fn)`, which resolves `undefined` when the
   * scope caught its own cancellation. An outside `options.signal` cancels it
   * while it runs (at once if already aborted), with the signal's reason.
   *
   * @example Cancel from an `AbortSignal`
   * ```ts
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * const controller = new AbortController();
   * const scope = backend.openCancelScope({ signal: controller.signal });
   * const result = await backend.bootstrap(() =>
   *   scope.run(async () => {
   *     setTimeout(() => controller.abort("stop"), 10);
   *     await backend.sleepForever();
   *   })
   * );
   * console.log(result, scope.cancelledCaught); // undefined true
   * ```
   *
   * @param options The deadline (absolute, on the backend clock), the shield and an outside `AbortSignal`.
   * @throws {TypeError} when an option has the wrong type, or `options` has another option.
   * @throws {RangeError} when `options.deadline` is `NaN`.
   */
  abstract openCancelScope(options?: CancelScopeOptions): CancelScope;

  /**
   * The earliest deadline that applies to the caller: the smallest deadline of
   * its scopes, from the innermost up to the nearest shielded one (included).
   * `Infinity` when none has a deadline (and outside any runner); `-Infinity`
   * when one of those scopes is already cancelled, as in Trio (the caller's next
   * checkpoint will reject).
   *
   * @example
   * ```ts
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * await backend.bootstrap(() =>
   *   backend.moveOnAfter(1_000, async () => {
   *     const left = backend.currentEffectiveDeadline() - backend.currentTime();
   *     console.log(left > 0 && left <= 1_000); // true
   *   })
   * );
   * ```
   */
  abstract currentEffectiveDeadline(): number;

  /**
   * Starts receiving the OS signals `signals` (names such as `"SIGTERM"`), until
   * the receiver is closed. While it is open the runtime does not apply the
   * signals' default action (ending the process on `SIGINT`); while a task
   * waits in it, the process stays alive. Closing it gives the signals back.
   *
   * @example Wait for SIGUSR2
   * ```ts
   * import process from "node:process";
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * await backend.bootstrap(async () => {
   *   using signals = backend.openSignalReceiver(["SIGUSR2"]);
   *   process.kill(process.pid, "SIGUSR2");
   *   for await (const name of signals) {
   *     console.log(`got ${name}`);
   *     break;
   *   }
   * });
   * ```
   *
   * @param signals The signal names.
   * @throws {TypeError} when `signals` is not an array of names, or names a signal
   *   the runtime cannot listen to here (`SIGKILL`, or an unknown name).
   * @throws {RangeError} when `signals` is an empty list.
   */
  abstract openSignalReceiver(signals: readonly string[]): SignalReceiver;

  // ---- Diagnostics ----

  /**
   * A snapshot of the caller's runner, as plain data: its live tasks (names,
   * ids), the cancel scopes each entered (deadlines, shields, task groups with
   * their child tasks) and the checkpoints each waits at (`"sleep"`, `"lock"`,
   * `"recv"`, `"join"`, `"thread"`...; see `TaskTreeTask.waitingAt`). In debug
   * mode (`newRunner({ debug: true })`) each task carries the stack where it was
   * started. Taking it costs nothing while tasks run: it reads the scope tree.
   *
   * @example
   * ```ts
   * import { named } from "@easynetwork/async-backend/backend";
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * await backend.bootstrap(async () => {
   *   await backend.createTaskGroup(async (tg) => {
   *     tg.startSoon(named("sleeper", () => backend.sleep(50)));
   *     await backend.sleep(0);
   *     const [main] = backend.taskTree().tasks;
   *     const [sleeper] = main.scopes[0].tasks;
   *     console.log(sleeper.name, sleeper.waitingAt); // sleeper [ "sleep" ]
   *   });
   * });
   * ```
   *
   * @throws {Error} when called outside a runner.
   */
  abstract taskTree(): TaskTree;

  /**
   * Writes the caller's task tree as text (one line per task and scope, drawn
   * as a tree) to `write`, `console.error` by default, and returns the text.
   *
   * @example
   * ```ts
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * await backend.bootstrap(async function main() {
   *   const text = backend.dumpTaskTree(() => {});
   *   console.log(text.split("\n")[1]); // task #… main (not at a checkpoint)
   * });
   * ```
   *
   * @param write Where the text goes.
   * @throws {Error} when called outside a runner.
   */
  abstract dumpTaskTree(write?: (text: string) => void): string;

  /**
   * Opt-in: starts a system task of the caller's runner that dumps the task
   * tree (see {@linkcode AsyncBackend.dumpTaskTree}) each time the OS signal
   * `signal` arrives (`kill -USR2 <pid>`), until the runner closes or the task
   * is cancelled. While it runs, the signal's default action does not happen.
   * The default is `SIGUSR2`, not `SIGUSR1`: Node starts its inspector on
   * `SIGUSR1` (and writes a diagnostic report on `SIGUSR2` only when run with
   * `--report-on-signal`).
   *
   * @example
   * ```ts
   * import process from "node:process";
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * await backend.bootstrap(async () => {
   *   const dumps: string[] = [];
   *   const dumper = backend.dumpTaskTreeOnSignal("SIGUSR2", (text) => dumps.push(text));
   *   process.kill(process.pid, "SIGUSR2");
   *   await backend.timeout(5_000, async () => {
   *     while (dumps.length === 0) await backend.sleep(1);
   *   });
   *   dumper.cancel();
   *   console.log(dumps[0].startsWith("Task tree")); // true
   * });
   * ```
   *
   * @param signal The signal's name, `"SIGUSR2"` by default.
   * @param write Where each dump goes, `console.error` by default.
   * @throws {Error} when called outside a runner.
   * @throws {TypeError} when the runtime cannot listen to `signal`.
   */
  abstract dumpTaskTreeOnSignal(signal?: string, write?: (text: string) => void): SystemTask<void>;
}
