/**
 * A bounded, lazily started pool of worker threads. Runtime-neutral: each
 * backend injects how to start a worker ({@linkcode SpawnWorker}).
 *
 * @module
 */

import type { ThreadFunction } from "../abc/threads.ts";
import { BrokenWorkerError, CancelledError, ClosedResourceError } from "../errors.ts";
import type { CancelScope } from "../_core/cancel_scope.ts";
import { clampDelay, type TimerHost } from "../_core/timers.ts";
import { Fifo } from "../_util/fifo.ts";
import { type LeakEntry, trackResource } from "../_core/leaks.ts";
import {
  describeThreadFunction,
  functionKey,
  INIT,
  knownError,
  PoolJob,
  PoolWorker,
  type SpawnWorker,
  type ThreadWorker,
  type WorkerEvents,
} from "./pool_job.ts";
import {
  cloneError,
  type FromWorker,
  reviveError,
  type SerializedError,
  TO_WORKER,
  type TransferItem,
  type WorkerTransferable,
} from "./protocol.ts";

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

export { describeThreadFunction, PoolJob, type SpawnWorker, type ThreadWorker, type WorkerEvents } from "./pool_job.ts";

const NO_TRANSFER: TransferItem[] = [];

const UNREADABLE = "could not be deserialized in its worker thread";

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

/** The pool. */
export class WorkerPool {
  #spawn: SpawnWorker;
  #timers: TimerHost;
  #max: number;
  #idleTimeout: number;
  #prefix: string;
  #initializer: ThreadFunction | undefined;
  #initargs: unknown[];
  #workers: Set<PoolWorker> = new Set();
  #idle: PoolWorker[] = [];
  #queue: Fifo<PoolJob> = new Fifo();
  #queued = 0;
  #nextJob = 1;
  #nextName = 0;
  #sweep: unknown = undefined;
  #sweepLeak: LeakEntry | null = null;
  #accepting = true;
  #error: Error | null = null;
  #terminating: Set<Promise<void>> = new Set();
  #drained: { promise: Promise<void>; resolve: () => void } | null = null;

  /** @param options The pool's options. */
  constructor(options: WorkerPoolOptions) {
    this.#spawn = options.spawn;
    this.#timers = options.timers;
    this.#max = options.maxWorkers ?? Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 4);
    this.#idleTimeout = options.idleTimeout ?? 10_000;
    this.#prefix = options.namePrefix ?? "async-backend-thread";
    this.#initializer = options.initializer;
    this.#initargs = options.initargs ?? [];
  }

  /** Most workers alive at once. */
  get maxWorkers(): number {
    return this.#max;
  }

  /** `false` once the pool is shutting down. */
  get accepting(): boolean {
    return this.#accepting;
  }

  /**
   * Submits a call. `onDone(ok, value)` receives the result or the error (it
   * may be called before `submit` returns, when the arguments cannot be sent).
   * Throws when the pool no longer accepts calls.
   *
   * @param ref The function.
   * @param args Its arguments.
   * @param onDone Told the outcome, once.
   * @param scope The caller's cancel scope, in which the worker's portal calls run.
   */
  submit(
    ref: ThreadFunction,
    args: unknown[],
    onDone: (ok: boolean, value: unknown) => void,
    scope: CancelScope | null = null,
  ): PoolJob {
    if (!this.#accepting) throw this.#error ?? new ClosedResourceError("The thread pool is shut down");
    const job = new PoolJob(this.#nextJob++, ref, args, onDone, scope);
    const worker = this.#idle.pop();
    if (worker !== undefined) {
      // A failed post leaves the worker unused: give it back (or the next queued job).
      if (!this.#dispatch(worker, job)) this.#free(worker);
      return job;
    }
    this.#queue.push(job);
    this.#queued++;
    if (this.#workers.size < this.#max) this.#startWorker();
    return job;
  }

  /** Removes a queued job; it never runs. */
  dequeue(job: PoolJob): void {
    if (!job.queued) return;
    job.detach();
    job.finish(false, undefined);
    this.#queued--;
  }

  /** Sets the running job's cancel flag and aborts its worker-side signal. */
  signalCancel(job: PoolJob): void {
    const worker = job.worker;
    if (!job.running || worker === null) return;
    job.cancelled = true;
    Atomics.store(worker.flag, 0, 1);
    try {
      worker.handle.postMessage({ t: "cancel", id: job.id }, []);
    } catch {
      // The worker is going away; its death settles the job.
    }
  }

  /** Terminates the worker running `job` and replaces it when calls wait. */
  terminateJob(job: PoolJob): void {
    const worker = job.worker;
    job.detach();
    job.finish(false, undefined);
    if (worker === null || worker.job !== job) return;
    worker.job = null;
    this.#remove(worker);
    this.#fill();
    this.#checkDrained();
  }

  /**
   * Stops accepting calls. With `cancelPending`, queued calls reject with
   * `CancelledError`; otherwise they still run. Workers are terminated as they
   * become idle. Resolves once every worker is gone.
   */
  shutdown(cancelPending: boolean): Promise<void> {
    this.#accepting = false;
    if (cancelPending) this.#rejectQueued(() => new CancelledError("The thread pool was shut down"));
    for (const worker of this.#idle.splice(0)) this.#remove(worker);
    if (this.#drained === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => resolve = done);
      this.#drained = { promise, resolve };
    }
    this.#checkDrained();
    return this.#drained.promise;
  }

  /** Terminates every worker now; pending calls reject. Never hangs. */
  async close(): Promise<void> {
    this.#accepting = false;
    this.#rejectQueued(() => new ClosedResourceError("The thread pool was closed before the call started"));
    for (const worker of Array.from(this.#workers)) {
      const job = worker.job;
      worker.job = null;
      if (job instanceof PoolJob) {
        job.finish(
          false,
          new ClosedResourceError(`The thread pool was closed while ${describeThreadFunction(job.ref)} ran`),
        );
      }
      this.#remove(worker);
    }
    this.#idle.length = 0;
    this.#clearSweep();
    while (this.#terminating.size > 0) await Promise.all(this.#terminating);
    this.#drained?.resolve();
  }

  #rejectQueued(error: () => Error): void {
    for (let job = this.#queue.shift(); job !== undefined; job = this.#queue.shift()) {
      if (job.queued) job.finish(false, error());
    }
    this.#queued = 0;
  }

  #startWorker(): void {
    const name = `${this.#prefix}_${this.#nextName++}`;
    const flag = new Int32Array(new SharedArrayBuffer(4));
    let worker: PoolWorker | undefined = undefined;
    const events: WorkerEvents = {
      message: (message) => {
        if (worker !== undefined) this.#onMessage(worker, message);
      },
      died: (reason, code) => {
        if (worker !== undefined) this.#onDeath(worker, reason, code);
      },
      undeliverable: (error) => {
        if (worker !== undefined) this.#onUndeliverable(worker, error);
      },
    };
    let handle: ThreadWorker;
    try {
      handle = this.#spawn(name, events);
    } catch (error) {
      this.#fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    liveWorkers++;
    worker = new PoolWorker(name, handle, flag);
    worker.leak = trackResource("worker", `worker thread ${name}`);
    this.#workers.add(worker);
    const initializer = this.#initializer;
    try {
      handle.postMessage({
        t: "init",
        name,
        flag: flag.buffer as SharedArrayBuffer,
        initializer: initializer === undefined
          ? undefined
          : { url: initializer.moduleUrl, name: initializer.exportName, args: this.#initargs },
      }, []);
    } catch (error) {
      this.#remove(worker);
      this.#fail(
        initializer === undefined
          ? new Error(`Cannot start a worker: ${error instanceof Error ? error.message : error}`, { cause: error })
          : cloneError(
            `The arguments of the thread pool's initializer ${describeThreadFunction(initializer)}`,
            "to a worker thread",
            error,
          ),
      );
      return;
    }
    if (initializer !== undefined) worker.job = INIT;
    else this.#free(worker);
  }

  #onMessage(worker: PoolWorker, message: FromWorker): void {
    if (worker.dead) return;
    if (!Array.isArray(message)) {
      if (message.t === "exit") this.#onDeath(worker, message.reason);
      else if (message.t === "lost") this.#onLost(worker, message.reason);
      return;
    }
    const [id, ok, payload] = message;
    const job = worker.job;
    if (id === 0 && job === INIT) {
      worker.job = null;
      if (ok) {
        this.#free(worker);
      } else {
        const cause = reviveError(payload as SerializedError, knownError);
        this.#remove(worker);
        const name = describeThreadFunction(this.#initializer!);
        this.#fail(new Error(`The thread pool's initializer ${name} failed: ${cause.message}`, { cause }));
      }
      return;
    }
    if (!(job instanceof PoolJob) || job.id !== id) return;
    worker.job = null;
    job.worker = null;
    if (ok) job.finish(true, payload);
    else job.finish(false, reviveError(payload as SerializedError, knownError));
    this.#free(worker);
  }

  #onDeath(worker: PoolWorker, reason: string, code?: string): void {
    if (worker.dead) return;
    const job = worker.job;
    worker.job = null;
    this.#remove(worker);
    if (job === INIT) {
      this.#fail(new BrokenWorkerError(`A worker died while running the thread pool's initializer: ${reason}`, code));
    } else if (job !== null) {
      job.finish(
        false,
        new BrokenWorkerError(`The worker thread running ${describeThreadFunction(job.ref)} died: ${reason}`, code),
      );
    }
    this.#fill();
    this.#checkDrained();
  }

  /**
   * The worker could not deserialize the message of its call (or initializer):
   * the call never started; it rejects. The worker is replaced: after a
   * `messageerror`, Deno's ports deliver nothing more.
   */
  #onLost(worker: PoolWorker, reason: string): void {
    const job = worker.job;
    worker.job = null;
    this.#remove(worker);
    if (job === INIT) {
      const name = describeThreadFunction(this.#initializer!);
      this.#fail(new TypeError(`The arguments of the thread pool's initializer ${name} ${UNREADABLE}: ${reason}`));
      return;
    }
    if (job instanceof PoolJob) {
      job.worker = null;
      // The worker never saw the portals' channels.
      if (job.rollbacks !== null) { for (const rollback of job.rollbacks) rollback(); }
      job.finish(false, new TypeError(`The arguments of ${describeThreadFunction(job.ref)} ${UNREADABLE}: ${reason}`));
    }
    this.#fill();
    this.#checkDrained();
  }

  /**
   * A message from `worker` could not be deserialized here: the result of its
   * call is lost; the call rejects and the worker is replaced (see `#onLost`).
   */
  #onUndeliverable(worker: PoolWorker, error: unknown): void {
    if (worker.dead) return;
    const job = worker.job;
    worker.job = null;
    this.#remove(worker);
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (job instanceof PoolJob) {
      job.worker = null;
      job.finish(
        false,
        new TypeError(
          `The result of ${describeThreadFunction(job.ref)} could not be deserialized on the loop's thread: ${reason}`,
          { cause: error },
        ),
      );
    } else if (job === INIT) {
      this.#fail(new Error(`A worker's message could not be deserialized while it ran the initializer: ${reason}`));
      return;
    }
    this.#fill();
    this.#checkDrained();
  }

  /** The pool cannot work (initializer failure, spawn failure): reject everything queued. */
  #fail(error: Error): void {
    this.#error = error;
    this.#accepting = false;
    this.#rejectQueued(() => error);
    for (const worker of this.#idle.splice(0)) this.#remove(worker);
    this.#checkDrained();
  }

  /** Gives `worker` the next queued job, or parks it. */
  #free(worker: PoolWorker): void {
    while (this.#queued > 0) {
      const job = this.#queue.shift()!;
      if (!job.queued) continue;
      this.#queued--;
      if (this.#dispatch(worker, job)) return;
    }
    if (!this.#accepting) {
      this.#remove(worker);
      this.#checkDrained();
      return;
    }
    worker.idleSince = this.#timers.now();
    this.#idle.push(worker);
    if (this.#sweep === undefined) this.#armSweep(this.#idleTimeout);
  }

  /**
   * Posts `job` to `worker`; `false` when the post failed (arguments that
   * cannot be cloned): the job is settled with the error and `worker` is left
   * as it was, for the caller to reuse.
   */
  #dispatch(worker: PoolWorker, job: PoolJob): boolean {
    let args = job.args;
    let transfer: TransferItem[] = NO_TRANSFER;
    let rollbacks: (() => void)[] | null = null;
    for (let i = 0; i < args.length; i++) {
      const arg = args[i];
      if (arg !== null && typeof arg === "object" && TO_WORKER in arg) {
        const encoded = (arg as WorkerTransferable)[TO_WORKER](worker);
        if (rollbacks === null) {
          args = args.slice();
          transfer = [];
          rollbacks = [];
        }
        args[i] = encoded.value;
        transfer.push(...encoded.transfer);
        rollbacks.push(encoded.rollback);
      }
    }
    Atomics.store(worker.flag, 0, 0);
    const key = functionKey(job.ref);
    const known = worker.functions.has(key);
    const fn = known ? key : { key, url: job.ref.moduleUrl, name: job.ref.exportName };
    try {
      worker.handle.postMessage([job.id, fn, args], transfer);
      if (!known) worker.functions.add(key);
    } catch (error) {
      if (rollbacks !== null) { for (const rollback of rollbacks) rollback(); }
      job.finish(
        false,
        cloneError(`The arguments of ${describeThreadFunction(job.ref)}`, "to a worker thread", error),
      );
      return false;
    }
    job.markRunning();
    job.rollbacks = rollbacks;
    job.worker = worker;
    worker.job = job;
    return true;
  }

  /** Starts workers while calls wait and room is left. */
  #fill(): void {
    while (this.#accepting && this.#queued > this.#starting() && this.#workers.size < this.#max) this.#startWorker();
  }

  /** Workers busy with their initializer: they will take queued jobs. */
  #starting(): number {
    let n = 0;
    for (const worker of this.#workers) if (worker.job === INIT) n++;
    return n;
  }

  #remove(worker: PoolWorker): void {
    if (worker.dead) return;
    worker.dead = true;
    worker.leak?.release();
    this.#workers.delete(worker);
    const index = this.#idle.indexOf(worker);
    if (index >= 0) this.#idle.splice(index, 1);
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
        this.#checkDrained();
      });
      this.#terminating.add(done);
    } else {
      liveWorkers--;
    }
  }

  #checkDrained(): void {
    if (this.#drained === null || this.#accepting || this.#workers.size > 0 || this.#terminating.size > 0) return;
    this.#clearSweep();
    this.#drained.resolve();
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

  #clearSweep(): void {
    if (this.#sweep !== undefined) this.#timers.clearTimer(this.#sweep);
    this.#sweep = undefined;
    this.#sweepLeak?.release();
  }

  #retireIdle(): void {
    const now = this.#timers.now();
    const idle = this.#idle;
    let retired = 0;
    while (retired < idle.length && now - idle[retired].idleSince >= this.#idleTimeout) retired++;
    for (const worker of idle.splice(0, retired)) this.#remove(worker);
    if (idle.length > 0) this.#armSweep(Math.max(1, idle[0].idleSince + this.#idleTimeout - now));
  }
}
