/**
 * A FIFO-fair, owner-checked lock.
 *
 * @module
 */

import type { Lock, LockGuard } from "../abc/sync.ts";
import { CancelledError } from "../errors.ts";
import { currentScope } from "./cancel_scope.ts";
import { suspend } from "./checkpoint.ts";

/** The owner identity of code that runs outside any runner. */
const OUTSIDE_TASKS: object = {};

/** The identity of the current task, for lock ownership. */
export function currentTaskIdentity(): object {
  return currentScope()?.task ?? OUTSIDE_TASKS;
}

interface LockWaiter {
  readonly owner: object;
  readonly grant: () => void;
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
  #waiters: Set<LockWaiter> = new Set();

  acquire(): Promise<LockGuard> {
    const owner = currentTaskIdentity();
    if (this.#owner === owner) {
      return Promise.reject(new Error("Cannot acquire the lock: the current task already holds it"));
    }
    if (this.#owner === null && this.#waiters.size === 0) {
      if (currentScope()?.isCancelled()) return Promise.reject(new CancelledError());
      this.#owner = owner;
      this.#generation = ++this.#counter;
      return Promise.resolve(new Guard(this, this.#generation));
    }
    return suspend<LockGuard>((resolve) => {
      const waiter: LockWaiter = { owner, grant: () => resolve(new Guard(this, this.#generation)) };
      this.#waiters.add(waiter);
      return () => this.#waiters.delete(waiter);
    });
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
    const next = this.#waiters.values().next();
    if (next.done) {
      this.#owner = null;
      return;
    }
    const waiter = next.value;
    this.#waiters.delete(waiter);
    this.#owner = waiter.owner;
    waiter.grant();
  }
}
