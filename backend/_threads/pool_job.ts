/**
 * What the worker pool ({@linkcode WorkerPool} in `pool.ts`) is made of: the
 * worker a backend starts for it, one submitted call (`PoolJob`, also the
 * caller a portal request is credited to), one tracked worker (`PoolWorker`),
 * and the keys that name a function to a worker once.
 *
 * @module
 */

import type { ThreadFunction } from "../abc/threads.ts";
import { CancelledError } from "../errors.ts";
import type { CancelScope } from "../_core/cancel_scope.ts";
import type { FromWorker, PortalCaller, PortalWorker, ToWorker, TransferItem } from "./protocol.ts";
import type { LeakEntry } from "../_core/leaks.ts";

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

/** Starts a worker running the backend's worker entry script. */
export type SpawnWorker = (name: string, events: WorkerEvents) => ThreadWorker;

/** Describes a thread function for error messages. */
export function describeThreadFunction(ref: ThreadFunction): string {
  return `${ref.exportName} (${ref.moduleUrl})`;
}

enum JobState {
  Queued,
  Running,
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
  /** Where the job is: queued, running, done. */
  state: JobState = JobState.Queued;
  worker: PoolWorker | null = null;
  /** Undo the encoding of the arguments that travel differently (portals), should the call message be lost. */
  rollbacks: (() => void)[] | null = null;
  #onDone: ((ok: boolean, value: unknown) => void) | null;

  constructor(
    id: number,
    ref: ThreadFunction,
    args: unknown[],
    onDone: (ok: boolean, value: unknown) => void,
    scope: CancelScope | null,
  ) {
    this.id = id;
    this.ref = ref;
    this.args = args;
    this.#onDone = onDone;
    this.scope = scope;
  }

  /** `true` while the job waits in the queue. */
  get queued(): boolean {
    return this.state === JobState.Queued;
  }

  /** `true` while a worker runs the job. */
  get running(): boolean {
    return this.state === JobState.Running;
  }

  /** Settles the job; later calls are ignored. */
  finish(ok: boolean, value: unknown): void {
    if (this.state === JobState.Done) return;
    this.state = JobState.Done;
    const onDone = this.#onDone;
    this.#onDone = null;
    onDone?.(ok, value);
  }

  /** A worker started the job. */
  markRunning(): void {
    this.state = JobState.Running;
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
  readonly flag: Int32Array;
  /** The running job; `INIT` while the initializer runs. */
  job: PoolJob | typeof INIT | null = null;
  idleSince = 0;
  dead = false;
  /** Keys of the functions this worker was told about. */
  functions: Set<number> = new Set();
  /** The worker in its runner's leak report, until terminated. */
  leak: LeakEntry | null = null;

  constructor(name: string, handle: ThreadWorker, flag: Int32Array) {
    this.name = name;
    this.handle = handle;
    this.flag = flag;
  }

  callerOf(id: number): PortalCaller | undefined {
    const job = this.job;
    return job instanceof PoolJob && job.id === id && job.running ? job : undefined;
  }
}

/** The job of a worker while it runs the pool's initializer. */
export const INIT: unique symbol = Symbol("init");

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
