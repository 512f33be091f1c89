/**
 * A bounded, lazily started pool of worker threads. Runtime-neutral: each
 * backend injects how to start a worker ({@linkcode SpawnWorker}). This file
 * holds the calls: queueing, dispatch, and what the workers report about them;
 * the threads' life-cycle is `pool_workers.ts`, a call's parts `pool_job.ts`.
 *
 * Design (issue 13): a worker holds up to `CALL_SLOTS` (512) calls at once, runs
 * them one at a time in order, and the calls submitted in one tick travel in
 * one message (results come back the same way). One call per worker at a time
 * cost a round trip per call: 100k tiny calls on 2 workers ran at 4.5-9x raw
 * pipelined `postMessage` (piscina, which does the same, no better). What
 * pipelining must not lose:
 * - a call waiting in a worker's inbox is still dropped exactly when its
 *   caller is cancelled: its slot in a `SharedArrayBuffer` holds its id; the
 *   worker swaps it to `-id` before running the call, the loop swaps it to 0
 *   to take it back, and whoever swaps first decides (`PoolWorker.takeBack`);
 * - a short call never waits behind a long one while another worker is idle:
 *   calls are spread over the workers with the fewest calls, and a worker left
 *   with nothing takes back half of the calls that have not started from the
 *   busiest worker's inbox (work stealing, `#steal`);
 * - a worker that dies or is terminated gives back the calls that have not
 *   started: they run on another worker; the started one gets the error.
 * Measured figures: PERF_NOTES / README "Threads" (thread_pool_bench.ts).
 *
 * @module
 */

import type { ThreadFunction } from "../abc/threads.ts";
import { BrokenWorkerError, CancelledError, ClosedResourceError } from "../errors.ts";
import type { CancelScope } from "../_core/cancel_scope.ts";
import {
  describeThreadFunction,
  dispatchJobs,
  type JobListener,
  knownError,
  PoolJob,
  type PoolWorker,
  type PoolWorkerEvents,
  type SpawnWorker,
  startPoolWorker,
} from "./pool_job.ts";
import { type FromWorker, reviveError, type SerializedError } from "./protocol.ts";
import { type WorkerPoolOptions, WorkerSet } from "./pool_workers.ts";
import { CallQueue } from "./pool_queue.ts";

export { describeThreadFunction, PoolJob, type SpawnWorker, type ThreadWorker, type WorkerEvents } from "./pool_job.ts";
export { activeThreadWorkers, type WorkerPoolOptions } from "./pool_workers.ts";

const UNREADABLE = "could not be deserialized in its worker thread";
const named = (job: PoolJob): string => describeThreadFunction(job.ref);
/** Job ids stay positive 31-bit integers: they are stored in the call slots. */
const MAX_JOB_ID = 0x3fffffff;

/** The pool. */
export class WorkerPool {
  #spawn: SpawnWorker;
  #max: number;
  #prefix: string;
  #initializer: ThreadFunction | undefined;
  #initargs: unknown[];
  #workers: WorkerSet;
  #queue: CallQueue = new CallQueue();
  #nextJob = 1;
  #nextName = 0;
  #accepting = true;
  #scheduled = false;
  #error: Error | null = null;
  #drained: { promise: Promise<void>; resolve: () => void } | null = null;

  /** @param options The pool's options. */
  constructor(options: WorkerPoolOptions) {
    this.#spawn = options.spawn;
    this.#max = options.maxWorkers ?? Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 4);
    this.#workers = new WorkerSet(options.timers, options.idleTimeout ?? 10_000, () => this.#checkDrained());
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
   * Submits a call; the calls of one tick after the first are sent together, from a microtask.
   * `onDone.jobDone(ok, value)` receives the result or the error, once. Throws when
   * the pool no longer accepts calls.
   *
   * @param ref The function.
   * @param args Its arguments.
   * @param onDone Told the outcome, once.
   * @param scope The caller's cancel scope, in which the worker's portal calls run.
   */
  submit(ref: ThreadFunction, args: unknown[], onDone: JobListener, scope: CancelScope | null = null): PoolJob {
    if (!this.#accepting) throw this.#error ?? new ClosedResourceError("The thread pool is shut down");
    const id = this.#nextJob;
    this.#nextJob = id === MAX_JOB_ID ? 1 : id + 1;
    const job = new PoolJob(id, ref, args, onDone, scope);
    this.#queue.push(job);
    // Started here, not from the microtask: the leak report names the caller's frame.
    this.#grow();
    if (!this.#scheduled) {
      // The first call of a tick goes at once (a round trip waits for no microtask), the rest together.
      this.#scheduled = true;
      this.#dispatch();
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#dispatch();
      });
    }
    return job;
  }

  /**
   * Drops a call that has not started (queued here, or waiting in a worker's
   * inbox): it never runs and its `onDone` is not called. `false` when it had
   * started (or settled) already.
   */
  dequeue(job: PoolJob): boolean {
    if (job.pending) {
      this.#queue.dropped();
    } else if (!job.sent || !job.worker!.takeBack(job)) {
      return false;
    } else {
      const worker = job.worker!;
      if (worker.jobs.size === 0 || this.#queue.size > 0) queueMicrotask(() => this.#ready(worker));
    }
    job.detach();
    job.finish(false, undefined);
    return true;
  }

  /** Sets the running job's cancel flag and aborts its worker-side signal. */
  signalCancel(job: PoolJob): void {
    if (job.sent) job.worker!.signalCancel(job);
  }

  /** Terminates the worker running `job`; its calls that have not started move to other workers. */
  terminateJob(job: PoolJob): void {
    const worker = job.worker;
    job.detach();
    job.finish(false, undefined);
    if (worker === null || worker.dead || !worker.jobs.has(job.id)) return;
    worker.release(job);
    this.#retire(worker, (other) =>
      new BrokenWorkerError(
        `The worker thread running ${named(other)} was terminated (onCancel "terminate" ` +
          `of the call before it)`,
      ));
  }

  /**
   * Stops accepting calls. With `cancelPending`, calls that have not started
   * reject with `CancelledError`; otherwise they still run. Workers are
   * terminated as they become idle. Resolves once every worker is gone.
   */
  shutdown(cancelPending: boolean): Promise<void> {
    this.#accepting = false;
    if (cancelPending) {
      const error = () => new CancelledError("The thread pool was shut down");
      this.#queue.rejectAll(error);
      for (const worker of this.#workers.list()) {
        worker.empty(error);
        if (worker.jobs.size === 0) this.#ready(worker);
      }
    }
    this.#workers.removeIdle();
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
    const notStarted = () => new ClosedResourceError("The thread pool was closed before the call started");
    this.#queue.rejectAll(notStarted);
    for (const worker of this.#workers.list()) {
      worker.empty(
        notStarted,
        (job) => new ClosedResourceError(`The thread pool was closed while ${describeThreadFunction(job.ref)} ran`),
      );
      this.#workers.remove(worker);
    }
    this.#workers.clearSweep();
    if (this.#workers.terminating) await this.#workers.settled();
    this.#drained?.resolve();
  }

  #startWorker(): void {
    const name = `${this.#prefix}_${this.#nextName++}`;
    const started = startPoolWorker(this.#spawn, name, this.#events, this.#initializer, this.#initargs);
    if (started instanceof Error) this.#fail(started);
    else this.#workers.add(started);
  }

  #events: PoolWorkerEvents = {
    message: (worker, message) => this.#onMessage(worker, message),
    died: (worker, reason, code) => this.#onDeath(worker, reason, code),
    undeliverable: (worker, error) => this.#onUndeliverable(worker, error),
  };

  #onMessage(worker: PoolWorker, message: FromWorker): void {
    if (worker.dead) return;
    if (!Array.isArray(message)) {
      if (message.t === "exit") this.#onDeath(worker, message.reason);
      else if (message.t === "lost") this.#onLost(worker, message.reason);
      return;
    }
    if (worker.initializing) {
      if (message[0] !== 0) return;
      worker.initializing = false;
      if (message[1] === true) {
        this.#ready(worker);
      } else {
        const cause = reviveError(message[2] as SerializedError, knownError);
        this.#workers.remove(worker);
        const name = describeThreadFunction(this.#initializer!);
        this.#fail(new Error(`The thread pool's initializer ${name} failed: ${cause.message}`, { cause }));
      }
      return;
    }
    const jobs = worker.jobs;
    for (let i = 0; i < message.length; i += 3) {
      const job = jobs.get(message[i] as number);
      if (job === undefined) continue;
      worker.release(job);
      if (message[i + 1] === true) job.finish(true, message[i + 2]);
      else job.finish(false, reviveError(message[i + 2] as SerializedError, knownError));
    }
    this.#ready(worker);
  }

  #onDeath(worker: PoolWorker, reason: string, code?: string): void {
    if (worker.dead) return;
    if (worker.initializing) {
      return this.#initFailed(
        worker,
        new BrokenWorkerError(`A worker died while running the pool's initializer: ${reason}`, code),
      );
    }
    this.#retire(
      worker,
      (job) => new BrokenWorkerError(`The worker thread running ${named(job)} died: ${reason}`, code),
    );
  }

  /**
   * The worker could not deserialize a message: its calls never start; the
   * worker is replaced (Deno's ports deliver nothing more). One call not started
   * is the lost one: it rejects; several go back, to travel alone (`solo`).
   */
  #onLost(worker: PoolWorker, reason: string): void {
    if (worker.initializing) {
      const name = describeThreadFunction(this.#initializer!);
      return this.#initFailed(
        worker,
        new TypeError(`The arguments of the thread pool's initializer ${name} ${UNREADABLE}: ${reason}`),
      );
    }
    let unstarted = 0;
    for (const job of worker.jobs.values()) if (job.queued) unstarted++;
    this.#retire(
      worker,
      (job) => new BrokenWorkerError(`The worker thread running ${named(job)} was replaced: ${reason}`),
      unstarted === 1 ? (job) => new TypeError(`The arguments of ${named(job)} ${UNREADABLE}: ${reason}`) : undefined,
      true,
    );
  }

  /** A message from `worker` could not be deserialized here: its results are lost; the worker is replaced. */
  #onUndeliverable(worker: PoolWorker, error: unknown): void {
    if (worker.dead) return;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (worker.initializing) {
      return this.#initFailed(
        worker,
        new Error(`A worker's message could not be deserialized while it ran the initializer: ${reason}`),
      );
    }
    this.#retire(worker, (job) =>
      new TypeError(
        `The result of ${named(job)} could not be deserialized on the loop's thread: ${reason}`,
        { cause: error },
      ));
  }

  /**
   * Terminates `worker`. Its calls that have not started go back to the front
   * of the queue (or, with `lost`, reject with it); the others reject with
   * `started(job)`. Replacements start while calls wait.
   */
  #retire(worker: PoolWorker, started: (job: PoolJob) => Error, lost?: (job: PoolJob) => Error, solo = false): void {
    const back = worker.empty(lost, started);
    for (const job of back) {
      // The worker never saw the portals' channels (or will never use them).
      if (job.rollbacks !== null) { for (const rollback of job.rollbacks) rollback(); }
      job.requeue();
      job.solo ||= solo;
    }
    this.#workers.remove(worker);
    this.#queue.putBack(back);
    this.#dispatch();
    this.#checkDrained();
  }

  #initFailed(worker: PoolWorker, error: Error): void {
    this.#workers.remove(worker);
    this.#fail(error);
  }

  /** The pool cannot work (initializer failure, spawn failure): reject everything queued. */
  #fail(error: Error): void {
    this.#error = error;
    this.#accepting = false;
    this.#queue.rejectAll(() => error);
    this.#workers.removeIdle();
    this.#checkDrained();
  }

  /**
   * Sends queued calls: starts workers while calls wait and no worker is free,
   * then spreads the calls over the workers with room, fewest calls first.
   */
  #dispatch(): void {
    this.#grow();
    if (this.#queue.size === 0) return;
    const workers = this.#workers;
    const ready: PoolWorker[] = [];
    for (const worker of workers.all) if (worker.open) ready.push(worker);
    if (ready.length > 1) ready.sort((a, b) => a.jobs.size - b.jobs.size);
    let left = ready.length;
    for (const worker of ready) {
      if (this.#queue.size === 0) break;
      this.#send(worker, Math.min(worker.free.length, Math.ceil(this.#queue.size / left--)));
    }
  }

  /** Starts workers while more calls wait than workers are free, up to the maximum. */
  #grow(): void {
    const workers = this.#workers;
    while (this.#accepting && this.#queue.size > 0 && workers.size < this.#max) {
      let spare = 0;
      for (const worker of workers.all) if (worker.initializing || worker.jobs.size === 0) spare++;
      if (this.#queue.size <= spare) break;
      this.#startWorker();
    }
  }

  /** Sends `worker` up to `n` queued calls in one message; a call that lost its message goes alone. */
  #send(worker: PoolWorker, n: number): void {
    const batch = this.#queue.take(n, worker.jobs.size);
    if (batch.length === 0) return;
    if (worker.parked) this.#workers.unpark(worker);
    dispatchJobs(worker, batch);
    if (worker.jobs.size === 0) this.#ready(worker);
  }

  /** `worker` has room: give it queued calls, or calls taken back from a busy worker, or park it. */
  #ready(worker: PoolWorker): void {
    if (worker.dead || worker.initializing) return;
    if (this.#queue.size > 0) this.#dispatch();
    if (worker.jobs.size > 0 || worker.dead) return;
    if (!this.#accepting && this.#queue.size === 0) {
      this.#workers.remove(worker);
      this.#checkDrained();
      return;
    }
    if (!this.#steal(worker)) this.#workers.park(worker);
  }

  /** Moves half the calls waiting in the busiest worker's inbox (the latest sent) to `thief`. */
  #steal(thief: PoolWorker): boolean {
    const stolen = this.#workers.takeWaiting(thief);
    if (stolen.length === 0) return false;
    if (thief.parked) this.#workers.unpark(thief);
    dispatchJobs(thief, stolen);
    return thief.jobs.size > 0;
  }

  #checkDrained(): void {
    if (this.#drained === null || this.#accepting || this.#workers.size > 0 || this.#workers.terminating) return;
    this.#workers.clearSweep();
    this.#drained.resolve();
  }
}
