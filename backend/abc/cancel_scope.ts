/**
 * Handles on cancel scopes and timeout scopes.
 *
 * @module
 */

/**
 * A handle on a cancel scope: the region of code run by a scope callback such as
 * `moveOnAfter`, `timeout`, `ignoreCancellation` or a task group body.
 *
 * Cancelling a scope cancels every scope inside it, except inside a shielded
 * scope. Cancellation is level-triggered: every checkpoint inside a cancelled
 * scope rejects with `CancelledError` until the scope is left.
 */
export interface CancelScopeHandle {
  /**
   * Cancels the scope. Idempotent (the first reason is kept); has no effect after
   * the scope has exited.
   *
   * @param reason Why: carried by the `CancelledError` the scope's checkpoints
   *   reject with (its `reason`) and by the `signal`'s `reason` (a `CancelledError`
   *   whose `reason` it is).
   */
  cancel(reason?: unknown): void;
  /** `true` once {@linkcode CancelScopeHandle.cancel} was called or the deadline passed. */
  readonly cancelCalled: boolean;
  /** `true` once the scope has caught the `CancelledError` caused by its own cancellation. */
  readonly cancelledCaught: boolean;
  /** While `true`, cancellation of enclosing scopes does not reach inside this scope. */
  shield: boolean;
  /**
   * An `AbortSignal` aborted (with a `CancelledError` as reason) when this scope is
   * cancelled, directly or through an enclosing scope, to hand to `fetch` and other
   * foreign APIs. It is detached when the scope exits: nothing aborts it afterwards.
   */
  readonly signal: AbortSignal;
}

/**
 * A handle on a scope with a deadline, given to the callbacks of `timeout`,
 * `timeoutAt`, `moveOnAfter` and `moveOnAt`.
 *
 * Times are milliseconds on the backend clock (`currentTime()`); `Infinity` means
 * no deadline.
 */
export interface TimeoutHandle extends CancelScopeHandle {
  /** Returns the current deadline, `Infinity` when none is set. */
  when(): number;
  /**
   * Moves the deadline. A deadline in the past cancels the scope at once; `Infinity`
   * removes the deadline.
   *
   * @param deadline The new absolute deadline (ms on the backend clock).
   */
  reschedule(deadline: number): void;
  /** Returns `true` when the deadline was reached and cancelled the scope. */
  expired(): boolean;
  /** The deadline, read-write: `handle.deadline += 1000` postpones it by one second. */
  deadline: number;
}

/** Options of `AsyncBackend.openCancelScope`. */
export interface CancelScopeOptions {
  /** Absolute deadline on the backend clock (`currentTime()`), in ms; `Infinity` (the default) for none. */
  deadline?: number;
  /** Start shielded from the cancellation of enclosing scopes. Default: `false`. */
  shield?: boolean;
  /**
   * An outside `AbortSignal` that cancels the scope, with the signal's `reason` as
   * the cancellation's reason (`AbortSignal.timeout(ms)` works as a deadline). A
   * signal already aborted when the scope is entered cancels it at once. The
   * scope listens only while it runs: its listener is removed when it exits.
   */
  signal?: AbortSignal;
}

/**
 * A standalone cancel scope (Trio's `CancelScope`), made by
 * `AsyncBackend.openCancelScope()`: it can be cancelled, rescheduled and
 * shielded before it runs, then entered once with {@linkcode CancelScope.run}.
 * Its `signal` exists from the start and is aborted as soon as the scope is
 * cancelled, before or while it runs.
 *
 * @example Cancel a scope before it runs
 * ```ts
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 *
 * const backend = new DenoBackend();
 * const scope = backend.openCancelScope();
 * scope.cancel("not needed");
 * const result = await backend.bootstrap(() => scope.run(() => backend.sleep(10_000)));
 * console.log(result, scope.cancelledCaught); // undefined true
 * ```
 */
export interface CancelScope extends TimeoutHandle {
  /**
   * Enters the scope, in the caller's scope, and runs `fn(scope)` in it. Resolves
   * with `fn`'s value, or `undefined` when the scope caught its own cancellation
   * (like `moveOnAfter`); another error, or a cancellation of an enclosing scope,
   * propagates. A scope runs once: a second call rejects with a `TypeError`.
   *
   * @param fn The body.
   */
  run<T>(fn: (scope: CancelScope) => T | PromiseLike<T>): Promise<T | undefined>;
}
