/**
 * RFC 8305 ("Happy Eyeballs v2") connection racing over injected resolve and
 * connect functions, so that every runtime shares it and tests can fake them.
 *
 * @module
 */

import { suspend } from "../_core/checkpoint.ts";
import { webTimers } from "../_core/timers.ts";
import { combineConnectErrors } from "./errors.ts";

/** Timers used to stagger the attempts. */
export interface StaggerTimers {
  /** Calls `callback` after `ms` milliseconds; returns an id. */
  setTimer(callback: () => void, ms: number): unknown;
  /** Cancels a timer. */
  clearTimer(id: unknown): void;
}

/** What {@linkcode happyEyeballs} needs. */
export interface HappyEyeballsOptions<C> {
  /** Starts one attempt; `signal` aborts when the race no longer needs it. */
  connect(address: string, signal: AbortSignal): Promise<C>;
  /** Closes a connection that lost the race (it succeeded too late). */
  close(conn: C): void;
  /** Delay between the starts of two attempts, in ms (RFC 8305 "Connection Attempt Delay"). */
  delay: number;
  /** What the attempts connect to, for the error message (e.g. `"example.com:443"`). */
  target?: string;
  /** Timers (default: the web platform's, `webTimers` of `_core/timers.ts`). */
  timers?: StaggerTimers;
}

/**
 * Races connection attempts to `addresses` (already interleaved): an attempt
 * starts every `delay` ms, or at once when the previous one failed; the first
 * success wins, pending attempts are aborted and late successes closed. Rejects
 * with the attempts' error(s) when all fail. A checkpoint: a cancelled race
 * aborts every attempt and leaks no connection.
 *
 * @param addresses The addresses, in the order to try them.
 * @param options Connect, close, delay and timers.
 */
export function happyEyeballs<C>(addresses: readonly string[], options: HappyEyeballsOptions<C>): Promise<C> {
  const { connect, close, delay } = options;
  const timers = options.timers ?? webTimers;
  const target = options.target ?? addresses.join(", ");
  if (addresses.length === 0) return Promise.reject(new RangeError(`No address to connect to for ${target}`));
  return suspend<C>((resolve, reject) => {
    // One controller per attempt: aborting must never touch the winner.
    const pending = new Set<AbortController>();
    const errors: unknown[] = [];
    let next = 0;
    let done = false;
    let timer: unknown = undefined;
    let timerArmed = false;

    const stopTimer = () => {
      if (timerArmed) timers.clearTimer(timer);
      timerArmed = false;
    };
    const finish = () => {
      done = true;
      stopTimer();
      for (const controller of pending) controller.abort();
      pending.clear();
    };
    const startNext = (): void => {
      stopTimer();
      if (done || next >= addresses.length) return;
      const address = addresses[next++];
      const controller = new AbortController();
      pending.add(controller);
      let attempt: Promise<C>;
      try {
        attempt = connect(address, controller.signal);
      } catch (error) {
        attempt = Promise.reject(error);
      }
      attempt.then(
        (conn) => {
          pending.delete(controller);
          if (done) {
            close(conn);
            return;
          }
          finish();
          resolve(conn);
        },
        (error) => {
          pending.delete(controller);
          if (done) return;
          errors.push(error);
          if (next < addresses.length) startNext();
          else if (pending.size === 0) {
            finish();
            reject(combineConnectErrors(errors, target));
          }
        },
      );
      if (!done && next < addresses.length) {
        timer = timers.setTimer(startNext, delay);
        timerArmed = true;
      }
    };
    startNext();
    return finish;
  }, "connect");
}
