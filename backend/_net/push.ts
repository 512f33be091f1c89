/**
 * `recv` over a push-based source (Node's sockets emit what arrives; the
 * adapter queues it): one pending receive, re-tried whenever something arrives.
 *
 * @module
 */

import { ReusableWaiter } from "../_core/reusable_waiter.ts";

/**
 * The one pending receive of a push-based adapter (its busy slot sees to "one"),
 * on a reusable {@linkcode ReusableWaiter}: a call allocates its promise and nothing
 * else. The adapter keeps what the call wants (its size, its buffer) in fields
 * and gives a pre-bound `attempt` that settles the call with
 * {@linkcode PushQueue.resolve} or {@linkcode PushQueue.reject} when it
 * can, taking from the queue only then, so a cancelled receive takes nothing.
 */
export class PushQueue<R> {
  #slot: ReusableWaiter<R>;
  #attempt: () => void;

  /**
   * @param attempt Settles the waiting call from what the adapter holds, or leaves it waiting.
   * @param onAbort Called when the waiting call is cancelled, before it rejects.
   * @param kind What a call waits for, as the task tree shows it.
   */
  constructor(attempt: () => void, onAbort: () => void = () => {}, kind = "recv") {
    this.#attempt = attempt;
    this.#slot = new ReusableWaiter<R>(onAbort, kind);
  }

  /**
   * Receives (a checkpoint): attempts now and at every {@linkcode wake}.
   *
   * @param release Called once when the call ends, however it ends (gives the busy slot back).
   */
  receive(release?: () => void): Promise<R> {
    const promise = this.#slot.begin(release);
    if (this.#slot.waiting) this.#attempt();
    return promise;
  }

  /** Re-tries the waiting call, if any: call it when data, end of stream or an error arrives. */
  wake(): void {
    if (this.#slot.waiting) this.#attempt();
  }

  /** Resolves the waiting call. */
  resolve(value: R): void {
    this.#slot.resolve(value);
  }

  /** Rejects the waiting call (with `ClosedResourceError` on close). */
  reject(error: unknown): void {
    this.#slot.reject(error);
  }
}
