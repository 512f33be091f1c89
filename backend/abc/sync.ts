/**
 * Synchronization primitives: locks, events, condition variables, semaphores
 * and capacity limiters.
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
  /**
   * Takes the lock if it is free and nobody waits for it, without waiting (not a
   * checkpoint). Release it with {@linkcode Lock.release}.
   *
   * @returns `true` if the current task now holds the lock.
   * @throws {Error} if the current task already holds the lock.
   */
  tryAcquire(): boolean;
  /** A snapshot of the lock's state. */
  statistics(): LockStatistics;
}

/** What {@linkcode Lock.statistics} reports. */
export interface LockStatistics {
  /** `true` when some task holds the lock. */
  readonly locked: boolean;
  /**
   * The task holding the lock: the `Task` or `SystemTask` handle of a task
   * started with `startSoon()` or `spawnTask()`, an opaque object for a runner's
   * main function or code outside any runner; `null` when the lock is free.
   */
  readonly owner: object | null;
  /** The number of tasks waiting to acquire the lock. */
  readonly tasksWaiting: number;
}

/** A waitable flag, initially unset. */
export interface Event {
  /** Waits until the flag is set (a checkpoint, even when the flag is already set). */
  wait(): Promise<void>;
  /** Sets the flag and wakes every waiter. */
  set(): void;
  /** Returns the flag. */
  isSet(): boolean;
  /** A snapshot of the event's state. */
  statistics(): EventStatistics;
}

/** What {@linkcode Event.statistics} reports. */
export interface EventStatistics {
  /** The number of tasks waiting for the flag. */
  readonly tasksWaiting: number;
}

/**
 * A condition variable over a {@linkcode Lock}: the lock's methods, with
 * statistics of its own.
 */
export interface Condition extends Omit<Lock, "statistics"> {
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
  /**
   * Waits until `predicate()` returns a truthy value, and returns that value.
   * The caller must hold the lock; the predicate runs with the lock held, first
   * at once, then after each wake-up ({@linkcode Condition.wait}), so a spurious
   * or stale wake-up only makes it check again.
   *
   * A checkpoint: rejects at once with `CancelledError` in a cancelled scope
   * (the lock stays held), even when the predicate already holds; a wait
   * cancelled later reacquires the lock before the `CancelledError` propagates,
   * as `wait()` does. An error thrown by the predicate propagates with the lock
   * held.
   *
   * @param predicate A synchronous test of the state the lock protects.
   * @returns The predicate's truthy value.
   * @throws {Error} if the current task does not hold the lock.
   * @throws {TypeError} if `predicate` is not a function.
   */
  waitFor<T>(predicate: () => T): Promise<T>;
  /** A snapshot of the condition's state. */
  statistics(): ConditionStatistics;
}

/** What {@linkcode Condition.statistics} reports. */
export interface ConditionStatistics {
  /** The number of tasks waiting to be notified (not those waiting for the lock). */
  readonly tasksWaiting: number;
  /** The statistics of the condition's lock. */
  readonly lockStatistics: LockStatistics;
}

/** Gives a semaphore's token back when disposed: `using _token = await semaphore.acquire();`. */
export interface SemaphoreGuard extends Disposable {}

/** Options of `createSemaphore()`. */
export interface SemaphoreOptions {
  /**
   * The largest value the semaphore may reach: an integer at least the initial
   * value, or `Infinity` (the default) for none. A `release()` that would raise
   * the value above it throws a `RangeError` (a bounded semaphore: it catches a
   * token given back twice).
   */
  readonly max?: number;
}

/**
 * A FIFO-fair counting semaphore (Trio's `Semaphore`): `acquire()` takes a
 * token, waiting while there is none; `release()` gives one back, straight to
 * the longest waiting task if any, so a newcomer never takes a token ahead of a
 * waiter. Tokens have no owner: any task may release.
 *
 * @example
 * ```ts
 * import { AsyncBackendFactory } from "@easynetwork/async-backend/factory";
 *
 * const backend = AsyncBackendFactory.new();
 * await backend.bootstrap(async () => {
 *   const semaphore = backend.createSemaphore(2);
 *   let running = 0;
 *   await backend.createTaskGroup((tg) => {
 *     for (let i = 0; i < 5; i++) {
 *       tg.startSoon(async () => {
 *         using _token = await semaphore.acquire();
 *         running++;
 *         if (running > 2) throw new Error("more than 2 at once");
 *         await backend.sleep(1);
 *         running--;
 *       });
 *     }
 *   });
 *   console.log(semaphore.value); // 2
 * });
 * ```
 */
export interface Semaphore {
  /**
   * Waits for a token and takes it. A checkpoint: rejects at once with
   * `CancelledError` in a cancelled scope, and a cancelled wait takes no token.
   * Resolves to a guard that releases the token when disposed (once; a token
   * released with {@linkcode Semaphore.release} must not also be disposed).
   */
  acquire(): Promise<SemaphoreGuard>;
  /**
   * Takes a token if one is free, without waiting (not a checkpoint). Give it
   * back with {@linkcode Semaphore.release}.
   *
   * @returns `true` if a token was taken.
   */
  tryAcquire(): boolean;
  /**
   * Gives a token back: to the longest waiting task if any, else to the value.
   *
   * @throws {RangeError} if the value would exceed {@linkcode Semaphore.max}.
   */
  release(): void;
  /** The number of free tokens. */
  readonly value: number;
  /** The largest value the semaphore may reach (`Infinity`: unbounded). */
  readonly max: number;
  /** A snapshot of the semaphore's state. */
  statistics(): SemaphoreStatistics;
}

/** What {@linkcode Semaphore.statistics} reports. */
export interface SemaphoreStatistics {
  /** The number of tasks waiting for a token. */
  readonly tasksWaiting: number;
  /** The number of free tokens. */
  readonly value: number;
  /** The largest value the semaphore may reach (`Infinity`: unbounded). */
  readonly max: number;
}

/**
 * Gives a capacity limiter's token back when disposed:
 * `using _token = await limiter.acquire();`. It releases only the hold it was
 * made for: once the borrower released by hand, disposing it does nothing.
 */
export interface CapacityLimiterGuard extends Disposable {}

/**
 * A FIFO-fair pool of `totalTokens` tokens lent to borrowers, at most one each
 * (Trio's and AnyIO's `CapacityLimiter`): `acquire()` borrows a token for the
 * current task, `acquireOnBehalfOf(borrower)` for any object (a job, a
 * connection). `totalTokens` can change at any time: growing it lends the new
 * tokens to the waiting borrowers, oldest first; shrinking it takes no token
 * back, the borrowers keep theirs until they release them, and nobody new gets
 * one until fewer than `totalTokens` are out.
 *
 * Where Trio and AnyIO differ, this follows Trio:
 * - Raising `totalTokens` wakes as many waiters as there are free tokens
 *   (`totalTokens - borrowedTokens`); AnyIO wakes as many as the increase, which
 *   after a shrink can lend more tokens than `totalTokens`.
 * - A waiter handed a token keeps it even if its scope is cancelled before it
 *   resumes: the `CancelledError` arrives at its next checkpoint, and its guard
 *   (or `release()`) passes the token on. AnyIO's asyncio backend gives the
 *   token back and raises at once. (Either way no token is lost; this is also
 *   how `Lock` hands over.)
 * - `availableTokens` is never negative (Trio's can be, while more tokens are
 *   borrowed than a shrunk `totalTokens`).
 *
 * Both agree, and so does this: a borrower holding a token that asks for
 * another gets an error, a release by a borrower holding none throws, and
 * `totalTokens` is an integer at least 1 or `Infinity`. Unlike both, a token
 * that is free at once is taken without yielding (a cancellation check only),
 * as `Lock.acquire()` does.
 *
 * @example
 * ```ts
 * import { AsyncBackendFactory } from "@easynetwork/async-backend/factory";
 *
 * const backend = AsyncBackendFactory.new();
 * await backend.bootstrap(async () => {
 *   const limiter = backend.createCapacityLimiter(1);
 *   await backend.createTaskGroup(async (tg) => {
 *     using _token = await limiter.acquire();
 *     tg.startSoon(async () => {
 *       using _other = await limiter.acquire(); // waits for a token
 *     });
 *     await backend.sleep(1);
 *     console.log(limiter.statistics().tasksWaiting); // 1
 *     limiter.totalTokens = 2; // lends the new token to the waiter
 *   });
 * });
 * ```
 */
export interface CapacityLimiter {
  /**
   * Borrows a token for the current task, waiting while none is free. A
   * checkpoint: rejects at once with `CancelledError` in a cancelled scope, and
   * a cancelled wait borrows nothing. Resolves to a guard that releases the
   * token when disposed.
   *
   * @throws {Error} (a rejection) if the current task already holds a token.
   */
  acquire(): Promise<CapacityLimiterGuard>;
  /**
   * Borrows a token for `borrower`, as {@linkcode CapacityLimiter.acquire}.
   *
   * @param borrower Who holds the token: any object.
   * @throws {Error} (a rejection) if `borrower` already holds a token, or
   *   holds one when this wait's turn comes (two waits for one borrower).
   * @throws {TypeError} (a rejection) if `borrower` is not an object.
   */
  acquireOnBehalfOf(borrower: object): Promise<CapacityLimiterGuard>;
  /**
   * Borrows a token for the current task if one is free and nobody waits,
   * without waiting (not a checkpoint).
   *
   * @returns `true` if a token was borrowed.
   * @throws {Error} if the current task already holds a token.
   */
  tryAcquire(): boolean;
  /**
   * Borrows a token for `borrower` if one is free and nobody waits, without
   * waiting (not a checkpoint).
   *
   * @param borrower Who holds the token: any object.
   * @returns `true` if a token was borrowed.
   * @throws {Error} if `borrower` already holds a token.
   * @throws {TypeError} if `borrower` is not an object.
   */
  tryAcquireOnBehalfOf(borrower: object): boolean;
  /**
   * Gives back the current task's token; the longest waiting borrower gets it
   * if fewer than `totalTokens` are then out.
   *
   * @throws {Error} if the current task holds no token.
   */
  release(): void;
  /**
   * Gives back `borrower`'s token, as {@linkcode CapacityLimiter.release}.
   *
   * @param borrower The borrower that holds the token.
   * @throws {TypeError} if `borrower` is not an object.
   * @throws {Error} if `borrower` holds no token.
   */
  releaseOnBehalfOf(borrower: object): void;
  /**
   * How many tokens may be out at once: an integer at least 1, or `Infinity`.
   * Setting it lends freed capacity to the waiting borrowers at once, oldest
   * first; lowering it takes no token back.
   *
   * @throws {TypeError} when set to a value that is not a number.
   * @throws {RangeError} when set to a number that is not an integer at least 1 or `Infinity`.
   */
  totalTokens: number;
  /** The number of tokens out (one per borrower); may exceed a lowered `totalTokens`. */
  readonly borrowedTokens: number;
  /** The number of tokens free to borrow: `totalTokens - borrowedTokens`, at least 0. */
  readonly availableTokens: number;
  /** A snapshot of the limiter's state. */
  statistics(): CapacityLimiterStatistics;
}

/** What {@linkcode CapacityLimiter.statistics} reports. */
export interface CapacityLimiterStatistics {
  /** The number of tokens out. */
  readonly borrowedTokens: number;
  /** How many tokens may be out at once. */
  readonly totalTokens: number;
  /**
   * Who holds the tokens, in the order they got them: the objects given to
   * `acquireOnBehalfOf()`, and for `acquire()` the task's `Task` handle (or an
   * opaque object for a runner's main function and code outside any runner).
   */
  readonly borrowers: readonly object[];
  /** The number of borrowers waiting for a token. */
  readonly tasksWaiting: number;
}

/** Seed name of {@linkcode Lock}. */
export type ILock = Lock;
/** Seed name of {@linkcode Event}. */
export type IEvent = Event;
/** Seed name of {@linkcode Condition}. */
export type ICondition = Condition;
