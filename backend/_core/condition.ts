/**
 * A condition variable over a {@linkcode LockCore}.
 *
 * @module
 */

import type { Condition, ConditionStatistics, Lock, LockGuard } from "../abc/sync.ts";
import { assertFunction } from "../_util/validate.ts";
import { cancelledNow } from "./checkpoint.ts";
import { LockCore } from "./lock.ts";
import { ignoreCancellation } from "./timeouts.ts";
import { WaitQueue } from "./wait_queue.ts";

/** The condition implementation shared by every backend. */
export class ConditionCore implements Condition {
  #lock: LockCore;
  #waiters: WaitQueue = new WaitQueue("condition");

  /** @param lock A lock made by `createLock()`, or `undefined` for a new one. */
  constructor(lock?: Lock) {
    if (lock !== undefined && !(lock instanceof LockCore)) {
      throw new TypeError("The 'lock' argument must be a lock created by createLock()");
    }
    this.#lock = lock ?? new LockCore();
  }

  acquire(): Promise<LockGuard> {
    return this.#lock.acquire();
  }

  release(): void {
    this.#lock.release();
  }

  locked(): boolean {
    return this.#lock.locked();
  }

  tryAcquire(): boolean {
    return this.#lock.tryAcquire();
  }

  statistics(): ConditionStatistics {
    return Object.freeze({ tasksWaiting: this.#waiters.size, lockStatistics: this.#lock.statistics() });
  }

  async wait(): Promise<void> {
    this.#lock.assertOwned("wait");
    const cancelled = cancelledNow();
    if (cancelled !== undefined) throw cancelled;
    const hold = this.#lock.holdId();
    this.#lock.release();
    let failed = false;
    let error: unknown = undefined;
    try {
      await this.#waiters.park();
    } catch (e) {
      failed = true;
      error = e;
    }
    await ignoreCancellation(() => this.#lock.acquire());
    // The caller's guard (`using _ = await cond.acquire()`) must release this hold.
    this.#lock.restoreHold(hold);
    if (failed) throw error;
  }

  async waitFor<T>(predicate: () => T): Promise<T> {
    assertFunction(predicate, "predicate");
    this.#lock.assertOwned("waitFor");
    const cancelled = cancelledNow();
    if (cancelled !== undefined) throw cancelled;
    let result = predicate();
    // Each wait reacquires the lock before it returns or throws, so the
    // predicate always runs under the lock.
    while (!result) {
      await this.wait();
      result = predicate();
    }
    return result;
  }

  notify(n: number = 1): void {
    if (!Number.isInteger(n) || n < 0) {
      throw new RangeError(`The 'n' argument must be a non-negative integer, got ${String(n)}`);
    }
    this.#lock.assertOwned("notify");
    this.#waiters.unpark(n);
  }

  notifyAll(): void {
    this.#lock.assertOwned("notifyAll");
    this.#waiters.unparkAll();
  }
}
