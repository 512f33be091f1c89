/**
 * Synchronization primitives: locks, events and condition variables.
 *
 * @module
 */

/** Releases a lock when disposed: `using _guard = await lock.acquire();`. */
export interface LockGuard extends Disposable {}

/**
 * A FIFO-fair mutual-exclusion lock for tasks, owned by the task that acquired it.
 */
export interface Lock {
  /**
   * Waits for the lock and takes it. A checkpoint: a cancelled acquire does not
   * take the lock. Resolves to a guard that releases the lock when disposed.
   */
  acquire(): Promise<LockGuard>;
  /**
   * Releases the lock, handing it to the longest waiting task if any.
   *
   * @throws {Error} if the lock is not held by the current task.
   */
  release(): void;
  /** `true` when some task holds the lock. */
  locked(): boolean;
}

/** A waitable flag, initially unset. */
export interface Event {
  /** Waits until the flag is set (a checkpoint, even when the flag is already set). */
  wait(): Promise<void>;
  /** Sets the flag and wakes every waiter. */
  set(): void;
  /** Returns the flag. */
  isSet(): boolean;
}

/** A condition variable over a {@linkcode Lock}. */
export interface Condition extends Lock {
  /**
   * Releases the lock, waits to be notified, and reacquires the lock, also when
   * the wait is cancelled (the `CancelledError` is thrown after reacquiring).
   *
   * @throws {Error} if the current task does not hold the lock.
   */
  wait(): Promise<void>;
  /**
   * Wakes up to `n` waiting tasks.
   *
   * @param n How many waiters to wake (default 1).
   * @throws {Error} if the current task does not hold the lock.
   */
  notify(n?: number): void;
  /**
   * Wakes every waiting task.
   *
   * @throws {Error} if the current task does not hold the lock.
   */
  notifyAll(): void;
}

/** Seed name of {@linkcode Lock}. */
export type ILock = Lock;
/** Seed name of {@linkcode Event}. */
export type IEvent = Event;
/** Seed name of {@linkcode Condition}. */
export type ICondition = Condition;
