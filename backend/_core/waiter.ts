/**
 * Waiters: the pending checkpoints a cancel scope wakes when it is cancelled,
 * and what each one says it waits for (the task tree's "waiting at").
 *
 * @module
 */

import type { CancelledError } from "../errors.ts";

/**
 * A pending checkpoint registered on a scope, woken when the scope is cancelled.
 * Waiters link themselves into their scope (an intrusive list), so registering
 * and unregistering one, which every checkpoint does, allocate nothing.
 */
export abstract class Waiter {
  /** The scope whose list holds this waiter, or `null`. */
  waiterScope: WaiterList | null = null;
  /** The previous waiter in that list. */
  prevWaiter: Waiter | null = null;
  /** The next waiter in that list. */
  nextWaiter: Waiter | null = null;

  /**
   * What the checkpoint waits for (`"sleep"`, `"lock"`, `"recv"`...), read only
   * by the task tree: a getter or a field set once per wait site, never a cost
   * on the wait itself.
   */
  get waitKind(): string {
    return "checkpoint";
  }

  /** Stops waiting: cleans up and rejects with `error`. Called at most once. */
  abstract abort(error: CancelledError): void;
}

/** A {@linkcode Waiter} whose abort is a callback. */
export class CallbackWaiter extends Waiter {
  #onAbort: (error: CancelledError) => void;
  #kind: string;

  /**
   * @param onAbort Called (at most once) when the waiter's scope is cancelled.
   * @param kind What the checkpoint waits for (see {@linkcode Waiter.waitKind}).
   */
  constructor(onAbort: (error: CancelledError) => void, kind = "checkpoint") {
    super();
    this.#onAbort = onAbort;
    this.#kind = kind;
  }

  override get waitKind(): string {
    return this.#kind;
  }

  /** Calls the callback. */
  abort(error: CancelledError): void {
    this.#onAbort(error);
  }
}

/**
 * The pending checkpoints of a cancel scope, an intrusive list: registering and
 * unregistering a waiter, which every checkpoint does, allocate nothing. (The
 * base of `CancelScope`, which wakes them when it is cancelled.)
 */
export class WaiterList {
  /** The first waiter, `null` when none is pending. */
  firstWaiter: Waiter | null = null;
  /** The last waiter. */
  lastWaiter: Waiter | null = null;

  /** Registers a pending checkpoint (taking it off any other list). */
  addWaiter(waiter: Waiter): void {
    if (waiter.waiterScope !== null) waiter.waiterScope.removeWaiter(waiter);
    waiter.waiterScope = this;
    const last = this.lastWaiter;
    waiter.prevWaiter = last;
    waiter.nextWaiter = null;
    if (last === null) this.firstWaiter = waiter;
    else last.nextWaiter = waiter;
    this.lastWaiter = waiter;
  }

  /** Unregisters a pending checkpoint; does nothing when it is not registered here. */
  removeWaiter(waiter: Waiter): void {
    if (waiter.waiterScope !== this) return;
    const prev = waiter.prevWaiter;
    const next = waiter.nextWaiter;
    if (prev === null) this.firstWaiter = next;
    else prev.nextWaiter = next;
    if (next === null) this.lastWaiter = prev;
    else next.prevWaiter = prev;
    waiter.waiterScope = null;
    waiter.prevWaiter = null;
    waiter.nextWaiter = null;
  }
}
