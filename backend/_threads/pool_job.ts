/**
 * What the worker pool ({@linkcode WorkerPool} in `pool.ts`) is made of: the
 * worker a backend starts for it, one submitted call (`PoolJob`, also the
 * caller a portal request is credited to), one tracked worker (`PoolWorker`),
 * the keys that name a function to a worker once, and how a call is posted to
 * its worker (`dispatchJob`).
 *
 * @module
 */

import type { ThreadFunction } from "../abc/threads.ts";
import { CancelledError } from "../errors.ts";
import type { CancelScope } from "../_core/cancel_scope.ts";
import {
  CALL_SLOTS,
  cloneError,
  type FromWorker,
  type PortalCaller,
  type PortalWorker,
  TO_WORKER,
  type ToWorker,
  type TransferItem,
  type WorkerTransferable,
} from "./protocol.ts";
import { type LeakEntry, trackResource } from "../_core/leaks.ts";

/** A started worker, as the pool drives it. */
export interface ThreadWorker {
  /** Posts a message to the worker. */
  postMessage(message: ToWorker, transfer: TransferItem[]): void;
  /** Stops the worker at once. Idempotent; no event is delivered afterwards. */
  terminate(): void | Promise<void>;
}

/** What a worker reports to the pool. */
export interface WorkerEvents {
  /** A message from the worker. */
  message(message: FromWorker): void;
  /**
   * The worker died on its own (uncaught error, exit, out of memory). At most
   * once, never after `terminate()`; `code` is the runtime's code for it
   * (`"ERR_WORKER_OUT_OF_MEMORY"`).
   */
  died(reason: string, code?: string): void;
  /** A message from the worker could not be deserialized here (`messageerror`). */
  undeliverable(error: unknown): void;
}

/** Told the outcome of a call, once: an object, so a caller can be its own listener (no closure per call). */
export interface JobListener {
  /** The result (`ok`) or the error. */
  jobDone(ok: boolean, value: unknown): void;
}

/** Starts a worker running the backend's worker entry script. */
export type SpawnWorker = (name: string, events: WorkerEvents) => ThreadWorker;

/** What a pool hears about its workers ({@linkcode WorkerEvents}, naming the worker). */
export interface PoolWorkerEvents {
  message(worker: PoolWorker, message: FromWorker): void;
  died(worker: PoolWorker, reason: string, code?: string): void;
  undeliverable(worker: PoolWorker, error: unknown): void;
}

/**
 * Starts worker `name` and posts its init message (the initializer, if any,
 * runs first: `initializing`). The error when it cannot start.
 */
export function startPoolWorker(
  spawn: SpawnWorker,
  name: string,
  events: PoolWorkerEvents,
  initializer: ThreadFunction | undefined,
  initargs: unknown[],
): PoolWorker | Error {
  let worker: PoolWorker | undefined = undefined;
  let handle: ThreadWorker;
  try {
    handle = spawn(name, {
      message: (message) => worker === undefined || events.message(worker, message),
      died: (reason, code) => worker === undefined || events.died(worker, reason, code),
      undeliverable: (error) => worker === undefined || events.undeliverable(worker, error),
    });
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
  worker = new PoolWorker(name, handle);
  try {
    handle.postMessage({
      t: "init",
      name,
      flag: worker.slots.buffer as SharedArrayBuffer,
      initializer: initializer === undefined
        ? undefined
        : { url: initializer.moduleUrl, name: initializer.exportName, args: initargs },
    }, []);
  } catch (error) {
    worker.dead = true;
    Promise.resolve().then(() => handle.terminate()).catch(() => {}); // Nothing ran on it.
    return initializer === undefined
      ? new Error(`Cannot start a worker: ${error instanceof Error ? error.message : error}`, { cause: error })
      : cloneError(
        `The arguments of the thread pool's initializer ${describeThreadFunction(initializer)}`,
        "to a worker thread",
        error,
      );
  }
  worker.initializing = initializer !== undefined;
  worker.leak = trackResource("worker", `worker thread ${name}`);
  return worker;
}

/** Describes a thread function for error messages. */
export function describeThreadFunction(ref: ThreadFunction): string {
  return `${ref.exportName} (${ref.moduleUrl})`;
}

enum JobState {
  Queued,
  Sent,
  Done,
}

/** One call submitted to the pool. */
export class PoolJob implements PortalCaller {
  readonly id: number;
  readonly ref: ThreadFunction;
  readonly args: unknown[];
  /** The caller's cancel scope: portal calls made during the job run inside it. */
  readonly scope: CancelScope | null;
  /** `true` once the caller was cancelled ({@linkcode WorkerPool.signalCancel}). */
  cancelled = false;
  /** Where the job is: queued in the pool, sent to a worker, done. */
  state: JobState = JobState.Queued;
  /** The worker it was sent to, and its slot there. */
  worker: PoolWorker | null = null;
  slot = -1;
  /**
   * Travels alone, to a worker holding nothing else, which gets nothing more
   * until it settles: a call whose message was lost once, and a call whose
   * cancellation terminates its worker (no other call may share its fate).
   */
  solo: boolean;
  /** `true` when its message named the function in full (the worker learns the key). */
  fnSpec = false;
  /** Undo the encoding of the arguments that travel differently (portals), should the call message be lost. */
  rollbacks: (() => void)[] | null = null;
  #onDone: JobListener | null;

  constructor(id: number, ref: ThreadFunction, args: unknown[], onDone: JobListener, scope: CancelScope | null) {
    this.id = id;
    this.ref = ref;
    this.args = args;
    this.#onDone = onDone;
    this.scope = scope;
    this.solo = ref.options?.onCancel === "terminate";
  }

  /** `true` while the job has not started: queued in the pool, or waiting in a worker's inbox. */
  get queued(): boolean {
    if (this.state === JobState.Queued) return true;
    return this.state === JobState.Sent && Atomics.load(this.worker!.slots, this.slot) === this.id;
  }

  /** `true` while the job waits in the pool's queue. */
  get pending(): boolean {
    return this.state === JobState.Queued;
  }

  /** `true` once sent to a worker and until it settles (it may still wait in the worker's inbox). */
  get sent(): boolean {
    return this.state === JobState.Sent;
  }

  /** `true` while a worker runs the job. */
  get running(): boolean {
    return this.state === JobState.Sent && Atomics.load(this.worker!.slots, this.slot) !== this.id;
  }

  /** Settles the job; later calls are ignored. */
  finish(ok: boolean, value: unknown): void {
    if (this.state === JobState.Done) return;
    this.state = JobState.Done;
    const onDone = this.#onDone;
    this.#onDone = null;
    onDone?.jobDone(ok, value);
  }

  /** Back to the pool's queue (taken back from a worker's inbox). */
  requeue(): void {
    this.state = JobState.Queued;
    this.worker = null;
    this.slot = -1;
  }

  /** Sent to `worker` in `slot`. */
  markSent(worker: PoolWorker, slot: number, rollbacks: (() => void)[] | null): void {
    this.state = JobState.Sent;
    this.worker = worker;
    this.slot = slot;
    this.rollbacks = rollbacks;
  }

  /** Drops the result: the caller left. */
  detach(): void {
    this.#onDone = null;
  }
}

/** A worker as the pool tracks it; the identity portals see ({@linkcode PortalWorker}). */
export class PoolWorker implements PortalWorker {
  readonly name: string;
  readonly handle: ThreadWorker;
  /** The call slots and their cancel flags (see `InitMessage.flag`). */
  readonly slots: Int32Array;
  /** The jobs sent to it, by id, oldest first: running or waiting in its inbox. */
  readonly jobs: Map<number, PoolJob> = new Map();
  /** Its free slots. */
  readonly free: number[] = Array.from({ length: CALL_SLOTS }, (_, i) => CALL_SLOTS - 1 - i);
  /** The call it holds alone (see `PoolJob.solo`): it gets no other call meanwhile. */
  soloJob: PoolJob | null = null;
  /** `true` while it runs the pool's initializer. */
  initializing = false;
  idleSince = 0;
  /** `true` while parked in the idle list. */
  parked = false;
  dead = false;
  /** Keys of the functions this worker was told about. */
  functions: Set<number> = new Set();
  /** The worker in its runner's leak report, until terminated. */
  leak: LeakEntry | null = null;

  constructor(name: string, handle: ThreadWorker) {
    this.name = name;
    this.handle = handle;
    this.slots = new Int32Array(new SharedArrayBuffer(CALL_SLOTS * 8));
  }

  /** `true` when it takes calls now: initialized, a free slot, no call held alone. */
  get open(): boolean {
    return !this.initializing && this.free.length > 0 && this.soloJob === null;
  }

  callerOf(id: number): PortalCaller | undefined {
    const job = this.jobs.get(id);
    return job !== undefined && job.running ? job : undefined;
  }

  /** Forgets `job` (settled, dropped or moved) and frees its slot. */
  release(job: PoolJob): void {
    if (this.soloJob === job) this.soloJob = null;
    if (this.jobs.delete(job.id)) this.free.push(job.slot);
  }

  /**
   * Empties the worker: a call that has not started is taken back and
   * settled with `waiting(job)`, or returned (without `waiting`); a started
   * one is settled with `started(job)`, or left running (without `started`).
   */
  empty(waiting?: (job: PoolJob) => Error, started?: (job: PoolJob) => Error): PoolJob[] {
    const back: PoolJob[] = [];
    for (const job of [...this.jobs.values()]) {
      if (this.takeBack(job)) {
        if (waiting === undefined) back.push(job);
        else job.finish(false, waiting(job));
      } else if (started !== undefined) {
        this.release(job);
        job.finish(false, started(job));
      }
    }
    return back;
  }

  /** Sets the cancel flag of `job`, sent to this worker, and aborts its worker-side signal. */
  signalCancel(job: PoolJob): void {
    job.cancelled = true;
    Atomics.store(this.slots, CALL_SLOTS + job.slot, 1);
    try {
      this.handle.postMessage({ t: "cancel", id: job.id }, []);
    } catch {
      // The worker is going away; its death settles the job.
    }
  }

  /** Takes back `job` from the inbox, if it has not started: `true` when taken. */
  takeBack(job: PoolJob): boolean {
    if (Atomics.compareExchange(this.slots, job.slot, job.id, 0) !== job.id) return false;
    this.release(job);
    return true;
  }
}

const keysByRef = new WeakMap<ThreadFunction, number>();
const keysByName = new Map<string, number>();

/** A small number naming `ref`'s function, so a worker needs its URL and name only once. */
export function functionKey(ref: ThreadFunction): number {
  let key = keysByRef.get(ref);
  if (key === undefined) {
    const name = `${ref.moduleUrl}\n${ref.exportName}`;
    key = keysByName.get(name);
    if (key === undefined) keysByName.set(name, key = keysByName.size + 1);
    keysByRef.set(ref, key);
  }
  return key;
}

/** Rebuilds errors whose class this side knows. */
export function knownError(name: string, message: string): Error | undefined {
  return name === "CancelledError" ? new CancelledError(message) : undefined;
}

/**
 * Posts `jobs` to `worker` in one message, in order; when that fails
 * (arguments that cannot be cloned), one message each, so that only the
 * faulty calls are settled with the error. `worker` must have a free slot per
 * job.
 */
export function dispatchJobs(worker: PoolWorker, jobs: PoolJob[]): void {
  const message: unknown[] = [];
  let transfer: TransferItem[] = [];
  for (const job of jobs) encode(worker, job, message, transfer);
  try {
    worker.handle.postMessage(message as ToWorker, transfer);
  } catch {
    if (jobs.length === 1) {
      fail(worker, jobs[0], message, transfer);
      return;
    }
    for (const job of jobs) unsend(worker, job);
    for (const job of jobs) {
      message.length = 0;
      transfer = [];
      encode(worker, job, message, transfer);
      fail(worker, job, message, transfer);
    }
    return;
  }
}

/** Posts one job alone; on failure, settles it with the error. */
function fail(worker: PoolWorker, job: PoolJob, message: unknown[], transfer: TransferItem[]): void {
  try {
    worker.handle.postMessage(message as ToWorker, transfer);
  } catch (error) {
    unsend(worker, job);
    job.finish(
      false,
      cloneError(`The arguments of ${describeThreadFunction(job.ref)}`, "to a worker thread", error),
    );
  }
}

/** Undoes {@linkcode encode}: the job was not posted. */
function unsend(worker: PoolWorker, job: PoolJob): void {
  if (job.rollbacks !== null) { for (const rollback of job.rollbacks) rollback(); }
  job.rollbacks = null;
  if (job.fnSpec) worker.functions.delete(functionKey(job.ref));
  Atomics.store(worker.slots, job.slot, 0);
  worker.release(job);
  job.requeue();
}

/** Appends `job`'s four items to `message` and gives it a slot of `worker`. */
function encode(worker: PoolWorker, job: PoolJob, message: unknown[], transfer: TransferItem[]): void {
  let args = job.args;
  let rollbacks: (() => void)[] | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg !== null && typeof arg === "object" && TO_WORKER in arg) {
      const encoded = (arg as WorkerTransferable)[TO_WORKER](worker);
      if (rollbacks === null) {
        args = args.slice();
        rollbacks = [];
      }
      args[i] = encoded.value;
      transfer.push(...encoded.transfer);
      rollbacks.push(encoded.rollback);
    }
  }
  const key = functionKey(job.ref);
  job.fnSpec = !worker.functions.has(key);
  if (job.fnSpec) worker.functions.add(key);
  const slot = worker.free.pop()!;
  Atomics.store(worker.slots, CALL_SLOTS + slot, 0);
  Atomics.store(worker.slots, slot, job.id);
  message.push(job.id, slot, job.fnSpec ? { key, url: job.ref.moduleUrl, name: job.ref.exportName } : key, args);
  job.markSent(worker, slot, rollbacks);
  if (job.solo) worker.soloJob = job;
  worker.jobs.set(job.id, job);
}
