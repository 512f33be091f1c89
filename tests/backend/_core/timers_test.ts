/**
 * Unit tests of the one timer module (backend/_core/timers.ts): the delay
 * clamp and the web-platform default host.
 *
 * @module
 */

import assert from "node:assert/strict";
import { clampDelay, MAX_TIMER_DELAY, webTimers } from "../../../backend/_core/timers.ts";
import { test } from "../../harness.ts";

test("timers: MAX_TIMER_DELAY is the largest signed 32-bit millisecond count", () => {
  assert.equal(MAX_TIMER_DELAY, 2147483647);
});

test("timers: clampDelay rounds up, never below 0 nor above MAX_TIMER_DELAY", () => {
  assert.equal(clampDelay(0), 0);
  assert.equal(clampDelay(-1), 0);
  assert.equal(clampDelay(-Infinity), 0);
  assert.equal(clampDelay(NaN), 0);
  assert.equal(clampDelay(0.01), 1);
  assert.equal(clampDelay(1), 1);
  assert.equal(clampDelay(1.5), 2);
  assert.equal(clampDelay(MAX_TIMER_DELAY - 0.5), MAX_TIMER_DELAY);
  assert.equal(clampDelay(MAX_TIMER_DELAY), MAX_TIMER_DELAY);
  assert.equal(clampDelay(MAX_TIMER_DELAY + 1), MAX_TIMER_DELAY);
  assert.equal(clampDelay(Infinity), MAX_TIMER_DELAY);
});

test("timers: webTimers fires after its delay on a monotonic clock; clearTimer cancels", async () => {
  const start = webTimers.now();
  let cleared = false;
  const id = webTimers.setTimer(() => void (cleared = true), 5);
  webTimers.refTimer(id, false); // a no-op on the web platform
  webTimers.clearTimer(id);
  await new Promise<void>((resolve) => webTimers.setTimer(resolve, 10));
  assert.ok(webTimers.now() - start >= 9);
  assert.equal(cleared, false);
});
