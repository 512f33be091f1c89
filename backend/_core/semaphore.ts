/**
 * A FIFO-fair counting semaphore on the one wait queue (Trio's `Semaphore`).
 *
 * The value counts the free tokens; a waiter exists only while it is 0. A
 * release hands its token straight to the head of the queue (the value stays
 * 0), so a newcomer can never take a token ahead of a waiter, and a cancelled
 * waiter, which leaves the queue before it rejects, is never handed one.
 *
 * @module
 */

import type { Semaphore, SemaphoreGuard, SemaphoreOptions, SemaphoreStatistics } from "../abc/sync.ts";
import { describe } from "../_util/validate.ts";
import { cancelledNow } from "./checkpoint.ts";
import { WaitQueue } from "./wait_queue.ts";

/** A taken token: disposing it gives the token back, once. */
class Token implements SemaphoreGuard {
  #semaphore: SemaphoreCore | null;

  constructor(semaphore: SemaphoreCore) {
    this.#semaphore = semaphore;
  }

  [Symbol.dispose](): void {
    const semaphore = this.#semaphore;
    if (semaphore === null) return;
    this.#semaphore = null;
    semaphore.release();
  }
}

function checkInitial(initial: unknown): number {
  if (typeof initial !== "number") {
    throw new TypeError(`The 'initial' argument must be a number, got ${describe(initial)}`);
  }
  if (!Number.isSafeInteger(initial) || initial < 0) {
    throw new RangeError(`The 'initial' argument must be a non-negative integer, got ${initial}`);
  }
  return initial;
}

function checkMax(options: unknown, initial: number): number {
  if (options === undefined) return Infinity;
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`The 'options' argument must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== "max") throw new TypeError(`The 'options' argument has no option '${key}' (the only one is 'max')`);
  }
  const max = (options as SemaphoreOptions).max;
  if (max === undefined || max === Infinity) return Infinity;
  if (typeof max !== "number") {
    throw new TypeError(`The 'max' option must be a number, got ${describe(max)}`);
  }
  if (!Number.isSafeInteger(max) || max < initial) {
    throw new RangeError(
      `The 'max' option must be an integer at least the initial value (${initial}) or Infinity, got ${max}`,
    );
  }
  return max;
}

/** The semaphore implementation shared by every backend. */
export class SemaphoreCore implements Semaphore {
  #value: number;
  readonly #max: number;
  /** The waiting acquirers: FIFO, O(1) hand-off. */
  #waiters: WaitQueue<SemaphoreGuard> = new WaitQueue("semaphore");

  /**
   * @param initial The number of free tokens at first: a non-negative integer.
   * @param options `max`: the largest value, `Infinity` by default.
   */
  constructor(initial: number, options?: SemaphoreOptions) {
    this.#value = checkInitial(initial);
    this.#max = checkMax(options, this.#value);
  }

  acquire(): Promise<SemaphoreGuard> {
    if (this.#value > 0) {
      const cancelled = cancelledNow();
      if (cancelled !== undefined) return Promise.reject(cancelled);
      this.#value--;
      return Promise.resolve(new Token(this));
    }
    // A cancelled waiter leaves the queue, so it is never handed a token.
    return this.#waiters.park();
  }

  tryAcquire(): boolean {
    if (this.#value === 0) return false;
    this.#value--;
    return true;
  }

  release(): void {
    // Checked first, as Trio does: with max 0 no release is ever valid.
    if (this.#value >= this.#max) {
      throw new RangeError(`Cannot release the semaphore: its value would exceed its max (${this.#max})`);
    }
    // The head of the queue gets the token at once (it leaves its scope in the
    // same step, so a cancellation later in this tick cannot take it back).
    const next = this.#waiters.shift();
    if (next === null) this.#value++;
    else next.wake(new Token(this));
  }

  get value(): number {
    return this.#value;
  }

  get max(): number {
    return this.#max;
  }

  statistics(): SemaphoreStatistics {
    return Object.freeze({ tasksWaiting: this.#waiters.size, value: this.#value, max: this.#max });
  }
}
