/**
 * Sleeping checkpoints.
 *
 * @module
 */

import { coroYield, type MacrotaskScheduler, suspend } from "./checkpoint.ts";
import type { TimerHost } from "./deadline_queue.ts";
import { assertDeadline, assertDelay } from "../_util/validate.ts";

const MAX_TIMER_DELAY = 2 ** 31 - 1;

/**
 * Sleeps until `deadline` on the host clock; never wakes early.
 *
 * @param timers The runtime's timers.
 * @param schedule The backend's yield (see `checkpoint.ts`), for deadlines already past.
 * @param deadline Absolute deadline in ms.
 */
export function sleepUntil(timers: TimerHost, schedule: MacrotaskScheduler, deadline: number): Promise<void> {
  try {
    assertDeadline(deadline, "deadline");
  } catch (error) {
    return Promise.reject(error);
  }
  if (deadline === Infinity) return sleepForever();
  if (deadline <= timers.now()) return coroYield(schedule);
  return suspend<void>((resolve) => {
    let id: unknown;
    const arm = () => {
      const left = deadline - timers.now();
      if (left <= 0) resolve();
      // Longer delays overflow 32-bit timers, which then fire at once: wait in steps.
      else id = timers.setTimer(arm, Math.min(Math.ceil(left), MAX_TIMER_DELAY));
    };
    arm();
    return () => timers.clearTimer(id);
  });
}

/**
 * Sleeps `ms` milliseconds; `0` is a plain checkpoint.
 *
 * @param timers The runtime's timers.
 * @param schedule The backend's yield (see `checkpoint.ts`), for `0`.
 * @param ms The delay.
 */
export function sleep(timers: TimerHost, schedule: MacrotaskScheduler, ms: number): Promise<void> {
  try {
    assertDelay(ms, "ms");
  } catch (error) {
    return Promise.reject(error);
  }
  if (ms === 0) return coroYield(schedule);
  return sleepUntil(timers, schedule, timers.now() + ms);
}

/** Waits until cancelled. */
export function sleepForever(): Promise<never> {
  return suspend<never>(() => {});
}
