/**
 * Unit tests of the checkpoint module (backend/_core/checkpoint.ts): suspend()
 * and its cleanup, throwIfCancelled(), coroYield() and the LoopYield scheduler
 * driven by fake macrotasks and a fake clock.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CancelledError } from "../../../backend/errors.ts";
import {
  chainMacrotasks,
  coroYield,
  LOOP_TURN_INTERVAL_MS,
  LoopYield,
  type MacrotaskScheduler,
  suspend,
  throwIfCancelled,
} from "../../../backend/_core/checkpoint.ts";
import { entered, flush, inScope, probe } from "./_helpers.ts";
import { test } from "../../harness.ts";

test("suspend: resolves with what start() resolves; the scope is left afterwards", async () => {
  const scope = entered();
  let resolve!: (value: number) => void;
  const p = probe(inScope(scope, () => suspend<number>((r) => void (resolve = r))));
  resolve(4);
  await flush();
  assert.equal(p.value, 4);
  scope.cancel(); // Nothing left to reject.
  await flush();
  assert.equal(p.error, undefined);
});

test("suspend: in a cancelled scope rejects at once without calling start()", async () => {
  const scope = entered();
  scope.cancel();
  let started = false;
  await assert.rejects(inScope(scope, () => suspend(() => void (started = true))), CancelledError);
  assert.equal(started, false);
});

test("suspend: a cancellation runs the cleanup once and rejects; late settlements are ignored", async () => {
  const scope = entered();
  let cleanups = 0;
  let resolve!: (value: string) => void;
  const p = probe(inScope(scope, () =>
    suspend<string>((r) => {
      resolve = r;
      return () => cleanups++;
    })));
  scope.cancel();
  scope.cancel();
  resolve("late");
  await flush();
  assert.equal(cleanups, 1);
  assert.ok(p.error instanceof CancelledError);
});

test("suspend: a throwing cleanup rejects the wait with its error", async () => {
  const scope = entered();
  const p = probe(inScope(scope, () =>
    suspend(() => () => {
      throw new Error("cleanup failed");
    })));
  scope.cancel();
  await flush();
  assert.match(String(p.error), /cleanup failed/);
});

test("suspend: start() throwing rejects the wait; a wait resolved inside start() keeps no cleanup", async () => {
  const scope = entered();
  await assert.rejects(
    inScope(scope, () =>
      suspend(() => {
        throw new Error("no start");
      })),
    /no start/,
  );
  let cleanups = 0;
  const value = await inScope(scope, () =>
    suspend<number>((resolve) => {
      resolve(1);
      return () => cleanups++;
    }));
  assert.equal(value, 1);
  scope.cancel();
  assert.equal(cleanups, 0);
});

test("suspend: outside any scope it is a plain promise", async () => {
  assert.equal(await suspend<number>((resolve) => resolve(2)), 2);
  await assert.rejects(suspend((_, reject) => reject(new Error("x"))), /x/);
});

test("throwIfCancelled: throws in a cancelled scope, through unshielded parents only", () => {
  const outer = entered();
  const inner = entered(outer);
  inScope(inner, () => throwIfCancelled());
  throwIfCancelled(); // Outside any scope.
  outer.cancel();
  assert.throws(() => inScope(inner, () => throwIfCancelled()), CancelledError);
  inner.shield = true;
  inScope(inner, () => throwIfCancelled());
});

/** Macrotask schedulers run by hand. */
function manual(): { schedule: MacrotaskScheduler; run: () => number; pending: () => number } {
  const queue: (() => void)[] = [];
  return {
    schedule: (cb) => void queue.push(cb),
    run: () => {
      const batch = queue.splice(0);
      for (const cb of batch) cb();
      return batch.length;
    },
    pending: () => queue.length,
  };
}

test("coroYield: resolves after the macrotask; rejects when the scope was cancelled meanwhile or before", async () => {
  const tasks = manual();
  const scope = entered();
  const a = probe(inScope(scope, () => coroYield(tasks.schedule)));
  await flush();
  assert.equal(a.settled, false);
  tasks.run();
  await flush();
  assert.equal(a.settled, true);
  assert.equal(a.error, undefined);
  const b = probe(inScope(scope, () => coroYield(tasks.schedule)));
  scope.cancel();
  tasks.run();
  await flush();
  assert.ok(b.error instanceof CancelledError);
  await assert.rejects(inScope(scope, () => coroYield(tasks.schedule)), CancelledError);
  assert.equal(tasks.pending(), 0);
  const c = probe(coroYield(tasks.schedule)); // Outside any scope.
  tasks.run();
  await flush();
  assert.equal(c.settled, true);
});

test("LoopYield: a full turn first, fast rounds within the interval, a turn again after it", () => {
  const fast = manual();
  const turn = manual();
  let now = 100;
  const loop = new LoopYield(fast.schedule, turn.schedule, () => now);
  const ran: number[] = [];
  loop.schedule(() => ran.push(1));
  assert.equal(turn.pending(), 1);
  assert.equal(fast.pending(), 0);
  turn.run();
  assert.deepEqual(ran, [1]);
  loop.schedule(() => ran.push(2));
  assert.equal(fast.pending(), 1);
  fast.run();
  now += LOOP_TURN_INTERVAL_MS;
  loop.schedule(() => ran.push(3));
  assert.equal(turn.pending(), 1);
  turn.run();
  assert.deepEqual(ran, [1, 2, 3]);
});

test("LoopYield: callbacks scheduled while a yield is pending join its batch, in order", () => {
  const fast = manual();
  const turn = manual();
  const loop = new LoopYield(fast.schedule, turn.schedule, () => 0);
  const ran: number[] = [];
  for (let i = 0; i < 5; i++) loop.schedule(() => ran.push(i));
  assert.equal(turn.pending(), 1);
  // A callback scheduling another: the new one waits for the next round.
  loop.schedule(() => loop.schedule(() => ran.push(99)));
  turn.run();
  assert.deepEqual(ran, [0, 1, 2, 3, 4]);
  assert.equal(fast.pending(), 1);
  fast.run();
  assert.deepEqual(ran, [0, 1, 2, 3, 4, 99]);
});

test("LoopYield: fastRoundsPerTurn fast rounds count as a full turn", () => {
  const fast = manual();
  const turn = manual();
  let now = 0;
  const loop = new LoopYield(fast.schedule, turn.schedule, () => now, 3);
  loop.schedule(() => {});
  turn.run();
  for (let i = 0; i < 3; i++) {
    now += 0.2;
    loop.schedule(() => {});
    assert.equal(fast.pending(), 1, `round ${i} is fast`);
    fast.run();
  }
  // 1.1 ms after the turn, but the 3 fast rounds since 0.2 ms made a turn: still fast.
  now += 0.5;
  loop.schedule(() => {});
  assert.equal(fast.pending(), 1);
  assert.equal(turn.pending(), 0);
  fast.run();
});

test("LoopYield: a throwing callback does not starve the rest of its batch", async () => {
  const fast = manual();
  const turn = manual();
  const loop = new LoopYield(fast.schedule, turn.schedule, () => 0);
  const ran: string[] = [];
  const errors: unknown[] = [];
  const original = globalThis.queueMicrotask;
  globalThis.queueMicrotask = (cb) =>
    original(() => {
      try {
        cb();
      } catch (error) {
        errors.push(error);
      }
    });
  try {
    loop.schedule(() => {
      throw new Error("boom");
    });
    loop.schedule(() => ran.push("after"));
    turn.run();
    await flush();
  } finally {
    globalThis.queueMicrotask = original;
  }
  assert.deepEqual(ran, ["after"]);
  assert.match(String(errors[0]), /boom/);
});

test("chainMacrotasks: runs the callback after that many chained rounds", () => {
  const tasks = manual();
  const chained = chainMacrotasks(tasks.schedule, 3);
  let ran = false;
  chained(() => ran = true);
  assert.equal(tasks.run(), 1);
  assert.equal(tasks.run(), 1);
  assert.equal(ran, false);
  assert.equal(tasks.run(), 1);
  assert.equal(ran, true);
  assert.equal(tasks.pending(), 0);
});
