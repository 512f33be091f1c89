/**
 * `recv` over a push-based source (Node's sockets emit what arrives; the
 * adapter queues it): one pending receive, re-tried whenever something arrives.
 *
 * @module
 */

import { suspend } from "./checkpoint.ts";
import type { SocketState } from "./socket_state.ts";

/**
 * Settles the pending receive from what the adapter holds: calls `resolve` or
 * `reject` and returns `true`, or returns `false` to go on waiting. It takes
 * from the adapter's queue only when it resolves, so a cancelled receive (which
 * is never attempted again) takes nothing.
 */
export type ReceiveAttempt<T> = (resolve: (value: T) => void, reject: (error: unknown) => void) => boolean;

/** The one pending receive of a push-based adapter (the receive slot of its state sees to "one"). */
export class PushReceiver {
  #state: SocketState;
  #retry: (() => void) | null = null;

  /** @param state The adapter's guard: its closing wakes the receive, its receive slot is given back at the end. */
  constructor(state: SocketState) {
    this.#state = state;
  }

  /** Re-tries the pending receive, if any: call it when data, end of stream or an error arrives. */
  wake(): void {
    this.#retry?.();
  }

  /**
   * Receives (a checkpoint): runs `attempt` now and at every {@linkcode wake}
   * until it settles the call; rejects with `ClosedResourceError` when the state
   * closes, with `CancelledError` when cancelled. The caller holds the receive
   * slot, which is given back however the call ends.
   *
   * @param attempt Settles the call from what the adapter holds.
   */
  receive<T>(attempt: ReceiveAttempt<T>): Promise<T> {
    const state = this.#state;
    return suspend<T>((resolve, reject) => {
      if (attempt(resolve, reject)) return;
      const unregister = state.onClose((error) => {
        this.#retry = null;
        reject(error);
      });
      this.#retry = () => {
        if (attempt(resolve, reject)) {
          this.#retry = null;
          unregister();
        }
      };
      return () => {
        this.#retry = null;
        unregister();
      };
    }, state.releaseRecv);
  }
}
