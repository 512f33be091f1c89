/**
 * The one timer module: what a runtime's timers look like to the shared code
 * ({@linkcode TimerHost}), what its macrotask yields look like
 * ({@linkcode MacrotaskScheduler}), the longest delay a timer may be given
 * ({@linkcode MAX_TIMER_DELAY}), and the web platform's timers
 * ({@linkcode webTimers}), the default outside any runtime host.
 *
 * ## Why it looks like this
 *
 * - **One timer per run.** Every deadline of a run (cancel scopes, timeouts,
 *   `moveOnAfter`, and the sleeps of its tasks) goes through the runner's one
 *   `DeadlineQueue`, a min-heap served by a single timer: entering and leaving
 *   a scope with a deadline costs a heap operation, not a
 *   `setTimeout`/`clearTimeout` pair, a sleeping task holds no timer (a third
 *   of its memory when each sleep had one), and a thousand pending deadlines
 *   are one timer in the runtime's list. Only the waits that are not run by a
 *   runner's task (a sleep outside any runner, a worker pool's idle sweep, the
 *   Happy Eyeballs stagger) arm timers of their own, through the same host.
 * - **Unreferenced when idle.** A host's `refTimer(id, false)` lets a timer
 *   stay armed without keeping the process (or a worker) alive: the deadline
 *   queue keeps its timer armed, unreferenced, while no deadline is pending,
 *   so that the next scope needs no timer call; a pool's idle sweep never
 *   holds the process up. The web platform has no such call, so
 *   {@linkcode webTimers}'s `refTimer` does nothing; the runtime hosts (Deno's
 *   Deno's `refTimer`/`unrefTimer`, Node's `Timeout.ref()`/`unref()`) are
 *   the only ones that implement it.
 * - **The clamp.** Every runtime stores a timer's delay as a signed 32-bit
 *   millisecond count: a longer delay overflows and fires at once (Node warns
 *   and uses 1 ms, browsers and Deno fire immediately). A timer is therefore
 *   armed for at most {@linkcode MAX_TIMER_DELAY} (about 24.8 days) and its
 *   owner re-checks the clock when it fires, re-arming for what is left:
 *   {@linkcode clampDelay} is that bound.
 *
 * @module
 */

/** The timer facility of a runtime. */
export interface TimerHost {
  /** Monotonic milliseconds. */
  now(): number;
  /** Schedules `cb` in `ms` ms. */
  setTimer(cb: () => void, ms: number): unknown;
  /** Cancels a timer made by {@linkcode TimerHost.setTimer}. */
  clearTimer(id: unknown): void;
  /** Lets the timer keep the process alive (`true`) or not (`false`). */
  refTimer(id: unknown, ref: boolean): void;
}

/** A function that runs a callback on a later macrotask of the event loop. */
export type MacrotaskScheduler = (callback: () => void) => void;

/** The longest delay a runtime timer takes (2^31 - 1 ms): longer ones fire at once. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * A delay a runtime timer can take: `ms` rounded up to a whole millisecond
 * (a timer never fires early), at least 0 and at most {@linkcode MAX_TIMER_DELAY}
 * (the owner re-arms for the rest when it fires).
 *
 * @example
 * ```ts
 * import { clampDelay, MAX_TIMER_DELAY } from "./timers.ts";
 * console.assert(clampDelay(1.2) === 2);
 * console.assert(clampDelay(-5) === 0);
 * console.assert(clampDelay(Infinity) === MAX_TIMER_DELAY);
 * ```
 *
 * @param ms A delay in milliseconds.
 */
export function clampDelay(ms: number): number {
  if (!(ms > 0)) return 0;
  return ms >= MAX_TIMER_DELAY ? MAX_TIMER_DELAY : Math.ceil(ms);
}

/**
 * The web platform's timers (`setTimeout`, `clearTimeout`, `performance.now`):
 * the default where no runtime host is at hand, such as a cancel scope created
 * outside any runner. `refTimer` does nothing: web timers cannot be unreferenced.
 *
 * @example
 * ```ts
 * import { webTimers } from "./timers.ts";
 * const id = webTimers.setTimer(() => {}, 10);
 * webTimers.clearTimer(id);
 * ```
 */
export const webTimers: TimerHost = {
  now: () => performance.now(),
  setTimer: (cb, ms) => setTimeout(cb, ms),
  clearTimer: (id) => clearTimeout(id as number),
  refTimer: () => {},
};
