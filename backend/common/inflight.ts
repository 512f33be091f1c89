/**
 * Runtime operations that outlive a cancelled wait, so that nothing is lost.
 *
 * @module
 */

import { suspend } from "./checkpoint.ts";
import type { SocketState } from "./socket_state.ts";

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * One runtime operation (a read, an accept, a datagram receive) that cannot be
 * cancelled without losing its result. A cancelled wait leaves it running; the
 * next wait gets its result. One wait at a time (the adapter's busy slot sees
 * to it).
 *
 * The hot path costs one promise reaction on the runtime's promise and the
 * checkpoint's own promise: no wrapper objects, no `then` chains.
 */
export class InflightOperation<T> {
  /** The runtime operation in flight, or `null`. */
  #running: Promise<T> | null = null;
  /** A finished operation's result that no wait claimed yet. */
  #unclaimed: Outcome<T> | null = null;
  /** The wait in progress: where the result goes. */
  #onOutcome: ((ok: boolean, value: unknown) => void) | null = null;

  /** `true` while an operation runs or its result waits to be claimed. */
  get pending(): boolean {
    return this.#running !== null || this.#unclaimed !== null;
  }

  /**
   * Waits for the operation's result, starting it with `start` when none is in
   * flight. A checkpoint: rejects with `CancelledError` when cancelled (the
   * operation goes on), with `ClosedResourceError` when `state` is closed.
   *
   * @param start Begins the runtime operation.
   * @param state The guard whose closing wakes the wait.
   * @param map Turns the result into what the wait resolves (runs at most once
   *   per result, only for a wait that gets it); may throw.
   * @param settled Called once when the wait ends, however it ends (see `suspend`).
   */
  wait<R = T>(
    start: () => Promise<T>,
    state: SocketState,
    map?: (value: T) => R,
    settled?: () => void,
  ): Promise<R> {
    return suspend<R>((resolve, reject) => {
      const deliver = (ok: boolean, value: unknown): void => {
        if (!ok) return reject(value);
        if (map === undefined) return resolve(value as R);
        let mapped: R;
        try {
          mapped = map(value as T);
        } catch (error) {
          return reject(error);
        }
        resolve(mapped);
      };
      const unclaimed = this.#unclaimed;
      if (unclaimed !== null) {
        this.#unclaimed = null;
        return deliver(unclaimed.ok, unclaimed.ok ? unclaimed.value : unclaimed.error);
      }
      if (this.#running === null) this.#start(start);
      const unregister = state.onClose((error) => {
        this.#onOutcome = null;
        reject(error);
      });
      this.#onOutcome = (ok, value) => {
        unregister();
        deliver(ok, value);
      };
      return () => {
        this.#onOutcome = null;
        unregister();
      };
    }, settled);
  }

  #start(start: () => Promise<T>): void {
    let promise: Promise<T>;
    try {
      promise = start();
    } catch (error) {
      promise = Promise.reject(error);
    }
    this.#running = promise;
    promise.then(
      (value) => this.#finish(promise, true, value),
      (error) => this.#finish(promise, false, error),
    );
  }

  #finish(promise: Promise<T>, ok: boolean, value: unknown): void {
    if (this.#running !== promise) return; // discarded
    this.#running = null;
    const onOutcome = this.#onOutcome;
    if (onOutcome === null) {
      this.#unclaimed = ok ? { ok, value: value as T } : { ok, error: value };
      return;
    }
    this.#onOutcome = null;
    onOutcome(ok, value);
  }

  /**
   * Forgets the operation; a result nobody claimed is passed to `dispose` (for
   * instance an accepted connection that must be closed). Call after closing.
   *
   * @param dispose Releases an unclaimed result.
   */
  discard(dispose?: (value: T) => void): void {
    const running = this.#running;
    const unclaimed = this.#unclaimed;
    this.#running = null;
    this.#unclaimed = null;
    this.#onOutcome = null;
    if (dispose === undefined) return;
    if (unclaimed !== null && unclaimed.ok) dispose(unclaimed.value);
    if (running !== null) running.then(dispose, () => {});
  }
}
