/**
 * Contract tests: `Lock.tryAcquire()`, `Condition.waitFor()` and the
 * statistics of locks, events and conditions; this area also registers the
 * semaphore (`core_semaphore.ts`) and capacity limiter (`core_limiter.ts`)
 * tests.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { TimeoutHandle } from "../../backend/abc/cancel_scope.ts";
import { CancelledError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import * as limiter from "./core_limiter.ts";
import * as semaphore from "./core_semaphore.ts";
import { errorLike, Slot, yieldTimes, yieldUntil } from "./core_util.ts";

/** Registers this area's tests for `backend`. */
export function register(under: BackendUnderTest): void {
  const { name, create } = under;

  test(`${name}: Lock.tryAcquire: takes a free lock without waiting, never ahead of a waiter`, async () => {
    const backend = create();
    const lock = backend.createLock();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        assert.equal(lock.tryAcquire(), true);
        assert.equal(lock.locked(), true);
        assert.throws(() => lock.tryAcquire(), errorLike(Error, /already holds/));
        const other = tg.startSoon(() => lock.tryAcquire());
        assert.equal(await other.join(), false);
        const waiter = tg.startSoon(async () => {
          using _guard = await lock.acquire();
          return lock.statistics().owner;
        });
        await yieldUntil(backend, () => lock.statistics().tasksWaiting === 1, "a waiter");
        lock.release(); // handed to the waiter at once
        assert.equal(lock.tryAcquire(), false);
        assert.equal(await waiter.join(), waiter, "the waiter held the lock");
        // No checkpoint: it takes the lock in a cancelled scope too.
        await backend.moveOnAfter(Infinity, (h) => {
          h.cancel();
          assert.equal(lock.tryAcquire(), true);
        });
        lock.release();
        // A condition's tryAcquire takes the condition's lock.
        const cond = backend.createConditionVar(lock);
        assert.equal(cond.tryAcquire(), true);
        assert.equal(lock.locked(), true);
        cond.release();
      })
    );
    assert.equal(lock.locked(), false);
  });

  test(`${name}: Condition.waitFor returns the predicate's value, re-checking after each wake-up`, async () => {
    const backend = create();
    const cond = backend.createConditionVar();
    let items: string[] = [];
    let checks = 0;
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        await assert.rejects(cond.waitFor(() => true), errorLike(Error, /waitFor\(\).*lock/));
        {
          using _guard = await cond.acquire();
          // Already true: returns at once with the value, lock still held.
          assert.equal(await cond.waitFor(() => 42), 42);
          assert.equal(cond.locked(), true);
          await assert.rejects(cond.waitFor(null as unknown as () => boolean), errorLike(TypeError, /'predicate'/));
          await assert.rejects(
            cond.waitFor(() => {
              throw new RangeError("from the predicate");
            }),
            errorLike(RangeError, /from the predicate/),
          );
          assert.equal(cond.locked(), true, "a throwing predicate leaves the lock held");
        }
        const consumer = tg.startSoon(async () => {
          using _guard = await cond.acquire();
          const got = await cond.waitFor(() => {
            checks++;
            assert.equal(cond.locked(), true, "the predicate runs under the lock");
            return items.length >= 2 && items;
          });
          items = [];
          return got;
        });
        await yieldUntil(backend, () => cond.statistics().tasksWaiting === 1, "the consumer to wait");
        assert.equal(checks, 1);
        for (const item of ["a", "b"]) {
          {
            using _guard = await cond.acquire();
            items.push(item);
            cond.notifyAll();
          }
          if (item === "a") {
            // The consumer checks again, finds one item, and waits again.
            await yieldUntil(backend, () => checks === 2 && cond.statistics().tasksWaiting === 1, "a re-check");
          }
        }
        assert.deepEqual(await consumer.join(), ["a", "b"]);
        assert.equal(checks, 3, "checked once, then once per wake-up");
      })
    );
    assert.equal(cond.locked(), false);
  });

  test(`${name}: Condition.waitFor cancelled: the lock is reacquired before CancelledError propagates`, async () => {
    const backend = create();
    const cond = backend.createConditionVar();
    const steps: string[] = [];
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const scope = new Slot<TimeoutHandle>();
        const child = tg.startSoon(() =>
          backend.moveOnAfter(Infinity, async (h) => {
            scope.set(h);
            await cond.acquire();
            try {
              await cond.waitFor(() => false);
            } catch (error) {
              assert.ok(error instanceof CancelledError);
              steps.push(`waiter saw the cancellation, locked: ${cond.locked()}`);
              cond.release(); // throws unless this task holds it
              steps.push("waiter released");
              throw error;
            }
          })
        );
        await yieldUntil(backend, () => cond.statistics().tasksWaiting === 1, "the waiter to wait");
        await cond.acquire();
        scope.get().cancel();
        await yieldTimes(backend, 10);
        steps.push("holder releases");
        cond.release();
        assert.equal(await child.join(), undefined);
        // In a cancelled scope waitFor rejects at once, even with a true
        // predicate, and keeps the lock.
        await backend.moveOnAfter(Infinity, async (h) => {
          using _guard = await cond.acquire();
          h.cancel();
          await assert.rejects(cond.waitFor(() => true), CancelledError);
          assert.equal(cond.locked(), true);
        });
      })
    );
    assert.deepEqual(steps, ["holder releases", "waiter saw the cancellation, locked: true", "waiter released"]);
    assert.equal(cond.locked(), false);
  });

  test(`${name}: statistics() of Lock, Event and Condition`, async () => {
    const backend = create();
    const lock = backend.createLock();
    const event = backend.createEvent();
    const cond = backend.createConditionVar(lock);
    const free = { locked: false, owner: null, tasksWaiting: 0 };
    assert.deepEqual(lock.statistics(), free);
    assert.deepEqual(event.statistics(), { tasksWaiting: 0 });
    assert.deepEqual(cond.statistics(), { tasksWaiting: 0, lockStatistics: free });
    for (const stats of [lock.statistics(), event.statistics(), cond.statistics()]) assert.ok(Object.isFrozen(stats));
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const holder = tg.startSoon(async () => {
          using _guard = await lock.acquire();
          await event.wait();
        });
        await yieldUntil(backend, () => lock.locked(), "the holder to take the lock");
        const lockWaiter = tg.startSoon(async () => {
          using _guard = await lock.acquire();
          return lock.statistics();
        });
        await yieldUntil(backend, () => lock.statistics().tasksWaiting === 1, "a lock waiter");
        assert.deepEqual(lock.statistics(), { locked: true, owner: holder, tasksWaiting: 1 });
        assert.deepEqual(event.statistics(), { tasksWaiting: 1 });
        assert.deepEqual(cond.statistics(), {
          tasksWaiting: 0,
          lockStatistics: { locked: true, owner: holder, tasksWaiting: 1 },
        });
        event.set();
        assert.deepEqual(event.statistics(), { tasksWaiting: 0 });
        assert.deepEqual(await lockWaiter.join(), { locked: true, owner: lockWaiter, tasksWaiting: 0 });
      })
    );
    assert.deepEqual(lock.statistics(), free);
    // A condition counts its own waiters, not its lock's.
    const cond2 = backend.createConditionVar();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        for (let i = 0; i < 2; i++) {
          tg.startSoon(async () => {
            using _guard = await cond2.acquire();
            await cond2.wait();
          });
        }
        await yieldUntil(backend, () => cond2.statistics().tasksWaiting === 2, "2 condition waiters");
        assert.deepEqual(cond2.statistics(), { tasksWaiting: 2, lockStatistics: free });
        using _guard = await cond2.acquire();
        cond2.notifyAll();
        assert.equal(cond2.statistics().tasksWaiting, 0);
      })
    );
  });

  semaphore.register(under);
  limiter.register(under);
}
