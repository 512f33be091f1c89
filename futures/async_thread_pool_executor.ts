/**
 * `AsyncThreadPoolExecutor`: an executor over its own pool of worker threads.
 *
 * @module
 */

import type { AsyncBackend } from "../backend/abc/async_backend.ts";
import type { AnyFunction, CancellableFuture, ThreadFunction } from "../backend/abc/threads.ts";
import { assertThreadFunction, createThreadPool, type ThreadPool } from "../backend/lowlevel.ts";
import { describe } from "../backend/_util/validate.ts";
import { CancelledError, ClosedResourceError } from "../backend/errors.ts";
import { AsyncExecutor, type Executor } from "./async_executor.ts";

/** Options of {@linkcode AsyncThreadPoolExecutor}. */
export interface AsyncThreadPoolExecutorOptions {
  /** Most workers alive at once; default `navigator.hardwareConcurrency`. */
  maxWorkers?: number;
  /** Worker names are `${threadNamePrefix}_${n}`; default `AsyncThreadPoolExecutor-${k}`. */
  threadNamePrefix?: string;
  /** Runs once in every new worker, before its first call; if it fails, the pool is broken. */
  initializer?: ThreadFunction;
  /** The initializer's arguments. */
  initargs?: unknown[];
  /** How long an idle worker lives, in ms; default 10 000. */
  idleTimeout?: number;
}

let executors = 0;

/** The pool as an {@linkcode Executor}: futures with `cancel()`. */
class PoolExecutor implements Executor {
  readonly pool: ThreadPool;

  constructor(pool: ThreadPool) {
    this.pool = pool;
  }

  submit(fn: ThreadFunction, ...args: unknown[]): CancellableFuture<unknown> {
    assertThreadFunction(fn);
    let cancelled = false;
    let settle!: { resolve(value: unknown): void; reject(error: unknown): void };
    const promise = new Promise<unknown>((resolve, reject) => settle = { resolve, reject });
    const job = this.pool.submit(fn, args, (ok, value) => ok ? settle.resolve(value) : settle.reject(value));
    return {
      then: (onFulfilled, onRejected) => promise.then(onFulfilled, onRejected),
      cancel: () => {
        // A worker may start the call between the two: dequeue() decides.
        if (!job.queued || !this.pool.dequeue(job)) return false;
        cancelled = true;
        settle.reject(new CancelledError());
        return true;
      },
      cancelled: () => cancelled,
    };
  }

  shutdown(options: { wait: boolean; cancelFutures: boolean }): Promise<void> | void {
    const drained = this.pool.shutdown(options.cancelFutures);
    return options.wait ? drained : undefined;
  }
}

/**
 * An {@linkcode AsyncExecutor} over its own pool of worker threads, like
 * Python's `ThreadPoolExecutor`: functions are named with `threadModule()`;
 * `run()` has the cancellation of `runInThread` (`ref.with({ onCancel })`).
 * Not tied to a runner: shut it down (`await using` does) or its idle workers
 * retire after `idleTimeout`.
 *
 * @example
 * ```ts
 * import { threadModule } from "@easynetwork/async-backend";
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 * import { AsyncThreadPoolExecutor } from "@easynetwork/async-backend/futures";
 *
 * const url = "data:text/javascript,export const square = (n) => n * n;";
 * const work = threadModule<{ square(n: number): number }>(url);
 * const backend = new DenoBackend();
 * await backend.bootstrap(async () => {
 *   await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 2 });
 *   console.log(await executor.map(work.square, [1, 2, 3])); // [1, 4, 9]
 * });
 * ```
 */
export class AsyncThreadPoolExecutor extends AsyncExecutor {
  readonly #pool: ThreadPool;

  /**
   * Prepares the pool; workers start on the first call.
   *
   * @param backend A backend with worker threads (Deno, Node).
   * @param options Pool size, worker names and initializer.
   */
  constructor(backend: AsyncBackend, options: AsyncThreadPoolExecutorOptions = {}) {
    const { maxWorkers, threadNamePrefix, initializer, initargs, idleTimeout } = options;
    if (maxWorkers !== undefined && (!Number.isInteger(maxWorkers) || maxWorkers < 1)) {
      throw new RangeError(`The 'maxWorkers' option must be a positive integer, got ${describe(maxWorkers)}`);
    }
    if (threadNamePrefix !== undefined && typeof threadNamePrefix !== "string") {
      throw new TypeError(`The 'threadNamePrefix' option must be a string, got ${describe(threadNamePrefix)}`);
    }
    if (initializer !== undefined) assertThreadFunction(initializer, "initializer");
    if (initargs !== undefined && !Array.isArray(initargs)) {
      throw new TypeError(`The 'initargs' option must be an array, got ${describe(initargs)}`);
    }
    if (idleTimeout !== undefined && !(typeof idleTimeout === "number" && idleTimeout >= 0)) {
      throw new RangeError(
        `The 'idleTimeout' option must be a non-negative number of ms, got ${describe(idleTimeout)}`,
      );
    }
    const pool = backend !== null && typeof backend === "object"
      ? createThreadPool(backend, {
        maxWorkers,
        idleTimeout,
        namePrefix: threadNamePrefix ?? `AsyncThreadPoolExecutor-${executors++}`,
        initializer,
        initargs,
      })
      : undefined;
    if (pool === undefined) {
      throw new TypeError(`The 'backend' argument must be a backend with worker threads, got ${describe(backend)}`);
    }
    super(backend, new PoolExecutor(pool));
    this.#pool = pool;
  }

  /** Most workers alive at once. */
  get maxWorkers(): number {
    return this.#pool.maxWorkers;
  }

  /**
   * Runs `fn(...args)` in a worker of the pool; cancellation as in
   * `runInThread` (default: wait for the function, then reject with
   * `CancelledError`).
   *
   * @param fn A reference made by `threadModule()`.
   * @param args Its arguments.
   */
  override run<F extends AnyFunction>(
    fn: F | ThreadFunction<F>,
    ...args: Parameters<F>
  ): Promise<Awaited<ReturnType<F>>> {
    try {
      assertThreadFunction(fn);
      if (this.isShutdown) throw new ClosedResourceError("Cannot call run(): the executor is shut down");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#pool.run(fn, args);
  }

  /** `maxWorkers`. */
  protected override defaultConcurrency(): number {
    return this.#pool.maxWorkers;
  }
}
