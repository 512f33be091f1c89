/**
 * `runInThread` and `createThreadsPortal` on any runtime: argument checks, the
 * per-runner pool and what cancellation does to a call.
 *
 * @module
 */

import type { AnyFunction, ThreadFunction, ThreadsPortal } from "../abc/threads.ts";
import { CancelledError } from "../errors.ts";
import { type CancelScope, currentScope, Waiter } from "../_core/cancel_scope.ts";
import type { TimerHost } from "../_core/timers.ts";
import { LoopPortal } from "./portal_loop.ts";
import { RunState } from "../_core/runner.ts";
import { describe } from "../_util/validate.ts";
import { type SpawnWorker, WorkerPool } from "./pool.ts";
import type { JobListener, PoolJob } from "./pool_job.ts";

/** Throws a `TypeError` unless `fn` is a thread function reference; explains why closures are refused. */
export function assertThreadFunction(fn: unknown, name = "fn"): asserts fn is ThreadFunction {
  if (typeof fn === "function") {
    throw new TypeError(
      `The '${name}' argument must be a thread function reference, got a function: workers share no memory ` +
        `with the loop and cannot receive closures. Export the function from a module and pass ` +
        `threadModule<typeof import("./m.ts")>(new URL("./m.ts", import.meta.url)).${fn.name || "myFunction"}`,
    );
  }
  if (
    fn === null || typeof fn !== "object" || typeof (fn as ThreadFunction).moduleUrl !== "string" ||
    typeof (fn as ThreadFunction).exportName !== "string"
  ) {
    throw new TypeError(
      `The '${name}' argument must be a thread function reference made by threadModule(url), got ${describe(fn)}`,
    );
  }
}

/** Returns the caller's runner loop; throws when called outside a runner. */
export function currentRunState(method: string): RunState {
  const loop = currentScope()?.loop;
  if (!(loop instanceof RunState)) throw new Error(`${method}() must be called from code run by a runner`);
  return loop;
}

/**
 * Runs `ref(...args)` in `pool` as a checkpoint. When the caller is cancelled:
 * a call that has not started is dropped; a running one follows `ref.options.onCancel`.
 * Portal calls the worker makes during the call run in the caller's scope.
 *
 * @param pool The pool.
 * @param ref The function.
 * @param args Its arguments.
 */
export function runInPool<T>(pool: WorkerPool, ref: ThreadFunction, args: unknown[]): Promise<T> {
  const scope = currentScope();
  if (scope !== undefined && scope.isCancelled()) return Promise.reject(scope.cancelledError());
  return new Promise<T>((resolve, reject) => {
    const call = new ThreadCall(
      pool,
      scope,
      ref.options?.onCancel ?? "wait",
      resolve as (value: unknown) => void,
      reject,
    );
    scope?.addWaiter(call);
    try {
      call.job = pool.submit(ref, args, call, scope ?? null);
    } catch (error) {
      scope?.removeWaiter(call);
      reject(error);
    }
  });
}

/**
 * One `runInThread` call: the checkpoint its caller's scope wakes on
 * cancellation, and the listener of its job. One object for both, so that a
 * call allocates no closures (100k calls in flight: the garbage collector's time).
 */
class ThreadCall extends Waiter implements JobListener {
  job: PoolJob | undefined = undefined;
  #pool: WorkerPool;
  #scope: CancelScope | undefined;
  #mode: "wait" | "abandon" | "terminate";
  #resolve: (value: unknown) => void;
  #reject: (error: unknown) => void;
  #cancelled = false;

  constructor(
    pool: WorkerPool,
    scope: CancelScope | undefined,
    mode: "wait" | "abandon" | "terminate",
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
  ) {
    super();
    this.#pool = pool;
    this.#scope = scope;
    this.#mode = mode;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  override get waitKind(): string {
    return "thread";
  }

  /** The caller was cancelled. */
  abort(error: CancelledError): void {
    const job = this.job;
    if (job === undefined) return;
    const pool = this.#pool;
    // Not started (queued, or waiting in a worker's inbox): dropped; it never runs.
    if (pool.dequeue(job)) {
      this.#reject(error);
    } else if (job.sent) {
      this.#cancelled = true;
      if (this.#mode === "wait") {
        pool.signalCancel(job);
      } else if (this.#mode === "abandon") {
        pool.signalCancel(job);
        job.detach();
        this.#reject(error);
      } else {
        pool.terminateJob(job);
        this.#reject(error);
      }
    }
  }

  /** The job settled. */
  jobDone(ok: boolean, value: unknown): void {
    const scope = this.#scope;
    scope?.removeWaiter(this);
    if (this.#cancelled) this.#reject(scope?.cancelledError() ?? new CancelledError());
    else if (ok) this.#resolve(value);
    else this.#reject(value);
  }
}

/** What a backend gives {@linkcode runInThread}. */
export interface ThreadHost {
  /** Starts a worker. */
  readonly spawn: SpawnWorker;
  /** Timers for idle retirement. */
  readonly timers: TimerHost;
}

/**
 * `AsyncBackend.runInThread` on `host`: the caller's runner keeps one pool,
 * closed with the runner.
 */
export function runInThread<F extends AnyFunction>(
  host: ThreadHost,
  fn: ThreadFunction<F>,
  args: Parameters<F>,
): Promise<Awaited<ReturnType<F>>> {
  let pool: WorkerPool;
  try {
    assertThreadFunction(fn);
    const loop = currentRunState("runInThread");
    // The pool's idle retirement follows the runner's clock (a mock clock's, maybe).
    const timers = loop.deadlines.timers;
    pool = loop.resource(host, () => new WorkerPool({ spawn: host.spawn, timers }), (p) => p.close());
  } catch (error) {
    return Promise.reject(error);
  }
  return runInPool(pool, fn, args);
}

/** `AsyncBackend.createThreadsPortal`: a portal bound to the caller's runner. */
export function createThreadsPortal<F extends Record<string, AnyFunction>>(functions: F): ThreadsPortal<F> {
  return new LoopPortal(currentRunState("createThreadsPortal"), functions);
}

const threadHosts = new WeakMap<object, ThreadHost>();

/** Records the workers of a backend, for executors that start their own pool. */
export function registerThreadHost(backend: object, host: ThreadHost): void {
  threadHosts.set(backend, host);
}

/** Returns the workers of `backend`, `undefined` for a backend without worker threads. */
export function threadHostOf(backend: object): ThreadHost | undefined {
  for (let proto: object | null = backend; proto !== null; proto = Object.getPrototypeOf(proto)) {
    const host = threadHosts.get(proto);
    if (host !== undefined) return host;
  }
  return undefined;
}
