/**
 * The error classes shared by every backend.
 *
 * @module
 */

/**
 * Raised at a checkpoint (an `await` of this library) inside a cancelled scope.
 *
 * Cancellation is level-triggered: once a scope is cancelled, every checkpoint
 * inside it rejects with a `CancelledError` until the scope is left. The scope
 * that was cancelled catches it; do not swallow it yourself.
 *
 * @example Recognise a cancellation
 * ```ts
 * import { CancelledError } from "@easynetwork/async-backend/backend";
 *
 * const error: unknown = new CancelledError();
 * console.log(error instanceof CancelledError); // true
 * ```
 */
export class CancelledError extends Error {
  /**
   * Creates a cancellation error.
   *
   * @param message The error message.
   */
  constructor(message: string = "The operation was cancelled") {
    super(message);
    this.name = "CancelledError";
  }
}

/**
 * Raised by a call on a resource (a socket, a runner, an executor) that was closed,
 * including calls that were waiting when it was closed.
 *
 * @example
 * ```ts
 * import { ClosedResourceError } from "@easynetwork/async-backend/backend";
 *
 * const error = new ClosedResourceError("The socket was closed");
 * console.log(error.name); // "ClosedResourceError"
 * ```
 */
export class ClosedResourceError extends Error {
  /**
   * Creates a closed-resource error.
   *
   * @param message The error message.
   */
  constructor(message: string = "The resource is closed") {
    super(message);
    this.name = "ClosedResourceError";
  }
}

/**
 * Raised when a second task tries to use a resource that allows one user at a
 * time, such as two tasks receiving on one socket at once.
 *
 * @example
 * ```ts
 * import { BusyResourceError } from "@easynetwork/async-backend/backend";
 *
 * const error = new BusyResourceError("Another task is receiving on this socket");
 * console.log(error.name); // "BusyResourceError"
 * ```
 */
export class BusyResourceError extends Error {
  /**
   * Creates a busy-resource error.
   *
   * @param message The error message.
   */
  constructor(message: string = "The resource is in use by another task") {
    super(message);
    this.name = "BusyResourceError";
  }
}

/**
 * Rejects a thread call whose worker died under it: it ran out of memory
 * (`code` is `"ERR_WORKER_OUT_OF_MEMORY"`), called `process.exit()`,
 * `self.close()` or the runtime's exit call, or threw an uncaught error from a
 * timer.
 * The pool replaces the worker; other calls go on. The message names the
 * function and says why the worker died.
 *
 * @example
 * ```ts
 * import { BrokenWorkerError } from "@easynetwork/async-backend/backend";
 *
 * const error = new BrokenWorkerError("The worker thread running f (file:///m.ts) died: out of memory");
 * console.log(error.name); // "BrokenWorkerError"
 * ```
 */
export class BrokenWorkerError extends Error {
  /** Why the runtime ended the worker, when it said (`"ERR_WORKER_OUT_OF_MEMORY"`). */
  readonly code: string | undefined;

  /**
   * Creates a broken-worker error.
   *
   * @param message The error message.
   * @param code The runtime's code for the worker's end, if any.
   */
  constructor(message: string = "The worker thread died", code?: string) {
    super(message);
    this.name = "BrokenWorkerError";
    this.code = code;
  }
}
