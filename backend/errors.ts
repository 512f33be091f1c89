/**
 * The error classes shared by every backend.
 *
 * @module
 */

import type { ResourceLeak } from "./abc/leaks.ts";

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

/**
 * Raised by a receive on a channel whose every send end is closed, once the
 * items sent before are all received: the clean end of the stream of items (a
 * `for await` loop over the receive end stops on it instead).
 *
 * @example
 * ```ts
 * import { EndOfChannel } from "@easynetwork/async-backend/backend";
 *
 * const error = new EndOfChannel();
 * console.log(error.name); // "EndOfChannel"
 * ```
 */
export class EndOfChannel extends Error {
  /**
   * Creates an end-of-channel error.
   *
   * @param message The error message.
   */
  constructor(message: string = "Every send end of the channel is closed and its buffer is empty") {
    super(message);
    this.name = "EndOfChannel";
  }
}

/**
 * Raised by a send on a channel whose every receive end is closed (nobody will
 * ever take the item), also to the sends that were waiting when the last one
 * closed: the other side of the resource is gone.
 *
 * @example
 * ```ts
 * import { BrokenResourceError } from "@easynetwork/async-backend/backend";
 *
 * const error = new BrokenResourceError();
 * console.log(error.name); // "BrokenResourceError"
 * ```
 */
export class BrokenResourceError extends Error {
  /**
   * Creates a broken-resource error.
   *
   * @param message The error message.
   */
  constructor(message: string = "The other side of the resource is closed") {
    super(message);
    this.name = "BrokenResourceError";
  }
}

/**
 * Raised by a `…Nowait()` call that could only complete by waiting: a
 * `sendNowait()` on a full channel, a `receiveNowait()` on an empty one.
 *
 * @example
 * ```ts
 * import { WouldBlock } from "@easynetwork/async-backend/backend";
 *
 * const error = new WouldBlock();
 * console.log(error.name); // "WouldBlock"
 * ```
 */
export class WouldBlock extends Error {
  /**
   * Creates a would-block error.
   *
   * @param message The error message.
   */
  constructor(message: string = "The operation would block") {
    super(message);
    this.name = "WouldBlock";
  }
}

/**
 * Raised by `receiveExactly()` and `receiveUntil()` when the stream ends before
 * the bytes asked for arrived. The bytes received before the end are in
 * {@linkcode IncompleteReadError.partial}: they are consumed (the stream is at
 * its end).
 *
 * @example
 * ```ts
 * import { IncompleteReadError } from "@easynetwork/async-backend/backend";
 *
 * const error = new IncompleteReadError(new Uint8Array([1, 2]), 4);
 * console.log(error.partial.length, error.expected); // 2 4
 * ```
 */
export class IncompleteReadError extends Error {
  /** The bytes received before the end of stream. */
  readonly partial: Uint8Array;
  /** How many bytes were asked for (`receiveExactly`), or `null` when a delimiter was (`receiveUntil`). */
  readonly expected: number | null;

  /**
   * Creates an incomplete-read error.
   *
   * @param partial The bytes received before the end of stream.
   * @param expected How many bytes were asked for, `null` for a delimiter.
   * @param message The error message.
   */
  constructor(partial: Uint8Array, expected: number | null = null, message?: string) {
    super(
      message ??
        (expected === null
          ? `The stream ended after ${partial.length} bytes, before the delimiter`
          : `The stream ended after ${partial.length} of ${expected} bytes`),
    );
    this.name = "IncompleteReadError";
    this.partial = partial;
    this.expected = expected;
  }
}

/**
 * Raised by `receiveUntil()` when `maxBytes` bytes were buffered without the
 * delimiter among them. The bytes stay buffered: the next receive returns them.
 *
 * @example
 * ```ts
 * import { DelimiterNotFound } from "@easynetwork/async-backend/backend";
 *
 * const error = new DelimiterNotFound(1024);
 * console.log(error.name, error.maxBytes); // "DelimiterNotFound" 1024
 * ```
 */
export class DelimiterNotFound extends Error {
  /** The `maxBytes` that was reached. */
  readonly maxBytes: number;

  /**
   * Creates a delimiter-not-found error.
   *
   * @param maxBytes The `maxBytes` that was reached.
   * @param message The error message.
   */
  constructor(maxBytes: number, message?: string) {
    super(message ?? `The delimiter was not found in the first ${maxBytes} bytes`);
    this.name = "DelimiterNotFound";
    this.maxBytes = maxBytes;
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

/**
 * Raised by the `close()` of a strict runner (`newRunner({ strict: true })`)
 * and by `assertNoLeaks()` when things the runner made were still alive at
 * close: `leaks` lists them, with their creation stacks in debug mode.
 *
 * @example
 * ```ts
 * import { ResourceLeakError } from "@easynetwork/async-backend/backend";
 *
 * const error = new ResourceLeakError([{ kind: "socket", description: "stream socket", stack: undefined }]);
 * console.log(error.name, error.leaks.length); // "ResourceLeakError" 1
 * ```
 */
export class ResourceLeakError extends Error {
  /** What was still alive. */
  readonly leaks: readonly ResourceLeak[];

  /**
   * Creates a leak error.
   *
   * @param leaks What was still alive.
   * @param message The error message; by default, the list of leaks.
   */
  constructor(leaks: readonly ResourceLeak[], message?: string) {
    super(message ?? formatLeaks(leaks));
    this.name = "ResourceLeakError";
    this.leaks = leaks;
  }
}

function formatLeaks(leaks: readonly ResourceLeak[]): string {
  const lines = [`The runner closed with ${leaks.length} resource(s) still alive:`];
  for (const leak of leaks) {
    lines.push(`- ${leak.kind}: ${leak.description}`);
    if (leak.stack !== undefined) { for (const frame of leak.stack.split("\n")) lines.push(`    ${frame.trim()}`); }
  }
  if (leaks.some((leak) => leak.stack === undefined)) {
    lines.push("(creation stacks: newRunner({ debug: true }) or ASYNC_BACKEND_DEBUG=1)");
  }
  return lines.join("\n");
}
