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
   * Why the scope that catches this error was cancelled: the value given to its
   * `cancel(reason)`, or the `reason` of the outside `AbortSignal` that
   * cancelled it; `undefined` when none was given (and for a deadline).
   */
  readonly reason: unknown;

  /**
   * Creates a cancellation error.
   *
   * @param message The error message.
   * @param options The cancellation's `reason`.
   */
  constructor(message: string = "The operation was cancelled", options?: { reason?: unknown }) {
    super(message);
    this.name = "CancelledError";
    this.reason = options?.reason;
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
