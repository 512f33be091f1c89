/**
 * Unit tests of the sleeping checkpoints in a runner (backend/_core/timeouts.ts):
 * a sleep is an entry of the runner's deadline queue (no runtime timer of its
 * own), wakes in deadline order and, for equal deadlines, in the order the
 * sleeps began, never early, and leaves the queue when cancelled.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CancelledError } from "../../../backend/errors.ts";
import { sleep, sleepUntil } from "../../../backend/_core/timeouts.ts";
import { flush, inScope, probe, runScope } from "./_helpers.ts";
import { test } from "../../harness.ts";

const noYield = (): void => {
  throw new Error("no yield expected");
};

test("sleep in a runner: one timer for every sleep, deadline order, FIFO among equal deadlines, never early", async () => {
  const { loop, scope, timers } = runScope();
  const woke: string[] = [];
  const start = (name: string, ms: number) =>
    inScope(scope, () => sleep(timers, noYield, ms)).then(() => void woke.push(name));
  const all = [start("a10", 10), start("b10", 10), start("c5", 5), start("d10", 10), start("e5", 5)];
  assert.equal(loop.deadlines.size, 5);
  assert.equal(timers.timers.size, 1, "one runtime timer, the queue's");
  assert.equal(scope.firstWaiter?.waitKind, "sleep");
  timers.advance(4);
  await flush();
  assert.deepEqual(woke, [], "never early");
  timers.advance(1);
  await flush();
  assert.deepEqual(woke, ["c5", "e5"]);
  timers.advance(5);
  await Promise.all(all);
  assert.deepEqual(woke, ["c5", "e5", "a10", "b10", "d10"]);
  assert.equal(loop.deadlines.size, 0);
  assert.equal(scope.firstWaiter, null, "no waiter left on the scope");
  assert.equal(timers.timers.size, 0);
});

test("sleep in a runner: a cancellation rejects it and takes it off the queue; a cancelled scope rejects at once", async () => {
  const { loop, scope, timers } = runScope();
  const first = probe(inScope(scope, () => sleepUntil(timers, noYield, 100)));
  const second = probe(inScope(scope, () => sleep(timers, noYield, 50)));
  assert.equal(loop.deadlines.size, 2);
  scope.cancel("stop");
  await flush();
  assert.ok(first.error instanceof CancelledError);
  assert.ok(second.error instanceof CancelledError);
  assert.equal((second.error as CancelledError).reason, "stop");
  assert.equal(loop.deadlines.size, 0);
  assert.equal(timers.timers.size, 0, "the queue's timer is cleared with its last entry");
  const late = probe(inScope(scope, () => sleep(timers, noYield, 10)));
  await flush();
  assert.ok(late.error instanceof CancelledError);
  assert.equal(loop.deadlines.size, 0);
});
