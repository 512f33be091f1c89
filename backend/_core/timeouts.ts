/**
 * Time in the core: timeouts, move-on scopes, `ignoreCancellation`, and the
 * sleeping checkpoints (`sleep`, `sleepUntil`, `sleepForever`).
 *
 * @module
 */

import { ScopeHandle } from "./scope_handle.ts";
import type { TimeoutHandle } from "../abc/cancel_scope.ts";
import { CancelScope, currentScope, currentScopeVar, Waiter } from "./cancel_scope.ts";
import type { DeadlineEntry, DeadlineQueue } from "./deadline_queue.ts";
import type { CancelledError } from "../errors.ts";
import { coroYield, type MacrotaskScheduler, suspend, suspendWaiter } from "./checkpoint.ts";
import { clampDelay, type TimerHost } from "./timers.ts";
import { assertDeadline, assertDelay, assertFunction } from "../_util/validate.ts";

/** A scope body. */
export type ScopeBody<T> = (handle: TimeoutHandle) => T | PromiseLike<T>;

/** What a deadline scope does when it catches its own cancellation. */
const enum OnCaught {
  /** Resolve `undefined` (`moveOnAt`). */
  MoveOn,
  /** Reject with a `TimeoutError` or `AbortError` DOMException (`timeoutAt`). */
  Throw,
}

/**
 * Runs `fn(handle)` in a new scope with `deadline` (relative when `timers` is
 * given). A body that returns a plain value (no object: no promise, no thenable)
 * leaves the scope at once and the call settles without an async frame; any
 * other result is awaited in the scope, as before.
 */
function runDeadlineScope<T>(
  deadline: number,
  fn: ScopeBody<T>,
  onCaught: OnCaught,
  timers?: TimerHost,
): Promise<T | undefined> {
  let scope: CancelScope;
  let result: T | PromiseLike<T>;
  try {
    assertFunction(fn, "fn");
    const parent = currentScope() ?? null;
    let now: number | undefined;
    if (timers !== undefined) {
      // A relative deadline counts from the clock of the caller's runner (a mock clock's, maybe).
      now = (parent?.loop?.deadlines.timers ?? timers).now();
      deadline += now;
    }
    scope = new CancelScope(parent);
    scope.reschedule(deadline);
    scope.enter(now);
  } catch (error) {
    return Promise.reject(error);
  }
  try {
    result = currentScopeVar.runWith(scope, fn, new ScopeHandle(scope));
  } catch (error) {
    try {
      return Promise.resolve(caught(scope, error, onCaught));
    } catch (rethrown) {
      return Promise.reject(rethrown);
    } finally {
      scope.exit();
    }
  }
  if (typeof result === "object" && result !== null || typeof result === "function") {
    return awaitDeadlineScope(scope, result, onCaught);
  }
  scope.exit();
  return Promise.resolve(result);
}

/** Awaits the body's result in its scope, then leaves the scope. */
async function awaitDeadlineScope<T>(
  scope: CancelScope,
  result: T | PromiseLike<T>,
  onCaught: OnCaught,
): Promise<T | undefined> {
  try {
    return await result;
  } catch (error) {
    return caught(scope, error, onCaught);
  } finally {
    scope.exit();
  }
}

/** What a deadline scope's call ends with when its body threw `error`: `undefined`, or a throw. */
function caught(scope: CancelScope, error: unknown, onCaught: OnCaught): undefined {
  if (!scope.catches(error)) throw error;
  if (onCaught === OnCaught.MoveOn) return undefined;
  throw scope.expired()
    ? new DOMException("The operation timed out", "TimeoutError")
    : new DOMException("The operation was aborted by its timeout handle", "AbortError");
}

/**
 * Runs `fn(handle)` in a scope with an absolute `deadline`; resolves `undefined`
 * when the scope catches its own cancellation.
 *
 * @param deadline Absolute deadline in ms.
 * @param fn The body.
 */
export function moveOnAt<T>(deadline: number, fn: ScopeBody<T>): Promise<T | undefined> {
  try {
    assertDeadline(deadline, "deadline");
  } catch (error) {
    return Promise.reject(error);
  }
  return runDeadlineScope(deadline, fn, OnCaught.MoveOn);
}

/**
 * Like {@linkcode moveOnAt}, with a delay from now on the clock of the caller's runner.
 *
 * @param timers The runtime's timers: the clock outside any runner.
 * @param ms The delay.
 * @param fn The body.
 */
export function moveOnAfter<T>(timers: TimerHost, ms: number, fn: ScopeBody<T>): Promise<T | undefined> {
  try {
    assertDelay(ms, "ms");
  } catch (error) {
    return Promise.reject(error);
  }
  return runDeadlineScope(ms, fn, OnCaught.MoveOn, timers);
}

/**
 * Runs `fn(handle)` in a scope with an absolute `deadline`; when the scope catches
 * its own cancellation, rejects with a `DOMException` named `"TimeoutError"`
 * (deadline) or `"AbortError"` (`handle.cancel()`).
 *
 * @param deadline Absolute deadline in ms.
 * @param fn The body.
 */
export function timeoutAt<T>(deadline: number, fn: ScopeBody<T>): Promise<T> {
  try {
    assertDeadline(deadline, "deadline");
  } catch (error) {
    return Promise.reject(error);
  }
  return runDeadlineScope(deadline, fn, OnCaught.Throw) as Promise<T>;
}

/**
 * Like {@linkcode timeoutAt}, with a delay from now on the clock of the caller's runner.
 *
 * @param timers The runtime's timers: the clock outside any runner.
 * @param ms The delay.
 * @param fn The body.
 */
export function timeout<T>(timers: TimerHost, ms: number, fn: ScopeBody<T>): Promise<T> {
  try {
    assertDelay(ms, "ms");
  } catch (error) {
    return Promise.reject(error);
  }
  return runDeadlineScope(ms, fn, OnCaught.Throw, timers) as Promise<T>;
}

/**
 * Runs `fn()` in a shielded scope.
 *
 * @param fn The body.
 */
export async function ignoreCancellation<T>(fn: () => T | PromiseLike<T>): Promise<T> {
  assertFunction(fn, "fn");
  const scope = new CancelScope(currentScope() ?? null, undefined, true);
  scope.enter();
  try {
    return await currentScopeVar.run(scope, fn);
  } finally {
    scope.exit();
  }
}

// ---- Sleeping checkpoints ----

/**
 * Sleeps until `deadline` on the host clock; never wakes early.
 *
 * @param timers The runtime's timers.
 * @param schedule The backend's yield (see `checkpoint.ts`), for deadlines already past.
 * @param deadline Absolute deadline in ms.
 */
export function sleepUntil(timers: TimerHost, schedule: MacrotaskScheduler, deadline: number): Promise<void> {
  try {
    assertDeadline(deadline, "deadline");
  } catch (error) {
    return Promise.reject(error);
  }
  if (deadline === Infinity) return sleepForever();
  if (deadline <= timers.now()) return coroYield(schedule);
  const scope = currentScope();
  const loop = scope?.loop;
  if (scope !== undefined && loop != null) {
    return suspendWaiter<void>(scope, (resolve, reject) => {
      const sleeper = new Sleeper(loop.deadlines, deadline, resolve, reject);
      loop.deadlines.update(sleeper); // arms a timer at most: never fires here
      return sleeper;
    });
  }
  return suspend<void>((resolve) => {
    let id: unknown;
    const arm = () => {
      const left = deadline - timers.now();
      if (left <= 0) resolve();
      // Longer delays overflow 32-bit timers, which then fire at once: wait in steps.
      else id = timers.setTimer(arm, clampDelay(left));
    };
    arm();
    return () => timers.clearTimer(id);
  }, "sleep");
}

/**
 * A sleep in a runner: one object that is both the checkpoint's waiter on its
 * scope and an entry of the runner's deadline queue. No timer and no closure of
 * its own: a sleeping task holds this, its promise and the promise's resolvers.
 */
class Sleeper extends Waiter implements DeadlineEntry {
  heapIndex = -1;
  readonly deadlineValue: number;
  #queue: DeadlineQueue;
  #resolve: () => void;
  #reject: (error: unknown) => void;

  constructor(queue: DeadlineQueue, deadline: number, resolve: () => void, reject: (error: unknown) => void) {
    super();
    this.#queue = queue;
    this.deadlineValue = deadline;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  override get waitKind(): string {
    return "sleep";
  }

  /** The deadline passed (the queue has dequeued it): leaves the scope's waiters and wakes the sleeper. */
  deadlineReached(): void {
    this.waiterScope?.removeWaiter(this);
    this.#resolve();
  }

  /** The scope was cancelled (it has unregistered the waiter): leaves the queue and rejects. */
  abort(error: CancelledError): void {
    this.#queue.remove(this);
    this.#reject(error);
  }
}

/**
 * Sleeps `ms` milliseconds; `0` is a plain checkpoint.
 *
 * @param timers The runtime's timers.
 * @param schedule The backend's yield (see `checkpoint.ts`), for `0`.
 * @param ms The delay.
 */
export function sleep(timers: TimerHost, schedule: MacrotaskScheduler, ms: number): Promise<void> {
  try {
    assertDelay(ms, "ms");
  } catch (error) {
    return Promise.reject(error);
  }
  if (ms === 0) return coroYield(schedule);
  return sleepUntil(timers, schedule, timers.now() + ms);
}

/** Waits until cancelled. */
export function sleepForever(): Promise<never> {
  return suspend<never>(() => {}, "sleep");
}
