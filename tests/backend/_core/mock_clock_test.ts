/**
 * Unit tests of the mock clock's timer host (backend/_core/mock_clock.ts),
 * attached by hand: order, the callbacks' context, unreferenced timers and
 * autojump, a running clock's real timer.
 *
 * @module
 */

import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { attachClock, detachClock, MockClock } from "../../../backend/_core/mock_clock.ts";
import { currentScope } from "../../../backend/_core/cancel_scope.ts";
import { webTimers } from "../../../backend/_core/timers.ts";
import { entered, inScope } from "./_helpers.ts";
import { test } from "../../harness.ts";

const turn = (callback: () => void): void => void setImmediate(callback);

/** Waits `count` macrotasks. */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

test("mock clock: jump() fires due timers in deadline order, then arming order; later ones wait", () => {
  const clock = new MockClock({ start: 50 });
  const timers = attachClock(clock, webTimers, turn, () => 0);
  try {
    const fired: string[] = [];
    timers.setTimer(() => fired.push(`c@${timers.now()}`), 30);
    timers.setTimer(() => fired.push(`a@${timers.now()}`), 10);
    timers.setTimer(() => fired.push(`b@${timers.now()}`), 10);
    const late = timers.setTimer(() => fired.push("late"), 40);
    assert.equal(timers.now(), 50);
    clock.jump(30);
    assert.deepEqual(fired, ["a@80", "b@80", "c@80"]);
    timers.clearTimer(late);
    clock.jump(100);
    assert.deepEqual(fired, ["a@80", "b@80", "c@80"]);
  } finally {
    detachClock(clock);
  }
});

test("mock clock: a callback runs in the context its timer was armed in, not the jumper's", () => {
  const clock = new MockClock();
  const timers = attachClock(clock, webTimers, turn, () => 0);
  try {
    const armer = entered();
    const jumper = entered();
    let seen: unknown = null;
    inScope(armer, () => timers.setTimer(() => (seen = currentScope()), 5));
    inScope(jumper, () => clock.jump(5));
    assert.equal(seen, armer);
  } finally {
    detachClock(clock);
  }
});

test("mock clock: autojump never moves time for an unreferenced timer alone", async () => {
  const clock = new MockClock({ autojump: true });
  const timers = attachClock(clock, webTimers, turn, () => 0);
  try {
    let fired = false;
    const id = timers.setTimer(() => (fired = true), 1_000);
    timers.refTimer(id, false);
    await turns(20);
    assert.equal(clock.now(), 0);
    assert.equal(fired, false);
    timers.refTimer(id, true);
    await turns(20);
    assert.equal(fired, true);
    assert.equal(clock.now(), 1_000);
  } finally {
    detachClock(clock);
  }
});

test("mock clock: autojump waits while the runner's activity count moves", async () => {
  const clock = new MockClock({ autojump: true });
  let activity = 0;
  const timers = attachClock(clock, webTimers, turn, () => activity);
  try {
    timers.setTimer(() => {}, 1_000);
    for (let i = 0; i < 30; i++) {
      activity++;
      await turns(1);
    }
    assert.equal(clock.now(), 0);
    await turns(20);
    assert.equal(clock.now(), 1_000);
  } finally {
    detachClock(clock);
  }
});

test("mock clock: a running clock fires through one real timer, cleared on detach", async () => {
  const clock = new MockClock({ rate: 100 });
  const timers = attachClock(clock, webTimers, turn, () => 0);
  try {
    const at = await new Promise<number>((resolve) => timers.setTimer(() => resolve(timers.now()), 500)); // 5 real ms
    assert.ok(at >= 500);
    // Left pending: detaching must clear the real timer behind it (the op sanitizer checks).
    timers.setTimer(() => {}, 60_000);
  } finally {
    detachClock(clock);
  }
  assert.throws(() => attachClock({}, webTimers, turn, () => 0), TypeError);
});
