/**
 * Contract tests: runners and bad input to the core API. The other core areas
 * are `core_cancel.ts`, `core_tasks.ts` and `core_sync.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Lock } from "../../backend/abc/sync.ts";
import type { TaskGroup } from "../../backend/abc/tasks.ts";
import { SingleTaskRunner } from "../../tasks/mod.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { errorLike, Slot } from "./core_util.ts";

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: bootstrap returns the function's result`, async () => {
    const backend = create();
    assert.equal(await backend.bootstrap(async (a: number, b: number) => a + b, 1, 2), 3);
  });

  test(`${name}: bad input: negative or NaN delays reject a RangeError naming the argument`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      // Each call must return a rejected promise, not throw synchronously.
      await assert.rejects(backend.sleep(-1), errorLike(RangeError, /'ms'/));
      await assert.rejects(backend.sleep(NaN), errorLike(RangeError, /'ms'/));
      await assert.rejects(backend.moveOnAfter(-1, () => 1), errorLike(RangeError, /'ms'/));
      await assert.rejects(backend.moveOnAfter(NaN, () => 1), errorLike(RangeError, /'ms'/));
      await assert.rejects(backend.timeout(NaN, () => 1), errorLike(RangeError, /'ms'/));
      await assert.rejects(backend.timeout(-5, () => 1), errorLike(RangeError, /'ms'/));
      await assert.rejects(backend.sleepUntil(NaN), errorLike(RangeError, /'deadline'/));
      await assert.rejects(backend.moveOnAt(NaN, () => 1), errorLike(RangeError, /'deadline'/));
      await assert.rejects(backend.timeoutAt(NaN, () => 1), errorLike(RangeError, /'deadline'/));
      // Not a number at all.
      await assert.rejects(backend.sleep("5" as unknown as number), errorLike(TypeError, /'ms'/));
      await assert.rejects(backend.timeout("5" as unknown as number, () => 1), errorLike(TypeError, /'ms'/));
      // Handles check their deadline too (sync: they throw).
      await backend.moveOnAfter(60_000, (h) => {
        assert.throws(() => h.reschedule(NaN), errorLike(RangeError, /'deadline'/));
        assert.throws(() => (h.deadline = NaN), RangeError);
        assert.equal(h.cancelCalled, false);
      });
    });
  });

  test(`${name}: bad input: non-function callbacks give a TypeError naming the argument`, async () => {
    const backend = create();
    // deno-lint-ignore no-explicit-any
    const notFn = (value: unknown): any => value;
    await backend.bootstrap(async () => {
      // Sync methods throw.
      const group = new Slot<TaskGroup>();
      await backend.createTaskGroup((tg) => {
        group.set(tg);
        assert.throws(() => tg.startSoon(notFn(123)), errorLike(TypeError, /'fn'/));
      });
      assert.throws(() => backend.spawnTask(notFn({})), errorLike(TypeError, /'fn'/));
      assert.throws(() => new SingleTaskRunner(backend, notFn(5)), errorLike(TypeError, /'fn'/));
      // Async methods reject.
      await assert.rejects(backend.createTaskGroup(notFn("x")), errorLike(TypeError, /'body'/));
      await assert.rejects(backend.moveOnAfter(1, notFn(null)), errorLike(TypeError, /'fn'/));
      await assert.rejects(backend.moveOnAt(1, notFn(undefined)), errorLike(TypeError, /'fn'/));
      await assert.rejects(backend.timeout(1, notFn(1)), errorLike(TypeError, /'fn'/));
      await assert.rejects(backend.timeoutAt(1, notFn(1)), errorLike(TypeError, /'fn'/));
      await assert.rejects(backend.ignoreCancellation(notFn(1)), errorLike(TypeError, /'fn'/));
      await assert.rejects(backend.waitFuture(notFn(1)), errorLike(TypeError, /'future'/));
      await backend.createTaskGroup(async (tg) => {
        await assert.rejects(tg.start(notFn(123)), errorLike(TypeError, /'fn'/));
      });
      const runner = backend.newRunner();
      try {
        await assert.rejects(runner.run(notFn(123)), errorLike(TypeError, /'fn'/));
      } finally {
        await runner.close();
      }
      await backend.moveOnAfter(60_000, (h) => {
        assert.throws(() => (h.shield = notFn("yes")), errorLike(TypeError, /'shield'/));
        assert.equal(h.shield, false);
      });
    });
  });

  test(`${name}: bad input: notify(-1) throws a RangeError; createConditionVar(non-lock) a TypeError`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const cond = backend.createConditionVar();
      for (const n of [-1, 1.5, NaN]) assert.throws(() => cond.notify(n), errorLike(RangeError, /'n'/));
      const fake: Lock = {
        acquire: () => Promise.reject(new Error("fake")),
        release: () => {},
        locked: () => false,
        tryAcquire: () => false,
        statistics: () => ({ locked: false, owner: null, tasksWaiting: 0 }),
      };
      assert.throws(() => backend.createConditionVar(fake), errorLike(TypeError, /'lock'/));
      assert.throws(() => backend.createConditionVar({} as Lock), errorLike(TypeError, /'lock'/));
    });
  });
}
