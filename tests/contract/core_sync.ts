/**
 * Contract tests: locks, events and condition variables.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { TimeoutHandle } from "../../backend/abc/cancel_scope.ts";
import { CancelledError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { errorLike, Slot, yieldTimes, yieldUntil } from "./core_util.ts";

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: Lock is FIFO: 5 waiters acquire in the order they asked`, async () => {
    const backend = create();
    const lock = backend.createLock();
    // Requests are made in this order, which differs from the start order.
    const order = [2, 4, 0, 3, 1];
    const requested: number[] = [];
    const acquired: number[] = [];
    let holders = 0;
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        assert.equal(lock.locked(), false);
        await lock.acquire();
        assert.equal(lock.locked(), true);
        const turns = order.map(() => backend.createEvent());
        for (let id = 0; id < order.length; id++) {
          tg.startSoon(async () => {
            await turns[id].wait();
            requested.push(id);
            await lock.acquire();
            holders++;
            acquired.push(id);
            assert.equal(holders, 1, "two tasks hold the lock");
            await backend.coroYield();
            await backend.sleep(0);
            holders--;
            lock.release();
          });
        }
        for (const id of order) {
          turns[id].set();
          await yieldUntil(backend, () => requested.includes(id), `task ${id} to ask for the lock`);
        }
        await yieldTimes(backend, 5);
        assert.deepEqual(acquired, []);
        lock.release();
        // Handed over at once to the first waiter: no gap for a newcomer to barge in.
        assert.equal(lock.locked(), true);
      })
    );
    assert.deepEqual(requested, order);
    assert.deepEqual(acquired, order);
    assert.equal(lock.locked(), false);
  });

  test(`${name}: Lock: release by a task that does not own it throws`, async () => {
    const backend = create();
    const lock = backend.createLock();
    assert.throws(() => lock.release(), Error);
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        assert.throws(() => lock.release(), errorLike(Error, /not held/));
        const held = backend.createEvent();
        const done = backend.createEvent();
        tg.startSoon(async () => {
          await lock.acquire();
          held.set();
          await done.wait();
          lock.release();
        });
        await held.wait();
        assert.throws(() => lock.release(), errorLike(Error, /another task/));
        assert.equal(lock.locked(), true);
        done.set();
      })
    );
    assert.equal(lock.locked(), false);
  });

  test(`${name}: Lock: a cancelled acquire does not take the lock; later waiters still get it`, async () => {
    const backend = create();
    const lock = backend.createLock();
    const steps: string[] = [];
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        await lock.acquire();
        const scope = new Slot<TimeoutHandle>();
        const bWaiting = backend.createEvent();
        let cAsked = false;
        const b = tg.startSoon(async () => {
          const result = await backend.moveOnAfter(Infinity, async (h) => {
            scope.set(h);
            const acquiring = lock.acquire();
            bWaiting.set();
            await acquiring;
            steps.push("B acquired");
          });
          steps.push(`B moved on with ${result}`);
        });
        const c = tg.startSoon(async () => {
          await bWaiting.wait();
          cAsked = true;
          await lock.acquire();
          steps.push("C acquired");
          await backend.sleep(0);
          lock.release();
        });
        await yieldUntil(backend, () => cAsked, "C to ask for the lock");
        // B is first in line; cancel it while it waits.
        scope.get().cancel();
        await b.wait();
        assert.deepEqual(steps, ["B moved on with undefined"]);
        assert.equal(lock.locked(), true);
        // A deadline cancelling an acquire does not take it either.
        const timedOut = tg.startSoon(() => backend.moveOnAfter(2, () => lock.acquire()));
        assert.equal(await timedOut.join(), undefined);
        lock.release();
        await c.join();
        assert.deepEqual(steps, ["B moved on with undefined", "C acquired"]);
        assert.equal(lock.locked(), false);
        // Nothing is left queued: the lock is free for a fresh acquire.
        using _guard = await lock.acquire();
        assert.equal(lock.locked(), true);
      })
    );
    assert.equal(lock.locked(), false);
  });

  test(`${name}: Lock: the using guard releases; a guard never releases a later hold`, async () => {
    const backend = create();
    const lock = backend.createLock();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        {
          using _guard = await lock.acquire();
          assert.equal(lock.locked(), true);
        }
        assert.equal(lock.locked(), false);

        // Disposal hands the lock to a waiter.
        let waiterGotIt = false;
        {
          using _guard = await lock.acquire();
          tg.startSoon(async () => {
            using _inner = await lock.acquire();
            waiterGotIt = true;
          });
          await yieldTimes(backend, 3);
          assert.equal(waiterGotIt, false);
        }
        await yieldUntil(backend, () => waiterGotIt, "the waiter to get the lock");
        await yieldUntil(backend, () => !lock.locked(), "the waiter to release the lock");

        // Released by hand, then held by another task: disposing the old guard is a no-op.
        const otherHolds = backend.createEvent();
        const finish = backend.createEvent();
        {
          using _guard = await lock.acquire();
          lock.release();
          tg.startSoon(async () => {
            await lock.acquire();
            otherHolds.set();
            await finish.wait();
            lock.release();
          });
          await otherHolds.wait();
        }
        assert.equal(lock.locked(), true);
        assert.throws(() => lock.release(), errorLike(Error, /another task/));
        finish.set();
      })
    );
    assert.equal(lock.locked(), false);
  });

  test(`${name}: Event wait/set/isSet, and cancellation of wait`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const event = backend.createEvent();
      assert.equal(event.isSet(), false);
      const woke: number[] = [];
      await backend.createTaskGroup(async (tg) => {
        for (let i = 0; i < 3; i++) {
          tg.startSoon(async () => {
            await event.wait();
            woke.push(i);
          });
        }
        await yieldTimes(backend, 5);
        assert.deepEqual(woke, []);
        event.set();
        assert.equal(event.isSet(), true);
        event.set();
      });
      assert.deepEqual([...woke].sort(), [0, 1, 2]);
      await event.wait(); // already set
      assert.equal(event.isSet(), true);

      const other = backend.createEvent();
      const steps: string[] = [];
      const result = await backend.moveOnAfter(Infinity, async (h) => {
        const waiting = other.wait();
        h.cancel();
        await assert.rejects(waiting, CancelledError);
        steps.push("wait cancelled");
        // A set event is still a checkpoint in a cancelled scope.
        await assert.rejects(event.wait(), CancelledError);
        steps.push("set event rejected too");
      });
      assert.equal(result, undefined);
      assert.deepEqual(steps, ["wait cancelled", "set event rejected too"]);
      assert.equal(await backend.moveOnAfter(2, () => other.wait()), undefined);
      assert.equal(other.isSet(), false);
      other.set();
      await other.wait();
    });
  });

  test(`${name}: Condition: a cancelled wait reacquires the lock before it rejects`, async () => {
    const backend = create();
    const cond = backend.createConditionVar();
    const steps: string[] = [];
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const scope = new Slot<TimeoutHandle>();
        const waiting = backend.createEvent();
        const child = tg.startSoon(async () => {
          const result = await backend.moveOnAfter(Infinity, async (h) => {
            scope.set(h);
            await cond.acquire();
            try {
              const wait = cond.wait();
              waiting.set();
              await wait;
              steps.push("not notified: not reached");
            } catch (error) {
              assert.ok(error instanceof CancelledError);
              steps.push(`waiter saw the cancellation, locked: ${cond.locked()}`);
              cond.release(); // throws unless this task holds it
              steps.push("waiter released");
              throw error;
            }
          });
          return result;
        });
        await waiting.wait();
        // wait() released the lock: take it, then cancel the waiter.
        await cond.acquire();
        scope.get().cancel();
        await yieldTimes(backend, 10);
        steps.push("holder releases");
        cond.release();
        assert.equal(await child.join(), undefined);
      })
    );
    assert.deepEqual(steps, [
      "holder releases",
      "waiter saw the cancellation, locked: true",
      "waiter released",
    ]);
    assert.equal(cond.locked(), false);
  });

  test(`${name}: Condition: the using guard of acquire() still releases after a wait`, async () => {
    const backend = create();
    const cond = backend.createConditionVar();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const waiting = backend.createEvent();
        const waiter = tg.startSoon(async () => {
          {
            using _guard = await cond.acquire();
            const wait = cond.wait();
            waiting.set();
            await wait;
            assert.equal(cond.locked(), true);
          }
          return cond.locked();
        });
        await waiting.wait();
        {
          using _guard = await cond.acquire();
          cond.notify();
        }
        assert.equal(await waiter.join(), false, "the guard did not release the reacquired lock");
      })
    );
    assert.equal(cond.locked(), false);
  });

  test(`${name}: Condition notify(n) and notifyAll; wait without the lock throws`, async () => {
    const backend = create();
    const lock = backend.createLock();
    const cond = backend.createConditionVar(lock);
    await backend.bootstrap(async () => {
      await assert.rejects(cond.wait(), errorLike(Error, /lock/));
      await cond.acquire();
      assert.equal(lock.locked(), true, "the condition uses the given lock");
      cond.release();
      assert.equal(lock.locked(), false);

      for (const mode of ["notify", "notifyAll"] as const) {
        let waiting = 0;
        const woke: number[] = [];
        await backend.createTaskGroup(async (tg) => {
          for (let i = 0; i < 3; i++) {
            tg.startSoon(async () => {
              using _guard = await cond.acquire();
              waiting++;
              await cond.wait();
              assert.equal(cond.locked(), true);
              woke.push(i);
            });
          }
          await yieldUntil(backend, () => waiting === 3, "3 waiters");
          if (mode === "notify") {
            {
              using _guard = await cond.acquire();
              cond.notify(2);
            }
            await yieldUntil(backend, () => woke.length === 2, "2 woken waiters");
            await yieldTimes(backend, 20);
            assert.equal(woke.length, 2, "notify(2) woke more than 2");
            {
              using _guard = await cond.acquire();
              cond.notify(0);
            }
            await yieldTimes(backend, 20);
            assert.equal(woke.length, 2, "notify(0) woke a waiter");
            {
              using _guard = await cond.acquire();
              cond.notify();
            }
          } else {
            using _guard = await cond.acquire();
            cond.notifyAll();
          }
        });
        assert.deepEqual([...woke].sort(), [0, 1, 2], mode);
        assert.equal(cond.locked(), false, `${mode}: the using guards released the lock`);
      }
    });
  });
}
