/**
 * Waiting on foreign promise-likes as checkpoints.
 *
 * @module
 */

import type { CancellableFuture } from "../abc/threads.ts";
import { CancelledError } from "../errors.ts";
import { suspend } from "./checkpoint.ts";
import { describe } from "../_util/validate.ts";

/**
 * Awaits `future` as a checkpoint. If the waiter is cancelled, `future.cancel()`
 * is called; a future that reports itself cancelled rejects with `CancelledError`.
 *
 * @param future The promise-like to wait for.
 */
export function waitFuture<T>(future: CancellableFuture<T>): Promise<T> {
  if (
    future === null || typeof future !== "object" && typeof future !== "function" ||
    typeof future.then !== "function"
  ) {
    return Promise.reject(new TypeError(`The 'future' argument must be a promise-like, got ${describe(future)}`));
  }
  return suspend<T>((resolve, reject) => {
    future.then(resolve, (error: unknown) => {
      const cancelled = typeof future.cancelled === "function" && future.cancelled();
      reject(cancelled && !(error instanceof CancelledError) ? new CancelledError("The future was cancelled") : error);
    });
    return () => {
      if (typeof future.cancel === "function") future.cancel();
    };
  }, "future");
}
