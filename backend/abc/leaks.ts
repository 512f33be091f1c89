/**
 * The leak report of a runner: what it made that was still alive when it
 * closed, and the options that control it.
 *
 * @example
 * ```ts
 * import type { ResourceLeak } from "@easynetwork/async-backend/backend";
 *
 * function describeLeak(leak: ResourceLeak): string {
 *   return `${leak.kind}: ${leak.description}${leak.stack === undefined ? "" : `\n${leak.stack}`}`;
 * }
 * ```
 *
 * @module
 */

import type { VirtualClock } from "./clock.ts";

/**
 * What leaked: a task of the runner (`run()`'s), a system task, a stream or
 * datagram socket, a listener, a memory channel, a worker thread, a timer, a
 * receiver of OS signals.
 */
export type LeakKind =
  | "task"
  | "system task"
  | "socket"
  | "listener"
  | "channel"
  | "worker"
  | "timer"
  | "signal receiver";

/** One thing a runner made that was still alive when it closed. */
export interface ResourceLeak {
  /** What it is. */
  readonly kind: LeakKind;
  /** Which one, in words (e.g. `"stream socket 127.0.0.1:51234 -> 127.0.0.1:8080"`). */
  readonly description: string;
  /**
   * Where it was made: the call stack, innermost frame first, without the
   * frames of this library and of the runtime, so that the first is the
   * creation site (the whole stack when none is the user's, as for a timer
   * the library armed on its own). Recorded only in debug mode
   * ({@linkcode RunnerOptions.debug}); `undefined` otherwise.
   */
  readonly stack: string | undefined;
}

/** Options of `AsyncBackend.newRunner()`. */
export interface RunnerOptions {
  /**
   * Records the stack where each task, socket, listener, channel, worker and
   * timer of the runner was made, for the leak report (a few microseconds per
   * creation), and prints the report with `console.warn` when the runner
   * closes with leaks. Default: `true` when the environment variable
   * `ASYNC_BACKEND_DEBUG` is `1` or `true` (and may be read), else `false`.
   */
  readonly debug?: boolean;
  /**
   * Makes `close()` reject with `ResourceLeakError`, listing the leaks, when
   * something the runner made was still alive (after `close()` has finished
   * its cleanup). Default: `false`.
   */
  readonly strict?: boolean;
  /**
   * The clock the runner's timers follow (a `MockClock` of the `testing`
   * entry point), instead of the runtime's. A clock serves one open runner at
   * a time.
   */
  readonly clock?: VirtualClock;
}
