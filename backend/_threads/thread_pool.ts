/**
 * The worker pool as executors see it: a narrow, public face of
 * {@linkcode WorkerPool} (`backend/lowlevel.ts` exports it), so that
 * `futures/` builds on a documented API instead of the pool's internals.
 *
 * @module
 */

import type { ThreadFunction } from "../abc/threads.ts";
import { type PoolJob, WorkerPool } from "./pool.ts";
import { runInPool, threadHostOf } from "./run_in_thread.ts";

/** A call submitted to a {@linkcode ThreadPool}. */
export interface ThreadPoolJob {
  /**
   * `true` while the call has not started: it waits for a worker, or in a
   * worker's inbox (it can still be dequeued; a worker may start it any time).
   */
  readonly queued: boolean;
}

/** Options of {@linkcode createThreadPool}. */
export interface ThreadPoolOptions {
  /** Most workers alive at once; default `navigator.hardwareConcurrency`. */
  maxWorkers?: number;
  /** How long an idle worker lives, in ms; default 10 000. */
  idleTimeout?: number;
  /** Worker names are `${namePrefix}_${n}`. */
  namePrefix?: string;
  /** Runs once in every new worker before its first call. */
  initializer?: ThreadFunction;
  /** The initializer's arguments. */
  initargs?: unknown[];
}

/** A pool of worker threads of one backend (the pool behind `AsyncThreadPoolExecutor`). */
export interface ThreadPool {
  /** Most workers alive at once. */
  readonly maxWorkers: number;
  /**
   * Queues a call outside any cancel scope; `done(ok, value)` receives its
   * result or error, once (possibly before `submit` returns, when the arguments
   * cannot be sent). Throws once the pool is shut down.
   */
  submit(fn: ThreadFunction, args: unknown[], done: (ok: boolean, value: unknown) => void): ThreadPoolJob;
  /**
   * Removes a call that has not started: it never runs and `done` is not
   * called. `false` when it had started (a worker took it first).
   */
  dequeue(job: ThreadPoolJob): boolean;
  /** Stops accepting calls; resolves once every worker is gone. With `cancelQueued`, queued calls are dropped. */
  shutdown(cancelQueued: boolean): Promise<void>;
  /** Runs a call as a checkpoint of the caller's scope, with the cancellation of `runInThread()`. */
  run<T>(fn: ThreadFunction, args: unknown[]): Promise<T>;
}

class PoolFace implements ThreadPool {
  readonly #pool: WorkerPool;

  constructor(pool: WorkerPool) {
    this.#pool = pool;
  }

  get maxWorkers(): number {
    return this.#pool.maxWorkers;
  }

  submit(fn: ThreadFunction, args: unknown[], done: (ok: boolean, value: unknown) => void): ThreadPoolJob {
    return this.#pool.submit(fn, args, { jobDone: done });
  }

  dequeue(job: ThreadPoolJob): boolean {
    return this.#pool.dequeue(job as PoolJob);
  }

  shutdown(cancelQueued: boolean): Promise<void> {
    return this.#pool.shutdown(cancelQueued);
  }

  run<T>(fn: ThreadFunction, args: unknown[]): Promise<T> {
    return runInPool<T>(this.#pool, fn, args);
  }
}

/**
 * Makes a pool of worker threads for `backend`, or returns `undefined` when the
 * backend has no worker threads. Workers start on the first call.
 *
 * @example
 * ```ts
 * import { createThreadPool } from "@easynetwork/async-backend/lowlevel";
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 *
 * const pool = createThreadPool(new DenoBackend(), { maxWorkers: 1 });
 * console.log(pool?.maxWorkers); // 1
 * await pool?.shutdown(true);
 * ```
 *
 * @param backend A backend with worker threads (Deno, Node).
 * @param options Pool size, worker names, idle timeout and initializer.
 */
export function createThreadPool(backend: object, options: ThreadPoolOptions = {}): ThreadPool | undefined {
  const host = threadHostOf(backend);
  if (host === undefined) return undefined;
  return new PoolFace(new WorkerPool({ spawn: host.spawn, timers: host.timers, ...options }));
}
