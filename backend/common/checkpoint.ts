/**
 * Checkpoints: the awaits where cancellation is delivered.
 *
 * @module
 */

import { CancelledError } from "../errors.ts";
import { type CancelScope, currentScope, Waiter } from "./cancel_scope.ts";

/** Undoes what a checkpoint set up (a timer, a queued waiter) when it is cancelled. */
export type Cleanup = () => void;

/**
 * Starts a cancellable wait, the building block of every checkpoint.
 *
 * Rejects at once with `CancelledError` when the caller's scope is cancelled.
 * Otherwise calls `start(resolve, reject)`, which begins the wait and returns a
 * cleanup. If the scope is cancelled before `resolve` or `reject` is called, the
 * cleanup runs and the promise rejects with `CancelledError`.
 *
 * @param start Begins the wait.
 */
export function suspend<T>(
  start: (resolve: (value: T) => void, reject: (error: unknown) => void) => Cleanup | void,
): Promise<T> {
  const scope = currentScope();
  if (scope === undefined) {
    return new Promise<T>((resolve, reject) => void start(resolve, reject));
  }
  if (scope.isCancelled()) return Promise.reject(new CancelledError());
  return new Promise<T>((resolve, reject) => {
    const waiter = new SuspendWaiter<T>(scope, resolve, reject);
    scope.addWaiter(waiter);
    let cleanup: Cleanup | void;
    try {
      cleanup = start(waiter.resolve, waiter.reject);
    } catch (error) {
      waiter.reject(error);
      return;
    }
    if (!waiter.settled && cleanup) waiter.cleanup = cleanup;
  });
}

class SuspendWaiter<T> extends Waiter {
  settled = false;
  cleanup: Cleanup | undefined = undefined;
  #scope: CancelScope;
  #resolve: (value: T) => void;
  #reject: (error: unknown) => void;

  constructor(scope: CancelScope, resolve: (value: T) => void, reject: (error: unknown) => void) {
    super();
    this.#scope = scope;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  resolve = (value: T): void => {
    if (this.settled) return;
    this.settled = true;
    this.#scope.removeWaiter(this);
    this.#resolve(value);
  };

  reject = (error: unknown): void => {
    if (this.settled) return;
    this.settled = true;
    this.#scope.removeWaiter(this);
    this.#reject(error);
  };

  abort(error: CancelledError): void {
    if (this.settled) return;
    this.settled = true;
    const cleanup = this.cleanup;
    this.cleanup = undefined;
    let failure: unknown = error;
    if (cleanup) {
      try {
        cleanup();
      } catch (cleanupError) {
        // A failing cleanup is a bug worth seeing: the waiter gets its error.
        failure = cleanupError;
      }
    }
    this.#reject(failure);
  }
}

/** Throws `CancelledError` when the caller's scope is cancelled. */
export function throwIfCancelled(): void {
  const scope = currentScope();
  if (scope !== undefined && scope.isCancelled()) throw new CancelledError();
}

/** A function that runs a callback on a later macrotask of the event loop. */
export type MacrotaskScheduler = (callback: () => void) => void;

/**
 * Yields to the event loop for one macrotask, so that timers and I/O run, then
 * rejects if the caller's scope was cancelled meanwhile. Rejects at once when the
 * scope is already cancelled.
 *
 * @param schedule The runtime's fastest macrotask scheduler.
 */
export function coroYield(schedule: MacrotaskScheduler): Promise<void> {
  const scope = currentScope();
  if (scope === undefined) return new Promise<void>((resolve) => schedule(resolve));
  if (scope.isCancelled()) return Promise.reject(new CancelledError());
  return new Promise<void>((resolve, reject) => {
    schedule(() => {
      if (scope.isCancelled()) reject(new CancelledError());
      else resolve();
    });
  });
}
