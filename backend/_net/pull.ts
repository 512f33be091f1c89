/**
 * Runtime operations that outlive a cancelled wait, so that nothing is lost.
 *
 * @module
 */

import { ReusableWaiter } from "../_core/reusable_waiter.ts";

/** How an {@linkcode PullOperation} starts its runtime operation and hands results over. */
export interface InflightOptions<T, R> {
  /** Starts the runtime operation (a read, an accept, a datagram receive). */
  start(): Promise<T>;
  /** Turns a result into what the waiting call resolves; runs only for a call that takes it; may throw. */
  deliver(value: T): R;
  /** Turns the runtime's error into the one the waiting call rejects with (default: as it is). */
  mapError?(error: unknown): unknown;
  /** Releases a result that no call will take once closed (an accepted connection, say). */
  dispose?(value: T): void;
  /** Called when the waiting call is cancelled, before it rejects (the operation goes on). */
  onAbort?(): void;
  /** What a call waits for, as the task tree shows it (default `"recv"`). */
  kind?: string;
}

/**
 * One runtime operation at a time that cannot be cancelled without losing its
 * result. A cancelled call leaves it running; the next call gets its result.
 * Calls wait one at a time (the adapter's busy slot sees to it) on a reusable
 * {@linkcode ReusableWaiter}, and results come through pre-bound handlers: the hot path
 * allocates the call's promise and nothing else.
 */
export class PullOperation<T, R> {
  #options: InflightOptions<T, R>;
  #slot: ReusableWaiter<R>;
  #running = false;
  #closed = false;
  /** A finished operation's result (or error) that no call took yet. */
  #unclaimed: { ok: boolean; value: unknown } | null = null;

  /** @param options The runtime operation and how its results reach a call. */
  constructor(options: InflightOptions<T, R>) {
    this.#options = options;
    this.#slot = new ReusableWaiter<R>(() => options.onAbort?.(), options.kind);
  }

  /** `true` while an operation runs or its result waits to be claimed. */
  get pending(): boolean {
    return this.#running || this.#unclaimed !== null;
  }

  /** `true` while a call waits. */
  get waiting(): boolean {
    return this.#slot.waiting;
  }

  /**
   * Begins a call (a checkpoint, see {@linkcode ReusableWaiter.begin}); the owner checks
   * {@linkcode waiting}, then settles it itself or calls {@linkcode run}.
   *
   * @param release Called once when this call ends, however it ends (gives the busy slot back).
   */
  begin(release?: () => void): Promise<R> {
    return this.#slot.begin(release);
  }

  /** Begins a call and runs it: {@linkcode begin} then {@linkcode run}. */
  wait(release?: () => void): Promise<R> {
    const promise = this.#slot.begin(release);
    if (this.#slot.waiting) this.run();
    return promise;
  }

  /** Gives the waiting call the unclaimed result, else starts the operation unless it runs. */
  run(): void {
    const unclaimed = this.#unclaimed;
    if (unclaimed !== null) {
      this.#unclaimed = null;
      this.#settle(unclaimed.ok, unclaimed.value);
    } else if (!this.#running) {
      this.#running = true;
      let operation: Promise<T>;
      try {
        operation = this.#options.start();
      } catch (error) {
        operation = Promise.reject(error);
      }
      operation.then(this.#onValue, this.#onError);
    }
  }

  /** Resolves the waiting call without the operation (from bytes the owner kept, say). */
  resolve(value: R): void {
    this.#slot.resolve(value);
  }

  /**
   * Stops for good (call on close): the waiting call rejects with `error`;
   * results nobody will take, now or when the operation in flight ends, are disposed.
   *
   * @param error What the waiting call rejects with (the adapter's `ClosedResourceError`).
   */
  close(error: unknown): void {
    this.#closed = true;
    const unclaimed = this.#unclaimed;
    this.#unclaimed = null;
    if (unclaimed !== null && unclaimed.ok) this.#options.dispose?.(unclaimed.value as T);
    this.#slot.reject(error);
  }

  #onValue = (value: T): void => this.#finish(true, value);
  #onError = (error: unknown): void => this.#finish(false, error);

  #finish(ok: boolean, value: unknown): void {
    this.#running = false;
    if (this.#closed) {
      if (ok) this.#options.dispose?.(value as T);
      return;
    }
    if (this.#slot.waiting) this.#settle(ok, value);
    else this.#unclaimed = { ok, value };
  }

  #settle(ok: boolean, value: unknown): void {
    const options = this.#options;
    let result: R;
    try {
      if (!ok) throw options.mapError === undefined ? value : options.mapError(value);
      result = options.deliver(value as T);
    } catch (error) {
      this.#slot.reject(error);
      return;
    }
    this.#slot.resolve(result);
  }
}
