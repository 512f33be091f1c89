/**
 * Checkpoints: the awaits where cancellation is delivered.
 *
 * ## Why a yield is what it is (SPEC 2.1 rule 4)
 *
 * A checkpoint that yields must be a full turn of the event loop: due timers and
 * ready I/O run before the task resumes. Measured, a task that burns 2 ms of CPU
 * between yields must see a timer due in 1 ms within 3 yields, and a chain of an
 * accept, a write and the peer's read complete within 9. And yielding in a tight
 * loop must stay cheap (within 2× the fastest raw yield that is a full turn).
 *
 * What each runtime's raw yields do, by `scripts/bench/yield_candidates.ts`
 * (2 shared cores): ns per yield in a tight loop; then, burning 2 ms before
 * each yield, the yields until a 1 ms timer fires and until an I/O chain
 * completes (a `node:net` server or Deno's own listener, with a peer in the
 * process or a separate `python3` process; median of 5 rounds, every chain
 * alike; `>1500`: never).
 *
 * | raw yield                 | Deno 2.9.6 ns | timer | I/O chain | Node 20 / 24 ns           | timer | I/O chain |
 * | ------------------------- | ------------: | ----: | --------: | ------------------------: | ----: | --------: |
 * | `setImmediate`            |   1,250–1,760 |     2 |   180–184 | 1,670–1,690 / 1,800–1,960 |     2 |         2 |
 * | `MessageChannel` round    |         2,700 |     1 |   `>1500` | 1,290–1,470 / 1,420–1,980 | 1,001 |   `>1500` |
 * | `setTimeout(0)`           |     2,200,000 |     1 |         1 |                 1,150,000 |     1 |       1–2 |
 * | `Atomics.waitAsync`, 1 µs |     1,200,000 |     1 |       1–2 |               4,000–5,500 |     1 |         2 |
 * | 2 chained `setImmediate`  |         2,900 |     1 |     90–92 |             2,200 / 3,400 |     1 |         1 |
 * | 64 chained `setImmediate` |        78,500 |     1 |         3 |                    78,500 |     1 |         1 |
 * | this module's design      |         1,800 |     1 |         3 |             1,680 / 1,870 |     1 |         1 |
 *
 * - **Node**: `setImmediate` is a full turn when it is scheduled from the check
 *   phase (timers, then a poll for I/O, then the check phase again), but from
 *   the poll phase, where I/O callbacks and channel messages run, it runs in the
 *   same iteration, before any timer. Two chained rounds are always a full turn.
 *   A `MessageChannel` round is a little cheaper, but Node delivers the messages
 *   posted while it delivers messages in the same round, up to 1,000, without
 *   running timers or polling I/O in between: alone it starves both.
 *   `setTimeout(0)` is 1 ms.
 * - **Deno 2.9**: the loop is a task of tokio's current-thread scheduler, which
 *   polls its I/O driver only when it has nothing to run, or every 61 ticks
 *   otherwise (`event_interval`). A `setImmediate` round is one tick and runs
 *   due timers (Deno checks them every tick), so timers are fine but a chain of
 *   three I/O steps takes 3 × 61 yields. A `MessageChannel` round completes
 *   within one tick and never lets tokio poll. `setTimeout(0)` and
 *   `Atomics.waitAsync` park the loop (a full turn) but cost 1 to 2 ms. A chain
 *   of 64 `setImmediate` rounds is a full turn for 80 µs: tokio polls I/O within
 *   61 of them, and the rounds after run the callbacks of what it found. (A
 *   thread-pool op such as `crypto.subtle.digest` is no full turn: the worker
 *   often wakes the loop before it parks; a timer or a long-lived
 *   `MessagePort` is an op that the test sanitizers report when a yield is
 *   pending at the end of a test, immediates are not.)
 *
 * Hence {@linkcode LoopYield}: the cheapest macrotask (`MessageChannel` on Node,
 * `setImmediate` on Deno), and a full turn (2 chained `setImmediate` on Node, 64
 * on Deno) for any yield that comes 1 ms or more after the last full turn. A
 * task that burns 2 ms between yields gets a full turn at every yield (1 yield
 * to the timer, 1 to 3 to the I/O chain, on both runtimes); a task that yields
 * in a tight loop pays one full turn a millisecond (on Node about 3 µs: nothing)
 * or, on Deno, none at all, since 64 fast rounds are a full turn by themselves.
 * The design's row above: as cheap as the cheapest raw yield, within the noise
 * of the machine, and 40 times cheaper than Deno's cheapest full turn.
 *
 * @module
 */

import type { CancelledError } from "../errors.ts";
import { type CancelScope, currentScope, Waiter } from "./cancel_scope.ts";
import type { MacrotaskScheduler } from "./timers.ts";

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
 * @param kind What the wait is for, as the task tree shows it (`"sleep"`, `"dns"`...).
 */
export function suspend<T>(
  start: (resolve: (value: T) => void, reject: (error: unknown) => void) => Cleanup | void,
  kind = "checkpoint",
): Promise<T> {
  const scope = currentScope();
  if (scope === undefined) {
    return new Promise<T>((resolve, reject) => void start(resolve, reject));
  }
  if (scope.isCancelled()) return Promise.reject(scope.cancelledError());
  const loop = scope.loop;
  if (loop !== null) loop.activity++;
  return new Promise<T>((resolve, reject) => {
    const waiter = new SuspendWaiter<T>(scope, resolve, reject, kind);
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

/**
 * {@linkcode suspend} for a wait that is a waiter object of its own, with no
 * closures (a sleep in a runner): rejects at once with `CancelledError` when
 * `scope` is cancelled; otherwise registers on `scope` the waiter that
 * `make(resolve, reject)` returns. That waiter's `abort()` undoes the wait and
 * rejects; whatever settles it otherwise must take it off `scope` first.
 *
 * @param scope The caller's scope.
 * @param make Begins the wait and returns its waiter.
 */
export function suspendWaiter<T>(
  scope: CancelScope,
  make: (resolve: (value: T) => void, reject: (error: unknown) => void) => Waiter,
): Promise<T> {
  if (scope.isCancelled()) return Promise.reject(scope.cancelledError());
  const loop = scope.loop;
  if (loop !== null) loop.activity++;
  return new Promise<T>((resolve, reject) => scope.addWaiter(make(resolve, reject)));
}

class SuspendWaiter<T> extends Waiter {
  settled = false;
  cleanup: Cleanup | undefined = undefined;
  #scope: CancelScope;
  #resolve: (value: T) => void;
  #reject: (error: unknown) => void;
  #kind: string;

  constructor(scope: CancelScope, resolve: (value: T) => void, reject: (error: unknown) => void, kind: string) {
    super();
    this.#scope = scope;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#kind = kind;
  }

  override get waitKind(): string {
    return this.#kind;
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

/**
 * The `CancelledError` a checkpoint of the caller must throw now (carrying the
 * catching scope's reason), or `undefined` when the caller's scope is not cancelled.
 */
export function cancelledNow(): CancelledError | undefined {
  const scope = currentScope();
  return scope !== undefined && scope.isCancelled() ? scope.cancelledError() : undefined;
}

/** Throws `CancelledError` when the caller's scope is cancelled. */
export function throwIfCancelled(): void {
  const scope = currentScope();
  if (scope !== undefined && scope.isCancelled()) throw scope.cancelledError();
}

// The macrotask scheduler's type lives in the one timer module; re-exported here.
export type { MacrotaskScheduler } from "./timers.ts";

/**
 * How long a run of fast yields may go on before a yield takes a full turn of
 * the event loop, in ms (see the module comment).
 */
export const LOOP_TURN_INTERVAL_MS = 1;

/**
 * The yield behind every checkpoint that yields: the runtime's cheapest
 * macrotask (`fast`), and a full turn of the event loop (`turn`) whenever
 * {@linkcode LOOP_TURN_INTERVAL_MS} or more has passed since the last one. A
 * task that yields rarely gets a full turn at every yield; a task that yields in
 * a tight loop pays for one turn per millisecond, or none where a run of fast
 * rounds is a full turn by itself (`fastRoundsPerTurn`, Deno).
 *
 * Callbacks run in the order they were scheduled, in batches: the callbacks
 * scheduled while a fast yield or a turn is pending join it (so a yield never
 * overtakes an earlier one, and a turn costs one round of the runtime's
 * scheduler, whatever the number of waiting tasks).
 */
export class LoopYield {
  #queue: (() => void)[] = [];
  /** The array of the batch before, kept empty for the next one (no array per yield). */
  #spare: (() => void)[] = [];
  /** When the loop last took a full turn (a lower bound), by the host clock. */
  #lastTurn = -Infinity;
  /** Fast rounds since the last turn, and when the first of them ran. */
  #fastRounds = 0;
  #fastSince = 0;
  readonly #fast: MacrotaskScheduler;
  readonly #turn: MacrotaskScheduler;
  readonly #now: () => number;
  readonly #fastRoundsPerTurn: number;

  /**
   * @param fast The runtime's cheapest macrotask; it need not poll I/O.
   * @param turn A full turn of the event loop: due timers and ready I/O run first.
   * @param now The monotonic clock, in ms.
   * @param fastRoundsPerTurn How many `fast` rounds make a full turn anyway
   *   (each round one tick of a loop that polls I/O every so many ticks), or
   *   `Infinity`.
   */
  constructor(fast: MacrotaskScheduler, turn: MacrotaskScheduler, now: () => number, fastRoundsPerTurn = Infinity) {
    this.#fast = fast;
    this.#turn = turn;
    this.#now = now;
    this.#fastRoundsPerTurn = fastRoundsPerTurn;
  }

  /** Runs `callback` on a later macrotask, after a full turn of the loop when one is due. */
  schedule: MacrotaskScheduler = (callback) => {
    const queue = this.#queue;
    queue.push(callback);
    if (queue.length !== 1) return;
    if (this.#now() - this.#lastTurn >= LOOP_TURN_INTERVAL_MS) this.#turn(this.#afterTurn);
    else this.#fast(this.#afterFast);
  };

  #afterTurn = (): void => {
    this.#lastTurn = this.#now();
    this.#fastRounds = 0;
    this.#drain();
  };

  #afterFast = (): void => {
    // Each round is a tick of its own: after this many, the loop has taken a full
    // turn since the first of them ran, a safe lower bound for the last turn.
    if (++this.#fastRounds === 1) this.#fastSince = this.#now();
    else if (this.#fastRounds >= this.#fastRoundsPerTurn) {
      this.#lastTurn = this.#fastSince;
      this.#fastRounds = 0;
    }
    this.#drain();
  };

  #drain(): void {
    const batch = this.#queue;
    this.#queue = this.#spare;
    // Callbacks only resolve promises; a throwing one must not starve the rest.
    for (let i = 0; i < batch.length; i++) {
      try {
        batch[i]();
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    batch.length = 0;
    this.#spare = batch;
  }
}

/**
 * The number of chained `setImmediate` rounds that make a full turn of Deno's
 * event loop (see the module comment): tokio polls its I/O driver at least once
 * every 61 ticks of the loop, and each round is one tick; the rounds after the
 * 61st run the callbacks of the I/O found ready.
 */
export const DENO_TURN_IMMEDIATES = 64;

/**
 * A scheduler that runs its callback after `rounds` macrotasks of `schedule`,
 * each scheduled by the one before.
 *
 * @param schedule The macrotask to chain.
 * @param rounds How many rounds (at least 1).
 */
export function chainMacrotasks(schedule: MacrotaskScheduler, rounds: number): MacrotaskScheduler {
  return (callback) => {
    let left = rounds;
    const step = (): void => {
      if (--left <= 0) callback();
      else schedule(step);
    };
    schedule(step);
  };
}

/**
 * Yields to the event loop, so that due timers and ready I/O run, then rejects
 * if the caller's scope was cancelled meanwhile. Rejects at once when the scope
 * is already cancelled.
 *
 * @param schedule The backend's yield: a {@linkcode LoopYield}'s `schedule`, or a
 *   runtime macrotask that is a full turn of its loop by itself.
 */
export function coroYield(schedule: MacrotaskScheduler): Promise<void> {
  const scope = currentScope();
  if (scope === undefined) return new Promise<void>((resolve) => schedule(resolve));
  if (scope.isCancelled()) return Promise.reject(scope.cancelledError());
  const loop = scope.loop;
  if (loop !== null) loop.activity++;
  return new Promise<void>((resolve, reject) => {
    schedule(() => {
      if (scope.isCancelled()) reject(scope.cancelledError());
      else resolve();
    });
  });
}
