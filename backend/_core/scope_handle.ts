/**
 * The handle a user gets for a cancel scope (the `handle` of `timeout()` and
 * `moveOnAfter()`, a task group's `cancelScope`): a small public object over
 * the engine's {@linkcode CancelScope}, so that the scope tree's links and
 * methods meant for the engine stay out of reach (Effection's split between a
 * public scope and its internal one).
 *
 * @module
 */

import type { TimeoutHandle } from "../abc/cancel_scope.ts";
import type { CancelScope } from "./cancel_scope.ts";

/** A user's handle on a cancel scope: every member forwards to the scope. */
export class ScopeHandle implements TimeoutHandle {
  readonly #scope: CancelScope;

  /** @param scope The engine's scope. */
  constructor(scope: CancelScope) {
    this.#scope = scope;
  }

  /** Cancels the scope, for `reason`. */
  cancel(reason?: unknown): void {
    this.#scope.cancel(reason);
  }

  /** `true` once the scope was cancelled. */
  get cancelCalled(): boolean {
    return this.#scope.cancelCalled;
  }

  /** `true` once the scope caught its own cancellation. */
  get cancelledCaught(): boolean {
    return this.#scope.cancelledCaught;
  }

  /** Whether enclosing cancellations are kept out. */
  get shield(): boolean {
    return this.#scope.shield;
  }

  set shield(value: boolean) {
    this.#scope.shield = value;
  }

  /** An `AbortSignal` aborted when the scope is cancelled. */
  get signal(): AbortSignal {
    return this.#scope.signal;
  }

  /** Returns the deadline, `Infinity` if none. */
  when(): number {
    return this.#scope.when();
  }

  /** Moves the deadline. */
  reschedule(deadline: number): void {
    this.#scope.reschedule(deadline);
  }

  /** `true` when the deadline cancelled the scope. */
  expired(): boolean {
    return this.#scope.expired();
  }

  /** The deadline, read-write. */
  get deadline(): number {
    return this.#scope.deadline;
  }

  set deadline(value: number) {
    this.#scope.reschedule(value);
  }
}
