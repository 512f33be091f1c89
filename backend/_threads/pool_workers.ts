/**
 * The threads of one worker pool ({@linkcode WorkerSet}, used by `WorkerPool`
 * in `pool.ts`): the workers alive, the idle ones and their retirement after
 * the idle timeout, and termination (awaited when the runtime's `terminate()`
 * is asynchronous); and the count of live worker threads over every pool
 * ({@linkcode activeThreadWorkers}).
 *
 * @module
 */

import type { ThreadFunction } from "../abc/threads.ts";
import { type LeakEntry, trackResource } from "../_core/leaks.ts";
import { clampDelay, type TimerHost } from "../_core/timers.ts";
import type { PoolJob, PoolWorker, SpawnWorker } from "./pool_job.ts";

/** Options of {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** Starts a worker. */
  spawn: SpawnWorker;
  /** Timers for idle retirement (timers are unref'd). */
  timers: TimerHost;
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

let liveWorkers = 0;

/**
 * The number of worker threads started by this library's pools that are still
 * alive. `0` once every runner and executor that used threads is closed.
 *
 * @example
 * ```ts
 * import { activeThreadWorkers } from "@easynetwork/async-backend/testing";
 *
 * console.log(activeThreadWorkers()); // 0
 * ```
 */
export function activeThreadWorkers(): number {
  return liveWorkers;
}

/** The workers of one pool: alive, idle, terminating. */
export class WorkerSet {
  #timers: TimerHost;
  #idleTimeout: number;
  #onTerminated: () => void;
  #workers: Set<PoolWorker> = new Set();
  #idle: PoolWorker[] = [];
  #sweep: unknown = undefined;
  #sweepLeak: LeakEntry | null = null;
  #terminating: Set<Promise<void>> = new Set();

  /**
   * @param timers Timers for idle retirement (unref'd).
   * @param idleTimeout How long an idle worker lives, in ms.
   * @param onTerminated Told each time an asynchronous termination settles.
   */
  constructor(timers: TimerHost, idleTimeout: number, onTerminated: () => void) {
    this.#timers = timers;
    this.#idleTimeout = idleTimeout;
    this.#onTerminated = onTerminated;
  }

  /** How many workers are alive. */
  get size(): number {
    return this.#workers.size;
  }

  /** `true` while a removed worker's termination has not settled. */
  get terminating(): boolean {
    return this.#terminating.size > 0;
  }

  /** The live workers (do not change the set while iterating). */
  get all(): ReadonlySet<PoolWorker> {
    return this.#workers;
  }

  /** Every live worker. */
  list(): PoolWorker[] {
    return Array.from(this.#workers);
  }

  /** Tracks a started worker. */
  add(worker: PoolWorker): void {
    liveWorkers++;
    this.#workers.add(worker);
  }

  /** Takes `worker` out of the idle list: it has calls again. */
  unpark(worker: PoolWorker): void {
    worker.parked = false;
    const index = this.#idle.indexOf(worker);
    if (index >= 0) this.#idle.splice(index, 1);
  }

  /** Parks `worker` as idle; it retires after the idle timeout. */
  park(worker: PoolWorker): void {
    if (worker.parked) return;
    worker.parked = true;
    worker.idleSince = this.#timers.now();
    this.#idle.push(worker);
    if (this.#sweep === undefined) this.#armSweep(this.#idleTimeout);
  }

  /** Terminates every idle worker. */
  removeIdle(): void {
    for (const worker of this.#idle.splice(0)) {
      worker.parked = false;
      this.remove(worker);
    }
  }

  /** Resolves once every termination under way has settled. */
  async settled(): Promise<void> {
    while (this.#terminating.size > 0) await Promise.all(this.#terminating);
  }

  /**
   * Takes back, for `thief`, half the calls waiting in the inbox of the
   * worker holding the most calls (the latest sent; none that travel alone),
   * in the order they were sent. Each is back in the queued state.
   */
  takeWaiting(thief: PoolWorker): PoolJob[] {
    let victim: PoolWorker | null = null;
    for (const worker of this.#workers) {
      if (worker !== thief && worker.jobs.size > (victim?.jobs.size ?? 1)) victim = worker;
    }
    if (victim === null) return [];
    const jobs = [...victim.jobs.values()];
    let waiting = 0;
    for (const job of jobs) if (job.queued && !job.solo) waiting++;
    const stolen: PoolJob[] = [];
    for (let i = jobs.length - 1; i >= 0 && stolen.length < Math.ceil(waiting / 2); i--) {
      const job = jobs[i];
      if (job.solo || !victim.takeBack(job)) continue;
      job.requeue();
      stolen.push(job);
    }
    return stolen.reverse();
  }

  /** Workers busy with their initializer: they will take queued jobs. */
  starting(): number {
    let n = 0;
    for (const worker of this.#workers) if (worker.initializing) n++;
    return n;
  }

  /** Terminates `worker` and forgets it. Idempotent. */
  remove(worker: PoolWorker): void {
    if (worker.dead) return;
    worker.dead = true;
    worker.leak?.release();
    this.#workers.delete(worker);
    if (worker.parked) this.unpark(worker);
    let result: void | Promise<void>;
    try {
      result = worker.handle.terminate();
    } catch {
      result = undefined;
    }
    if (result instanceof Promise) {
      const done: Promise<void> = result.then(() => {}, () => {}).finally(() => {
        liveWorkers--;
        this.#terminating.delete(done);
        this.#onTerminated();
      });
      this.#terminating.add(done);
    } else {
      liveWorkers--;
    }
  }

  #armSweep(ms: number): void {
    const timers = this.#timers;
    // Clamped: an idle timeout past 2^31 - 1 ms (Infinity) would fire at once, again and again.
    const leak = this.#sweepLeak = trackResource("timer", "the idle sweep of a thread pool");
    const id = timers.setTimer(() => {
      this.#sweep = undefined;
      leak?.release();
      this.#retireIdle();
    }, clampDelay(ms));
    timers.refTimer(id, false);
    this.#sweep = id;
  }

  /** Stops the idle-retirement timer. */
  clearSweep(): void {
    if (this.#sweep !== undefined) this.#timers.clearTimer(this.#sweep);
    this.#sweep = undefined;
    this.#sweepLeak?.release();
  }

  #retireIdle(): void {
    const now = this.#timers.now();
    const idle = this.#idle;
    let retired = 0;
    while (retired < idle.length && now - idle[retired].idleSince >= this.#idleTimeout) retired++;
    for (const worker of idle.splice(0, retired)) {
      worker.parked = false;
      this.remove(worker);
    }
    if (idle.length > 0) this.#armSweep(Math.max(1, idle[0].idleSince + this.#idleTimeout - now));
  }
}
