/**
 * `AsyncExecutor`: an executor's futures awaited as checkpoints.
 *
 * @module
 */

import type { AsyncBackend } from "../backend/abc/async_backend.ts";
import type { AnyFunction, CancellableFuture, ThreadFunction } from "../backend/abc/threads.ts";
import { describe } from "../backend/_util/validate.ts";
import { ClosedResourceError } from "../backend/errors.ts";

/** Anything that runs functions and hands back cancellable futures. */
export interface Executor {
  /** Starts `fn(...args)`; the future settles with its outcome. */
  // deno-lint-ignore no-explicit-any
  submit(fn: any, ...args: any[]): CancellableFuture<unknown>;
  /**
   * Stops accepting work; with `cancelFutures`, pending work is cancelled. With
   * `wait`, the returned promise settles once the running work finished.
   */
  shutdown?(options: { wait: boolean; cancelFutures: boolean }): void | PromiseLike<void>;
}

/** Options of {@linkcode AsyncExecutor.shutdown} and {@linkcode AsyncExecutor.shutdownNowait}. */
export interface ExecutorShutdownOptions {
  /** Cancel the work that has not started yet (default `false`: it still runs). */
  cancelFutures?: boolean;
}

/** Options of {@linkcode AsyncExecutor.map}. */
export interface ExecutorMapOptions {
  /** Most calls in flight at once (a positive integer). */
  concurrency?: number;
}

/**
 * Wraps an {@linkcode Executor} so that its work is awaited as checkpoints of
 * a backend: `run()` submits and waits with `backend.waitFuture()` (a
 * cancelled caller cancels the future).
 *
 * @example Over any object with a `submit()`
 * ```ts
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 * import { AsyncExecutor } from "@easynetwork/async-backend/futures";
 *
 * const inline = {
 *   submit: (fn: (...args: number[]) => number, ...args: number[]) => Promise.resolve(fn(...args)),
 * };
 * const backend = new DenoBackend();
 * await backend.bootstrap(async () => {
 *   await using executor = new AsyncExecutor(backend, inline);
 *   console.log(await executor.run((a: number, b: number) => a * b, 6, 7)); // 42
 * });
 * ```
 */
export class AsyncExecutor {
  readonly #backend: AsyncBackend;
  readonly #executor: Executor;
  #shutdown = false;

  /**
   * Wraps `executor`; nothing runs until `run()`.
   *
   * @param backend The backend whose checkpoints await the futures.
   * @param executor The executor that runs the work.
   */
  constructor(backend: AsyncBackend, executor: Executor) {
    if (backend === null || typeof backend !== "object") {
      throw new TypeError(`The 'backend' argument must be an AsyncBackend, got ${describe(backend)}`);
    }
    if (executor === null || typeof executor !== "object" || typeof executor.submit !== "function") {
      throw new TypeError(`The 'executor' argument must have a submit() method, got ${describe(executor)}`);
    }
    this.#backend = backend;
    this.#executor = executor;
  }

  /** The backend given to the constructor. */
  get backend(): AsyncBackend {
    return this.#backend;
  }

  /** `true` once `shutdown()` or `shutdownNowait()` was called. */
  get isShutdown(): boolean {
    return this.#shutdown;
  }

  /**
   * Submits `fn(...args)` and waits for its result as a checkpoint.
   *
   * @param fn The function, in the form the executor takes (a thread function reference for a thread pool).
   * @param args Its arguments.
   */
  run<F extends AnyFunction>(fn: F | ThreadFunction<F>, ...args: Parameters<F>): Promise<Awaited<ReturnType<F>>> {
    if (this.#shutdown) return Promise.reject(new ClosedResourceError("Cannot call run(): the executor is shut down"));
    let future: CancellableFuture<unknown>;
    try {
      future = this.#executor.submit(fn, ...args);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#backend.waitFuture(future) as Promise<Awaited<ReturnType<F>>>;
  }

  /**
   * Runs `fn(item)` for every item, at most `concurrency` at once, in a task
   * group of the caller; resolves the results in the items' order. The first
   * error cancels the other calls and rejects.
   *
   * @param fn A one-argument function (use an array argument for several values).
   * @param items The arguments.
   * @param options The bound on calls in flight.
   */
  // deno-lint-ignore no-explicit-any
  async map<F extends (arg: any) => any>(
    fn: F | ThreadFunction<F>,
    items: Iterable<Parameters<F>[0]>,
    options: ExecutorMapOptions = {},
  ): Promise<Awaited<ReturnType<F>>[]> {
    const concurrency = options.concurrency ?? this.defaultConcurrency();
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`The 'concurrency' option must be a positive integer, got ${describe(concurrency)}`);
    }
    if (items === null || typeof (items as Iterable<unknown>)?.[Symbol.iterator] !== "function") {
      throw new TypeError(`The 'items' argument must be iterable, got ${describe(items)}`);
    }
    const iterator = items[Symbol.iterator]();
    const results: Awaited<ReturnType<F>>[] = [];
    let index = 0;
    const lane = async (): Promise<void> => {
      for (let next = iterator.next(); !next.done; next = iterator.next()) {
        const at = index++;
        results[at] = await this.run(fn, ...([next.value] as Parameters<F>));
      }
    };
    await this.#backend.createTaskGroup((tg) => {
      for (let i = 0; i < concurrency; i++) tg.startSoon(lane);
    });
    return results;
  }

  /** The `concurrency` of `map()` when none is given. */
  protected defaultConcurrency(): number {
    return 8;
  }

  /**
   * Stops accepting work without waiting for the running work.
   *
   * @param options Whether to cancel the work not started yet.
   */
  shutdownNowait(options: ExecutorShutdownOptions = {}): void {
    this.#shutdown = true;
    void this.#executor.shutdown?.({ wait: false, cancelFutures: options.cancelFutures ?? false });
  }

  /**
   * Stops accepting work and waits (a checkpoint) for the work already
   * submitted; with `cancelFutures`, the work not started yet is cancelled.
   *
   * @param options Whether to cancel the work not started yet.
   */
  async shutdown(options: ExecutorShutdownOptions = {}): Promise<void> {
    this.#shutdown = true;
    const done = this.#executor.shutdown?.({ wait: true, cancelFutures: options.cancelFutures ?? false });
    if (done !== undefined && typeof (done as PromiseLike<void>).then === "function") {
      await this.#backend.waitFuture(done as PromiseLike<void>);
    }
  }

  /** Same as `shutdown()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}
