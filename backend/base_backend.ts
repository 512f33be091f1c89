/**
 * Every `AsyncBackend` method, on one `RuntimeHost`: runners, tasks,
 * cancellation, timeouts and synchronization from the core, networking from
 * `_net/` over the host's driver, threads from `_threads/` over the host's
 * workers. A backend is its host.
 *
 * @module
 */

import { AsyncBackend } from "./abc/async_backend.ts";
import type { CancelScope, CancelScopeOptions, TimeoutHandle } from "./abc/cancel_scope.ts";
import type { SignalReceiver } from "./abc/signals.ts";
import type {
  ConnectionHandler,
  ServeOptions,
  ServeTcpOptions,
  ServeTlsOptions,
  TcpConnectionHandler,
} from "./abc/serve.ts";
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
} from "./abc/socket.ts";
import type { CapacityLimiter, Condition, Event, Lock, Semaphore, SemaphoreOptions } from "./abc/sync.ts";
import type { MemoryReceiveChannel, MemorySendChannel } from "./abc/channel.ts";
import type { Runner, SystemTask, TaskFunction, TaskGroup } from "./abc/tasks.ts";
import type { TaskTree } from "./abc/diagnostics.ts";
import type { RunnerOptions } from "./abc/leaks.ts";
import type { AnyFunction, CancellableFuture, ThreadFunction, ThreadsPortal } from "./abc/threads.ts";
import { coroYield, type MacrotaskScheduler } from "./_core/checkpoint.ts";
import { CapacityLimiterCore } from "./_core/capacity_limiter.ts";
import { ConditionCore } from "./_core/condition.ts";
import { EventCore } from "./_core/event.ts";
import { LockCore } from "./_core/lock.ts";
import { createMemoryChannel } from "./_core/memory_channel.ts";
import { checkRunnerOptions, debugFromEnv, RunnerCore, spawnSystemTask } from "./_core/runner.ts";
import { runTimers } from "./_core/run_clock.ts";
import { SemaphoreCore } from "./_core/semaphore.ts";
import { runTaskGroup } from "./_core/task_group.ts";
import {
  ignoreCancellation,
  moveOnAfter,
  moveOnAt,
  sleep,
  sleepForever,
  sleepUntil,
  timeout,
  timeoutAt,
} from "./_core/timeouts.ts";
import { waitFuture } from "./_core/wait_future.ts";
import { currentEffectiveDeadline, openCancelScope } from "./_core/standalone_scope.ts";
import { SignalReceiverCore } from "./_core/signal_receiver.ts";
import { dumpTaskTree, dumpTaskTreeOnSignal, taskTree } from "./_core/task_tree_dump.ts";
import * as connect from "./_net/connect.ts";
import * as datagram from "./_net/datagram_socket.ts";
import type { NetDriver } from "./_net/driver.ts";
import * as listen from "./_net/listen.ts";
import * as serve from "./_net/serve.ts";
import { createThreadsPortal, registerThreadHost, runInThread } from "./_threads/run_in_thread.ts";
import { hostYield, noNetworking, type RuntimeHost } from "./runtime_host.ts";

export type { RuntimeHost } from "./runtime_host.ts";

/**
 * Implements every method of {@linkcode AsyncBackend} on a
 * {@linkcode RuntimeHost}: the base of the Deno and Node backends, and of custom
 * backends (a host without networking or workers makes those methods reject).
 *
 * @example
 * ```ts
 * import { BaseAsyncBackend } from "@easynetwork/async-backend/lowlevel";
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 *
 * console.log(new DenoBackend() instanceof BaseAsyncBackend); // true
 * ```
 */
export abstract class BaseAsyncBackend extends AsyncBackend {
  #host: RuntimeHost;
  #yield: MacrotaskScheduler;
  #debugFromEnv: boolean | undefined;
  // deno-lint-ignore no-explicit-any
  #net: NetDriver<any> | undefined;

  /**
   * Builds the core on a runtime's timers and yields.
   *
   * @param host The runtime's timers and yields.
   */
  constructor(host: RuntimeHost) {
    super();
    this.#host = host;
    this.#yield = hostYield(host);
    this.#net = host.net;
    if (host.threads !== undefined) registerThreadHost(this, host.threads);
  }

  /**
   * Returns a new runner; debug mode defaults to the `ASYNC_BACKEND_DEBUG`
   * environment variable; on a mock clock when `options.clock` is one.
   */
  newRunner(options?: RunnerOptions): Runner {
    checkRunnerOptions(options);
    const { timers, diagnostics, env, yieldTurn, yieldMacrotask } = this.#host;
    const debug = options?.debug ?? (this.#debugFromEnv ??= debugFromEnv(env));
    const runOptions = { debug, strict: options?.strict, clock: options?.clock };
    return new RunnerCore(timers, runOptions, diagnostics ?? null, yieldTurn ?? yieldMacrotask);
  }

  /** A checkpoint that yields to the event loop (timers and I/O run). */
  coroYield(): Promise<void> {
    return coroYield(this.#yield);
  }

  /** Yields to the event loop like {@linkcode BaseAsyncBackend.coroYield}; never rejects. */
  cancelShieldedCoroYield(): Promise<void> {
    const schedule = this.#yield;
    return new Promise<void>((resolve) => schedule(resolve));
  }

  /** Runs `fn` shielded from outer cancellation. */
  ignoreCancellation<T>(fn: () => T | PromiseLike<T>): Promise<T> {
    return ignoreCancellation(fn);
  }

  /** Runs `fn` with a relative deadline; rejects with `TimeoutError` when it expires. */
  timeout<T>(ms: number, fn: (handle: TimeoutHandle) => T | PromiseLike<T>): Promise<T> {
    return timeout(this.#host.timers, ms, fn);
  }

  /** Runs `fn` with an absolute deadline; rejects with `TimeoutError` when it expires. */
  timeoutAt<T>(deadline: number, fn: (handle: TimeoutHandle) => T | PromiseLike<T>): Promise<T> {
    return timeoutAt(deadline, fn);
  }

  /** Runs `fn` with a relative deadline; resolves `undefined` when it expires. */
  moveOnAfter<T>(ms: number, fn: (handle: TimeoutHandle) => T | PromiseLike<T>): Promise<T | undefined> {
    return moveOnAfter(this.#host.timers, ms, fn);
  }

  /** Runs `fn` with an absolute deadline; resolves `undefined` when it expires. */
  moveOnAt<T>(deadline: number, fn: (handle: TimeoutHandle) => T | PromiseLike<T>): Promise<T | undefined> {
    return moveOnAt(deadline, fn);
  }

  /** The monotonic clock, in ms. */
  currentTime(): number {
    return runTimers(this.#host.timers).now();
  }

  /** Sleeps `ms` milliseconds. */
  sleep(ms: number): Promise<void> {
    return sleep(runTimers(this.#host.timers), this.#yield, ms);
  }

  /** Sleeps until cancelled. */
  sleepForever(): Promise<never> {
    return sleepForever();
  }

  /** Sleeps until `deadline`. */
  sleepUntil(deadline: number): Promise<void> {
    return sleepUntil(runTimers(this.#host.timers), this.#yield, deadline);
  }

  /** Starts a system task in the current runner. */
  // deno-lint-ignore no-explicit-any
  spawnTask<A extends any[], T>(fn: TaskFunction<A, T>, ...args: A): SystemTask<T> {
    return spawnSystemTask(fn, args);
  }

  /** Runs `body` in a task group and waits for its tasks. */
  createTaskGroup<T>(body: (tg: TaskGroup) => T | PromiseLike<T>): Promise<T | undefined> {
    return runTaskGroup(body);
  }

  /** Creates a FIFO lock. */
  createLock(): Lock {
    return new LockCore();
  }

  /** Creates an event. */
  createEvent(): Event {
    return new EventCore();
  }

  /** Creates a condition variable. */
  createConditionVar(lock?: Lock): Condition {
    return new ConditionCore(lock);
  }

  /** Awaits `future` as a checkpoint, cancelling it if the waiter is cancelled. */
  waitFuture<T>(future: CancellableFuture<T>): Promise<T> {
    return waitFuture(future);
  }

  // ---- Networking (the host's driver under backend/_net/) ----

  /** Opens a TCP connection, racing every resolved address (RFC 8305). */
  createTcpConnection(
    host: string,
    port: number,
    options?: TcpConnectionOptions,
  ): Promise<AsyncHalfCloseableStreamSocketAdapter> {
    const net = this.#net;
    if (net === undefined) return noNetworking();
    return connect.createTcpConnection(net, runTimers(this.#host.timers), host, port, options);
  }

  /** Opens a TLS connection over TCP: the Happy Eyeballs race, then the handshake. */
  createSslOverTcpConnection(
    host: string,
    port: number,
    tls: TlsOptions,
    options?: TlsConnectionOptions,
  ): Promise<AsyncStreamSocketAdapter> {
    const net = this.#net;
    if (net === undefined) return noNetworking();
    return connect.createSslOverTcpConnection(net, runTimers(this.#host.timers), host, port, tls, options);
  }

  /** Takes ownership of a connected runtime TCP socket (Deno's `TcpConn`, Node's `net.Socket`). */
  wrapTcpClientSocket(conn: unknown): Promise<AsyncHalfCloseableStreamSocketAdapter> {
    const net = this.#net;
    if (net === undefined) return noNetworking();
    return connect.wrapTcpClientSocket(net, conn);
  }

  /** Upgrades a connected runtime TCP socket, or a plain stream adapter of this backend, to TLS as a client. */
  wrapSslOverTcpClientSocket(
    conn: unknown,
    tls: TlsOptions,
    options: TlsWrapOptions,
  ): Promise<AsyncStreamSocketAdapter> {
    const net = this.#net;
    if (net === undefined) return noNetworking();
    return connect.wrapSslOverTcpClientSocket(net, runTimers(this.#host.timers), conn, tls, options);
  }

  /**
   * Upgrades an accepted plain connection (a runtime TCP socket or a plain
   * stream adapter of this backend) to TLS as the server: server-side STARTTLS.
   */
  wrapSslOverTcpServerSocket(
    conn: unknown,
    tls: TlsOptions,
    options?: TlsServerWrapOptions,
  ): Promise<AsyncStreamSocketAdapter> {
    const net = this.#net;
    if (net === undefined) return noNetworking();
    return connect.wrapSslOverTcpServerSocket(net, runTimers(this.#host.timers), conn, tls, options);
  }

  /** Opens one TCP listener per bound address; `host` `null` means every interface. */
  createTcpListeners(
    host: string | readonly string[] | null,
    port: number,
    backlog: number,
    options?: TcpListenerOptions,
  ): Promise<AsyncListenerSocketAdapter[]> {
    const net = this.#net;
    if (net === undefined) return noNetworking();
    return listen.createTcpListeners(net, runTimers(this.#host.timers), host, port, backlog, options);
  }

  /** Opens TLS listeners; the handshake happens in `AcceptedSocket.connect()`. */
  createSslOverTcpListeners(
    host: string | readonly string[] | null,
    port: number,
    backlog: number,
    tls: TlsOptions,
    options?: TlsListenerOptions,
  ): Promise<AsyncListenerSocketAdapter[]> {
    const net = this.#net;
    if (net === undefined) return noNetworking();
    return listen.createSslOverTcpListeners(net, runTimers(this.#host.timers), host, port, backlog, tls, options);
  }

  /** Opens a UDP endpoint; with `remoteAddress`, it only talks to that peer. */
  createUdpEndpoint(options?: UdpEndpointOptions): Promise<AsyncDatagramSocketAdapter> {
    const net = this.#net;
    if (net === undefined) return noNetworking();
    return datagram.createUdpEndpoint(net, options);
  }

  /** Takes ownership of a bound runtime UDP socket (Deno's `DatagramConn`, Node's `dgram.Socket`). */
  wrapUdpSocket(sock: unknown): Promise<AsyncDatagramSocketAdapter> {
    const net = this.#net;
    if (net === undefined) return noNetworking();
    return datagram.wrapUdpSocket(net, sock);
  }

  // ---- Threads (the host's workers under backend/_threads/) ----

  /**
   * Runs `fn(...args)` in a worker of the runner's pool (see `threadModule`).
   * Rejects with a `TypeError` for a plain function: workers cannot receive closures.
   */
  runInThread<F extends AnyFunction>(
    fn: ThreadFunction<F>,
    ...args: Parameters<F>
  ): Promise<Awaited<ReturnType<F>>> {
    const threads = this.#host.threads;
    if (threads === undefined) {
      return Promise.reject(new TypeError("This backend has no worker threads ('threads' in its RuntimeHost)"));
    }
    return runInThread(threads, fn, args);
  }

  /** Creates a portal over loop functions, to pass to `runInThread` as an argument. */
  createThreadsPortal<F extends Record<string, AnyFunction>>(functions: F): ThreadsPortal<F> {
    return createThreadsPortal(functions);
  }

  // ---- Semaphores and capacity limiters (backend/_core/) ----

  /** Creates a FIFO-fair counting semaphore. */
  createSemaphore(initial: number, options?: SemaphoreOptions): Semaphore {
    return new SemaphoreCore(initial, options);
  }

  /** Creates a FIFO-fair capacity limiter. */
  createCapacityLimiter(totalTokens: number): CapacityLimiter {
    return new CapacityLimiterCore(totalTokens);
  }

  /** Creates a memory channel: its send end and its receive end. */
  createMemoryChannel<T>(maxBufferSize: number): [MemorySendChannel<T>, MemoryReceiveChannel<T>] {
    return createMemoryChannel<T>(maxBufferSize, this.#yield, this.#host.timers.now);
  }

  // ---- Servers (backend/_net/serve.ts over this backend's listeners) ----

  /** Serves connections on `listeners` (closed when it stops) until cancelled. */
  serveListeners(
    handler: ConnectionHandler,
    listeners: readonly AsyncListenerSocketAdapter[],
    options?: ServeOptions,
  ): Promise<never> {
    return serve.serveListeners(this, handler, listeners, options);
  }

  /** Listens on `port` and serves the connections until cancelled. */
  serveTcp(handler: TcpConnectionHandler, port: number, options?: ServeTcpOptions): Promise<never> {
    return serve.serveTcp(this, handler as ConnectionHandler, port, options);
  }

  /** Listens on `port` with TLS and serves the connections until cancelled. */
  serveTls(handler: ConnectionHandler, port: number, tls: TlsOptions, options?: ServeTlsOptions): Promise<never> {
    return serve.serveTls(this, handler, port, tls, options);
  }

  // ---- Standalone cancel scopes and signals ----

  /** Makes a standalone cancel scope, entered later with `run()`. */
  openCancelScope(options?: CancelScopeOptions): CancelScope {
    return openCancelScope(options);
  }

  /** The earliest deadline of the caller's scopes up to the nearest shield; `-Infinity` when cancelled. */
  currentEffectiveDeadline(): number {
    return currentEffectiveDeadline();
  }

  /** Starts receiving the OS signals `signals`. */
  openSignalReceiver(signals: readonly string[]): SignalReceiver {
    const host = this.#host.signals;
    if (host === undefined) throw new TypeError("This backend has no signal listeners ('signals' in its RuntimeHost)");
    return new SignalReceiverCore(host, this.#host.timers, this.#yield, signals);
  }

  // ---- Diagnostics (backend/_core/task_tree.ts) ----

  /** A snapshot of the caller's runner's tasks, their scopes and where each waits. */
  taskTree(): TaskTree {
    return taskTree();
  }

  /** Writes the caller's task tree (to `console.error` by default) and returns its text. */
  dumpTaskTree(write?: (text: string) => void): string {
    return dumpTaskTree(write);
  }

  /** Dumps the task tree each time `signal` arrives, until the runner closes (opt-in). */
  dumpTaskTreeOnSignal(signal = "SIGUSR2", write?: (text: string) => void): SystemTask<void> {
    return dumpTaskTreeOnSignal(() => this.openSignalReceiver([signal]), write);
  }
}
