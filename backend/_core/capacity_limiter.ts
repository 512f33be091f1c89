/**
 * A FIFO-fair capacity limiter on the one wait queue (Trio's
 * `CapacityLimiter`; see the `CapacityLimiter` contract for where Trio and
 * AnyIO differ and which this follows).
 *
 * The borrowers are a map from borrower to the guard of its hold, in the order
 * they got their tokens; its size is the number of tokens out. Waiters park
 * with their borrower attached. Whenever fewer than `totalTokens` are out (a
 * release, a larger `totalTokens`), the head of the queue is handed a token at
 * once, so a newcomer never borrows ahead of a waiter and a cancelled waiter,
 * which leaves the queue before it rejects, is never handed one.
 *
 * @module
 */

import type { CapacityLimiter, CapacityLimiterGuard, CapacityLimiterStatistics } from "../abc/sync.ts";
import { describe } from "../_util/validate.ts";
import { cancelledNow } from "./checkpoint.ts";
import { currentTaskIdentity } from "./lock.ts";
import { WaitQueue } from "./wait_queue.ts";

/** One hold of a token: disposing it gives that hold's token back, once. */
class Hold implements CapacityLimiterGuard {
  #limiter: CapacityLimiterCore | null;
  readonly #borrower: object;

  constructor(limiter: CapacityLimiterCore, borrower: object) {
    this.#limiter = limiter;
    this.#borrower = borrower;
  }

  [Symbol.dispose](): void {
    const limiter = this.#limiter;
    if (limiter === null) return;
    this.#limiter = null;
    limiter.releaseHold(this.#borrower, this);
  }
}

function checkTotalTokens(value: unknown): number {
  if (typeof value !== "number") {
    throw new TypeError(`The 'totalTokens' argument must be a number, got ${describe(value)}`);
  }
  if (value !== Infinity && (!Number.isSafeInteger(value) || value < 1)) {
    throw new RangeError(`The 'totalTokens' argument must be an integer at least 1 or Infinity, got ${value}`);
  }
  return value;
}

function checkBorrower(borrower: unknown): void {
  if ((typeof borrower !== "object" || borrower === null) && typeof borrower !== "function") {
    throw new TypeError(`The 'borrower' argument must be an object, got ${describe(borrower)}`);
  }
}

function alreadyBorrowing(): Error {
  return new Error("Cannot borrow a token: this borrower already holds one of the limiter's tokens");
}

/** The capacity limiter implementation shared by every backend. */
export class CapacityLimiterCore implements CapacityLimiter {
  #total: number;
  /** Each borrower and the guard of its hold, in the order they got their tokens. */
  #borrowers: Map<object, Hold> = new Map();
  /** The waiting borrowers: FIFO, O(1) hand-off. */
  #waiters: WaitQueue<CapacityLimiterGuard, object> = new WaitQueue("capacity limiter");

  /** @param totalTokens How many tokens may be out at once: an integer at least 1, or `Infinity`. */
  constructor(totalTokens: number) {
    this.#total = checkTotalTokens(totalTokens);
  }

  acquire(): Promise<CapacityLimiterGuard> {
    return this.#acquire(currentTaskIdentity());
  }

  acquireOnBehalfOf(borrower: object): Promise<CapacityLimiterGuard> {
    try {
      checkBorrower(borrower);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#acquire(borrower);
  }

  tryAcquire(): boolean {
    return this.#tryAcquire(currentTaskIdentity());
  }

  tryAcquireOnBehalfOf(borrower: object): boolean {
    checkBorrower(borrower);
    return this.#tryAcquire(borrower);
  }

  release(): void {
    this.releaseOnBehalfOf(currentTaskIdentity());
  }

  releaseOnBehalfOf(borrower: object): void {
    checkBorrower(borrower);
    if (!this.#borrowers.delete(borrower)) {
      throw new Error("Cannot release a token: this borrower holds none of the limiter's tokens");
    }
    this.#lend();
  }

  /** Releases `borrower`'s token if `hold` is still its hold (guard disposal). */
  releaseHold(borrower: object, hold: Hold): void {
    if (this.#borrowers.get(borrower) !== hold) return;
    this.#borrowers.delete(borrower);
    this.#lend();
  }

  get totalTokens(): number {
    return this.#total;
  }

  set totalTokens(value: number) {
    this.#total = checkTotalTokens(value);
    this.#lend();
  }

  get borrowedTokens(): number {
    return this.#borrowers.size;
  }

  get availableTokens(): number {
    return Math.max(0, this.#total - this.#borrowers.size);
  }

  statistics(): CapacityLimiterStatistics {
    return Object.freeze({
      borrowedTokens: this.#borrowers.size,
      totalTokens: this.#total,
      borrowers: Object.freeze([...this.#borrowers.keys()]),
      tasksWaiting: this.#waiters.size,
    });
  }

  #acquire(borrower: object): Promise<CapacityLimiterGuard> {
    if (this.#borrowers.has(borrower)) return Promise.reject(alreadyBorrowing());
    if (this.#borrowers.size < this.#total && this.#waiters.size === 0) {
      const cancelled = cancelledNow();
      if (cancelled !== undefined) return Promise.reject(cancelled);
      return Promise.resolve(this.#lendTo(borrower));
    }
    // A cancelled waiter leaves the queue, so it is never handed a token.
    return this.#waiters.park(borrower);
  }

  #tryAcquire(borrower: object): boolean {
    if (this.#borrowers.has(borrower)) throw alreadyBorrowing();
    if (this.#borrowers.size >= this.#total || this.#waiters.size !== 0) return false;
    this.#lendTo(borrower);
    return true;
  }

  #lendTo(borrower: object): Hold {
    const hold = new Hold(this, borrower);
    this.#borrowers.set(borrower, hold);
    return hold;
  }

  /** Hands free tokens to the waiters, oldest first. */
  #lend(): void {
    while (this.#borrowers.size < this.#total) {
      const next = this.#waiters.shift();
      if (next === null) return;
      // One borrower queued twice (two acquires not awaited one by one): the
      // second finds the first's token, Trio's rule applies.
      if (this.#borrowers.has(next.data)) next.fail(alreadyBorrowing());
      else next.wake(this.#lendTo(next.data));
    }
  }
}
