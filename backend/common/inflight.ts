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
 * next wait gets its result.
 */
export class InflightOperation<T> {
  #pending: Promise<Outcome<T>> | null = null;

  /** `true` while an operation runs or its result waits to be claimed. */
  get pending(): boolean {
    return this.#pending !== null;
  }

  /**
   * Waits for the operation's result, starting it with `start` when none is in
   * flight. A checkpoint: rejects with `CancelledError` when cancelled (the
   * operation goes on), with `ClosedResourceError` when `state` is closed.
   *
   * @param start Begins the runtime operation.
   * @param state The guard whose closing wakes the wait.
   */
  wait(start: () => Promise<T>, state: SocketState): Promise<T> {
    return suspend<T>((resolve, reject) => {
      let pending = this.#pending;
      if (pending === null) {
        let promise: Promise<T>;
        try {
          promise = start();
        } catch (error) {
          promise = Promise.reject(error);
        }
        pending = this.#pending = promise.then(
          (value): Outcome<T> => ({ ok: true, value }),
          (error): Outcome<T> => ({ ok: false, error }),
        );
      }
      const claimed = pending;
      let active = true;
      const unregister = state.onClose((error) => {
        if (!active) return;
        active = false;
        reject(error);
      });
      claimed.then((outcome) => {
        if (!active) return;
        active = false;
        unregister();
        if (this.#pending === claimed) this.#pending = null;
        if (outcome.ok) resolve(outcome.value);
        else reject(outcome.error);
      });
      return () => {
        active = false;
        unregister();
      };
    });
  }

  /**
   * Forgets the operation; a result nobody claimed is passed to `dispose` (for
   * instance an accepted connection that must be closed). Call after closing.
   *
   * @param dispose Releases an unclaimed result.
   */
  discard(dispose?: (value: T) => void): void {
    const pending = this.#pending;
    this.#pending = null;
    if (pending === null || dispose === undefined) return;
    pending.then((outcome) => {
      if (outcome.ok) dispose(outcome.value);
    });
  }
}
