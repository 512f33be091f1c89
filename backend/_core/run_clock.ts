/**
 * The clock of the caller's runner: the timers every library wait of a run
 * uses, a mock clock's when the runner was given one.
 *
 * @module
 */

import { currentScope } from "./cancel_scope.ts";
import type { TimerHost } from "./timers.ts";

/**
 * The timers of the caller's runner (its deadline queue's host), or
 * `fallback` (the runtime's) outside any runner.
 *
 * @param fallback The runtime's timers.
 */
export function runTimers(fallback: TimerHost): TimerHost {
  const loop = currentScope()?.loop;
  return loop == null ? fallback : loop.deadlines.timers;
}
