/**
 * A FIFO-fair, owner-checked lock.
 *
 * @module
 */

import type { Lock, LockGuard, LockStatistics } from "../abc/sync.ts";
import { currentScope } from "./cancel_scope.ts";
import { cancelledNow } from "./checkpoint.ts";
import { WaitQueue } from "./wait_queue.ts";

/** The owner identity of code that runs outside any runner. */
const OUTSIDE_TASKS: object = Object.freeze({});

/** The identity of the current task, for lock ownership. */
export function currentTaskIdentity(): object {
  return currentScope()?.task ?? OUTSIDE_TASKS;
}

class Guard implements LockGuard {
  #lock: LockCore;
  #generation: number;

  constructor(lock: LockCore, generation: number) {
    this.#lock = lock;
    this.#generation = generation;
  }

  [Symbol.dispose](): void {
    this.#lock.releaseGeneration(this.#generation);
  }
}

/** The lock implementation shared by every backend. */
export class LockCore implements Lock {
  #owner: object | null = null;
  /** The id of the current hold; a guard releases only the hold it was given. */
  #generation = 0;
  /** Source of hold ids, never reused (a condition wait restores an older id). */
  #counter = 0;
  /** The waiting acquirers, each node carrying its owner: FIFO, O(1) hand-off. */
  #waiters: WaitQueue<LockGuard, object> = new WaitQueue("lock");

  acquire(): Promise<LockGuard> {
    const owner = currentTaskIdentity();
    if (this.#owner === owner) {
      return Promise.reject(new Error("Cannot acquire the lock: the current task already holds it"));
    }
    if (this.#owner === null && this.#waiters.size === 0) {
      const cancelled = cancelledNow();
      if (cancelled !== undefined) return Promise.reject(cancelled);
      this.#owner = owner;
      this.#generation = ++this.#counter;
      return Promise.resolve(new Guard(this, this.#generation));
    }
    // A cancelled waiter leaves the queue, so it is never handed the lock.
    return this.#waiters.park(owner);
  }

  release(): void {
    if (this.#owner === null) throw new Error("Cannot release the lock: it is not held");
    if (this.#owner !== currentTaskIdentity()) {
      throw new Error("Cannot release the lock: it is held by another task");
    }
    this.#handOff();
  }

  locked(): boolean {
    return this.#owner !== null;
  }

  tryAcquire(): boolean {
    const owner = currentTaskIdentity();
    if (this.#owner === owner) throw new Error("Cannot acquire the lock: the current task already holds it");
    // A free lock has no waiters (a release hands it to the first), but stay safe.
    if (this.#owner !== null || this.#waiters.size !== 0) return false;
    this.#owner = owner;
    this.#generation = ++this.#counter;
    return true;
  }

  statistics(): LockStatistics {
    return Object.freeze({ locked: this.#owner !== null, owner: this.#owner, tasksWaiting: this.#waiters.size });
  }

  /** The number of tasks waiting to acquire the lock. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Releases the lock if it is still held under `generation` (guard disposal). */
  releaseGeneration(generation: number): void {
    if (this.#owner !== null && this.#generation === generation) this.release();
  }

  /** Throws unless the current task holds the lock. */
  assertOwned(method: string): void {
    if (this.#owner !== currentTaskIdentity()) {
      throw new Error(`Cannot call ${method}(): the current task does not hold the lock`);
    }
  }

  /** The id of the current hold, for {@linkcode LockCore.restoreHold}. */
  holdId(): number {
    return this.#generation;
  }

  /**
   * Makes the current hold carry the id of an earlier one, so that the guard of
   * that hold (released and reacquired by a condition wait) still releases it.
   */
  restoreHold(id: number): void {
    this.#generation = id;
  }

  #handOff(): void {
    this.#generation = ++this.#counter;
    // The head of the queue gets the lock at once (it leaves its scope in the
    // same step, so a cancellation later in this tick cannot take it back).
    const next = this.#waiters.shift();
    if (next === null) {
      this.#owner = null;
      return;
    }
    this.#owner = next.data;
    next.wake(new Guard(this, this.#generation));
  }
}
