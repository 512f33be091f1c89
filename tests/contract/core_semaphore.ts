/**
 * Contract tests: semaphores (registered by `core_sync_more.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { TimeoutHandle } from "../../backend/abc/cancel_scope.ts";
import { CancelledError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { errorLike, Slot, yieldTimes, yieldUntil } from "./core_util.ts";

/** A small seeded PRNG (mulberry32), so that a failing random run replays. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Registers the semaphore tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: Semaphore is FIFO: a release hands the token to the oldest waiter, no barging`, async () => {
    const backend = create();
    const semaphore = backend.createSemaphore(0);
    const order = [2, 4, 0, 3, 1];
    const requested: number[] = [];
    const acquired: number[] = [];
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const turns = order.map(() => backend.createEvent());
        for (let id = 0; id < order.length; id++) {
          tg.startSoon(async () => {
            await turns[id].wait();
            requested.push(id);
            await semaphore.acquire(); // kept: the test gives the tokens one by one
            acquired.push(id);
          });
        }
        for (const id of order) {
          turns[id].set();
          await yieldUntil(backend, () => requested.includes(id), `task ${id} to ask for a token`);
        }
        assert.equal(semaphore.statistics().tasksWaiting, 5);
        for (let i = 0; i < order.length; i++) {
          semaphore.release();
          // Handed over at once: the value stays 0, a newcomer cannot take it.
          assert.equal(semaphore.value, 0);
          assert.equal(semaphore.tryAcquire(), false);
          assert.equal(semaphore.statistics().tasksWaiting, order.length - i - 1);
          await yieldUntil(backend, () => acquired.length === i + 1, `waiter ${i + 1} to get its token`);
          await yieldTimes(backend, 3);
          assert.equal(acquired.length, i + 1, "one release woke two waiters");
        }
      })
    );
    assert.deepEqual(requested, order);
    assert.deepEqual(acquired, order);
    assert.equal(semaphore.value, 0);
  });

  test(`${name}: Semaphore: a cancelled acquire takes no token; the next waiter gets it`, async () => {
    const backend = create();
    const semaphore = backend.createSemaphore(1, { max: 1 });
    const steps: string[] = [];
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const held = await semaphore.acquire();
        const scope = new Slot<TimeoutHandle>();
        let cAsked = false;
        const b = tg.startSoon(async () => {
          const result = await backend.moveOnAfter(Infinity, async (h) => {
            scope.set(h);
            await semaphore.acquire();
            steps.push("B acquired: not reached");
          });
          steps.push(`B moved on with ${result}`);
        });
        await yieldUntil(backend, () => semaphore.statistics().tasksWaiting === 1, "B to wait");
        const c = tg.startSoon(async () => {
          cAsked = true;
          using _token = await semaphore.acquire();
          steps.push("C acquired");
        });
        await yieldUntil(backend, () => cAsked && semaphore.statistics().tasksWaiting === 2, "C to wait");
        scope.get().cancel();
        await b.join();
        assert.equal(semaphore.statistics().tasksWaiting, 1, "the cancelled waiter left the queue");
        // A deadline cancelling an acquire takes nothing either.
        assert.equal(await backend.moveOnAfter(2, () => semaphore.acquire()), undefined);
        held[Symbol.dispose]();
        await c.join();
        // In a cancelled scope, a free token is not taken.
        await backend.moveOnAfter(Infinity, async (h) => {
          h.cancel();
          await assert.rejects(semaphore.acquire(), CancelledError);
          assert.equal(semaphore.value, 1);
        });
      })
    );
    assert.deepEqual(steps, ["B moved on with undefined", "C acquired"]);
    assert.equal(semaphore.value, 1);
    assert.equal(semaphore.statistics().tasksWaiting, 0);
  });

  test(`${name}: Semaphore: a waiter cancelled after it was handed the token passes it on`, async () => {
    const backend = create();
    const semaphore = backend.createSemaphore(1);
    const steps: string[] = [];
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const held = await semaphore.acquire();
        const scope = new Slot<TimeoutHandle>();
        const b = tg.startSoon(() =>
          backend.moveOnAfter(Infinity, async (h) => {
            scope.set(h);
            using _token = await semaphore.acquire();
            steps.push("B got the token");
            try {
              await backend.coroYield();
              steps.push("B not cancelled: not reached");
            } catch (error) {
              steps.push("B cancelled at its next checkpoint");
              throw error;
            }
          })
        );
        await yieldUntil(backend, () => semaphore.statistics().tasksWaiting === 1, "B to wait");
        const c = tg.startSoon(async () => {
          using _token = await semaphore.acquire();
          steps.push("C got the token");
        });
        await yieldUntil(backend, () => semaphore.statistics().tasksWaiting === 2, "C to wait");
        held[Symbol.dispose](); // hands the token to B...
        scope.get().cancel(); // ...which is cancelled in the same tick
        assert.equal(semaphore.value, 0);
        assert.equal(await b.join(), undefined);
        await c.join();
      })
    );
    assert.deepEqual(steps, ["B got the token", "B cancelled at its next checkpoint", "C got the token"]);
    assert.equal(semaphore.value, 1);
  });

  test(`${name}: Semaphore: tryAcquire, value, max, guards and release beyond max`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const semaphore = backend.createSemaphore(2, { max: 3 });
      assert.equal(semaphore.value, 2);
      assert.equal(semaphore.max, 3);
      assert.equal(backend.createSemaphore(0).max, Infinity);
      assert.equal(semaphore.tryAcquire(), true);
      assert.equal(semaphore.tryAcquire(), true);
      assert.equal(semaphore.tryAcquire(), false);
      assert.equal(semaphore.value, 0);
      semaphore.release();
      {
        using _token = await semaphore.acquire();
        assert.equal(semaphore.value, 0);
      }
      assert.equal(semaphore.value, 1);
      // A guard gives its token back once, however often it is disposed.
      const guard = await semaphore.acquire();
      guard[Symbol.dispose]();
      guard[Symbol.dispose]();
      assert.equal(semaphore.value, 1);
      semaphore.release();
      semaphore.release();
      assert.equal(semaphore.value, 3);
      assert.throws(() => semaphore.release(), errorLike(RangeError, /exceed its max \(3\)/));
      assert.equal(semaphore.value, 3);
      // max 0: no release is ever valid (Trio's rule), even with a waiter.
      const closed = backend.createSemaphore(0, { max: 0 });
      assert.equal(await backend.moveOnAfter(1, () => closed.acquire()), undefined);
      assert.throws(() => closed.release(), RangeError);
      // tryAcquire is no checkpoint: it works in a cancelled scope.
      await backend.moveOnAfter(Infinity, (h) => {
        h.cancel();
        assert.equal(semaphore.tryAcquire(), true);
      });
      assert.equal(semaphore.value, 2);
    });
  });

  test(`${name}: Semaphore: statistics()`, async () => {
    const backend = create();
    const semaphore = backend.createSemaphore(1, { max: 5 });
    assert.deepEqual(semaphore.statistics(), { tasksWaiting: 0, value: 1, max: 5 });
    assert.ok(Object.isFrozen(semaphore.statistics()));
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        await semaphore.acquire();
        for (let i = 0; i < 3; i++) tg.startSoon(async () => void (await semaphore.acquire()));
        await yieldUntil(backend, () => semaphore.statistics().tasksWaiting === 3, "3 waiters");
        assert.deepEqual(semaphore.statistics(), { tasksWaiting: 3, value: 0, max: 5 });
        semaphore.release();
        assert.deepEqual(semaphore.statistics(), { tasksWaiting: 2, value: 0, max: 5 });
        semaphore.release();
        semaphore.release();
      })
    );
    assert.deepEqual(semaphore.statistics(), { tasksWaiting: 0, value: 0, max: 5 });
    assert.equal(backend.createSemaphore(3).statistics().max, Infinity);
  });

  test(`${name}: Semaphore: bad initial and max are TypeError or RangeError naming the argument`, () => {
    const backend = create();
    for (const initial of ["1", null, undefined, 1n, {}]) {
      assert.throws(() => backend.createSemaphore(initial as unknown as number), errorLike(TypeError, /'initial'/));
    }
    for (const initial of [-1, 1.5, NaN, Infinity, 2 ** 53]) {
      assert.throws(() => backend.createSemaphore(initial), errorLike(RangeError, /'initial'/));
    }
    for (const max of ["2", null, 2n]) {
      assert.throws(() => backend.createSemaphore(1, { max: max as unknown as number }), errorLike(TypeError, /'max'/));
    }
    for (const max of [0, 1.5, NaN, -Infinity]) {
      assert.throws(() => backend.createSemaphore(1, { max }), errorLike(RangeError, /'max'/));
    }
    for (const options of [null, 3, "max"]) {
      assert.throws(
        () => backend.createSemaphore(1, options as unknown as { max?: number }),
        errorLike(TypeError, /'options'/),
      );
    }
    assert.throws(
      () => backend.createSemaphore(1, { maxValue: 3 } as { max?: number }),
      errorLike(TypeError, /'options'.*'maxValue'.*'max'/),
    );
    assert.equal(backend.createSemaphore(1, { max: 1 }).max, 1);
    assert.equal(backend.createSemaphore(1, { max: Infinity }).max, Infinity);
    assert.equal(backend.createSemaphore(1, {}).max, Infinity);
  });

  test(`${name}: Semaphore under random cancellation: never over-granted, no token lost`, async () => {
    const backend = create();
    const TOKENS = 3;
    const TASKS = 30;
    const ROUNDS = 20;
    for (const seed of [1, 2, 3]) {
      const random = seededRandom(seed);
      const semaphore = backend.createSemaphore(TOKENS, { max: TOKENS });
      const scopes = new Set<TimeoutHandle>();
      let holding = 0;
      let peak = 0;
      let grants = 0;
      let cancels = 0;
      let finished = 0;
      await backend.bootstrap(() =>
        backend.createTaskGroup(async (tg) => {
          for (let t = 0; t < TASKS; t++) {
            tg.startSoon(async () => {
              for (let r = 0; r < ROUNDS; r++) {
                await backend.moveOnAfter(Infinity, async (h) => {
                  scopes.add(h);
                  try {
                    if (random() < 0.2) await backend.coroYield();
                    using _token = await semaphore.acquire();
                    holding++;
                    grants++;
                    peak = Math.max(peak, holding);
                    try {
                      const yields = Math.floor(random() * 3);
                      for (let i = 0; i < yields; i++) await backend.coroYield();
                    } finally {
                      holding--;
                    }
                  } finally {
                    scopes.delete(h);
                  }
                });
              }
              finished++;
            });
          }
          for (let turns = 0; finished < TASKS; turns++) {
            if (turns > 200_000) assert.fail(`seed ${seed}: stuck with ${finished}/${TASKS} tasks finished`);
            await backend.coroYield();
            // Cancel a random waiter or holder, sometimes right after a hand-off.
            if (scopes.size > 0 && random() < 0.6) {
              const pick = Math.floor(random() * scopes.size);
              [...scopes][pick].cancel();
              cancels++;
            }
          }
        })
      );
      assert.ok(peak <= TOKENS, `seed ${seed}: ${peak} tokens out of ${TOKENS}`);
      assert.equal(peak, TOKENS, `seed ${seed}: the tokens were never all in use`);
      assert.equal(holding, 0);
      assert.equal(semaphore.value, TOKENS, `seed ${seed}: tokens lost`);
      assert.equal(semaphore.statistics().tasksWaiting, 0);
      assert.ok(grants > 0 && cancels > 0, `seed ${seed}: ${grants} grants, ${cancels} cancels`);
      assert.ok(grants < TASKS * ROUNDS, `seed ${seed}: no acquire was cancelled`);
    }
  });
}
