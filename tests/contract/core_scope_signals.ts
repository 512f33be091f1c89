/**
 * Contract tests: an outside `AbortSignal` cancelling a standalone scope (its
 * reason, `AbortSignal.timeout`, the listener removed on exit), and
 * `cancel(reason)` carried to `CancelledError.reason` and `signal.reason`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { TimeoutHandle } from "../../backend/abc/cancel_scope.ts";
import { CancelledError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { assertCancelled, Slot, yieldTimes, yieldUntil } from "./core_util.ts";

/** An `AbortController` whose signal counts the `abort` listeners added and not yet removed. */
function countedController(): { controller: AbortController; listeners: () => number } {
  const controller = new AbortController();
  const signal = controller.signal;
  const live = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (type: string, listener: unknown, options?: unknown) => {
    if (type === "abort") live.add(listener);
    add(type, listener as EventListener, options as AddEventListenerOptions);
  };
  signal.removeEventListener = (type: string, listener: unknown, options?: unknown) => {
    if (type === "abort") live.delete(listener);
    remove(type, listener as EventListener, options as EventListenerOptions);
  };
  return { controller, listeners: () => live.size };
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: an outside AbortSignal wakes a task sleeping in a standalone scope, with its reason`, async () => {
    const backend = create();
    const { controller, listeners } = countedController();
    const scope = backend.openCancelScope({ signal: controller.signal });
    const reason = new Error("shutting down");
    let sleeping = false;
    let seen: unknown;
    await backend.bootstrap(() =>
      backend.timeout(5_000, () =>
        backend.createTaskGroup(async (tg) => {
          tg.startSoon(() =>
            scope.run(async () => {
              sleeping = true;
              try {
                await backend.sleep(10_000);
              } catch (error) {
                seen = error;
                throw error;
              }
            })
          );
          await yieldUntil(backend, () => sleeping, "the task sleeps");
          assert.equal(listeners(), 1);
          const started = backend.currentTime();
          controller.abort(reason);
          await yieldUntil(backend, () => seen !== undefined, "the sleeping task wakes");
          assert.ok(backend.currentTime() - started < 5_000);
        }))
    );
    assertCancelled(seen, reason);
    assert.equal(scope.cancelCalled, true);
    assert.equal(scope.cancelledCaught, true);
    assert.equal(scope.expired(), false);
    assert.equal(scope.signal.reason.reason, reason);
    assert.equal(listeners(), 0);
  });

  test(`${name}: an already aborted AbortSignal cancels the scope at entry; AbortSignal.timeout works as a deadline`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const aborted = backend.openCancelScope({ signal: AbortSignal.abort("gone") });
      assert.equal(aborted.cancelCalled, false);
      const steps: string[] = [];
      const result = await aborted.run(async () => {
        assert.equal(aborted.cancelCalled, true);
        await backend.sleep(0).catch((error) => {
          assertCancelled(error, "gone");
          throw error;
        });
        steps.push("never");
      });
      assert.equal(result, undefined);
      assert.deepEqual(steps, []);
      assert.equal(aborted.cancelledCaught, true);

      const timed = backend.openCancelScope({ signal: AbortSignal.timeout(2) });
      let seen: unknown;
      const outcome = await backend.timeout(10_000, () =>
        timed.run(() =>
          backend.sleepForever().catch((error) => {
            seen = error;
            throw error;
          })
        ));
      assert.equal(outcome, undefined);
      assert.equal(timed.cancelledCaught, true);
      assert.ok(seen instanceof CancelledError);
      assert.ok(seen.reason instanceof DOMException);
      assert.equal(seen.reason.name, "TimeoutError");
    });
  });

  test(`${name}: the outside signal's listener is removed when the scope exits, normally or with an error`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const normal = countedController();
      const a = backend.openCancelScope({ signal: normal.controller.signal });
      assert.equal(normal.listeners(), 0); // nothing listens before entry
      assert.equal(
        await a.run(async () => {
          assert.equal(normal.listeners(), 1);
          await backend.sleep(0);
          return "ok";
        }),
        "ok",
      );
      assert.equal(normal.listeners(), 0);
      // Aborting after exit reaches nothing.
      normal.controller.abort();
      assert.equal(a.cancelCalled, false);
      assert.equal(a.signal.aborted, false);

      const failing = countedController();
      const b = backend.openCancelScope({ signal: failing.controller.signal });
      await assert.rejects(
        b.run(async () => {
          assert.equal(failing.listeners(), 1);
          await backend.sleep(0);
          throw new Error("boom");
        }),
        /boom/,
      );
      assert.equal(failing.listeners(), 0);

      // Cancelled by an enclosing scope: the error propagates, the listener goes too.
      const enclosing = countedController();
      const c = backend.openCancelScope({ signal: enclosing.controller.signal });
      await backend.moveOnAfter(Infinity, (o) =>
        c.run(async () => {
          o.cancel();
          await backend.sleepForever();
        }));
      assert.equal(c.cancelledCaught, false);
      assert.equal(enclosing.listeners(), 0);
    });
  });

  test(`${name}: cancel(reason) reaches the CancelledError of every checkpoint inside and the scope's signal`, async () => {
    const backend = create();
    const reason = { code: 42 };
    const errors: unknown[] = [];
    const scope = backend.openCancelScope();
    const handles = new Slot<TimeoutHandle>();
    await backend.bootstrap(() =>
      scope.run(async (s) => {
        await backend.createTaskGroup(async (tg) => {
          let waiting = 0;
          const wait = async (what: () => Promise<unknown>) => {
            waiting++;
            try {
              await what();
            } catch (error) {
              errors.push(error);
              throw error;
            }
          };
          tg.startSoon(() => wait(() => backend.sleepForever()));
          tg.startSoon(() => wait(() => backend.createEvent().wait()));
          tg.startSoon(() =>
            backend.moveOnAfter(60_000, (h) => {
              handles.set(h);
              return wait(() => backend.sleep(60_000));
            })
          );
          await yieldUntil(backend, () => waiting === 3, "three waits");
          s.cancel(reason);
          // Level-triggered: a checkpoint reached later carries the reason too.
          await backend.coroYield().catch((error) => {
            errors.push(error);
            throw error;
          });
        });
      })
    );
    assert.equal(errors.length, 4);
    for (const error of errors) assertCancelled(error, reason);
    assert.equal(handles.get().cancelledCaught, false);
    assert.ok(scope.signal.reason instanceof CancelledError);
    assert.equal(scope.signal.reason.reason, reason);
  });

  test(`${name}: a TimeoutHandle's cancel(reason) and a task group scope's carry the reason`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      let seen: unknown;
      await backend.moveOnAfter(Infinity, async (h) => {
        h.cancel("handle reason");
        await backend.sleep(0).catch((error) => {
          seen = error;
          throw error;
        });
      });
      assertCancelled(seen, "handle reason");
      await backend.createTaskGroup(async (tg) => {
        tg.startSoon(async () => {
          await backend.sleepForever().catch((error) => {
            seen = error;
            throw error;
          });
        });
        await yieldTimes(backend, 2);
        tg.cancelScope.cancel("group reason");
      });
      assertCancelled(seen, "group reason");
    });
  });

  test(`${name}: cancel(reason): every primitive's checkpoint in a cancelled scope carries the reason`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const lock = backend.createLock();
      const condition = backend.createConditionVar();
      const semaphore = backend.createSemaphore(1);
      const limiter = backend.createCapacityLimiter(1);
      const [send, receive] = backend.createMemoryChannel<number>(1);
      send.sendNowait(1);
      const calls: [string, () => Promise<unknown>][] = [
        ["lock.acquire", () => lock.acquire()],
        ["condition.acquire", () => condition.acquire()],
        ["semaphore.acquire", () => semaphore.acquire()],
        ["limiter.acquire", () => limiter.acquire()],
        ["channel.receive", () => receive.receive()],
        ["channel.send", () => send.send(2)],
        ["sleep", () => backend.sleep(0)],
      ];
      for (const [what, call] of calls) {
        const scope = backend.openCancelScope();
        scope.cancel(`stop ${what}`);
        let seen: unknown;
        await scope.run(async () => {
          try {
            await call();
          } catch (error) {
            seen = error;
            throw error;
          }
        });
        assertCancelled(seen, `stop ${what}`);
      }
      // Nothing was taken by the cancelled calls.
      assert.equal(lock.locked(), false);
      assert.equal(semaphore.value, 1);
      assert.equal(limiter.borrowedTokens, 0);
      assert.equal(receive.receiveNowait(), 1);
      send.close();
      receive.close();
    });
  });
}
