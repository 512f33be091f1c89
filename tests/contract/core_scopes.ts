/**
 * Contract tests: standalone cancel scopes (`openCancelScope`): cancelled,
 * rescheduled and shielded before they run, run once, bad options; and
 * `currentEffectiveDeadline`. Outside `AbortSignal`s and reasons:
 * `core_scope_signals.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { CancelScope, TimeoutHandle } from "../../backend/abc/cancel_scope.ts";
import { CancelledError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { assertCancelled, errorLike, Slot } from "./core_util.ts";

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: a standalone scope cancelled before it runs: aborted signal, first checkpoint rejects, run() resolves undefined`, async () => {
    const backend = create();
    const scope = backend.openCancelScope();
    const signal = scope.signal;
    assert.equal(signal.aborted, false);
    scope.cancel("early");
    scope.cancel("ignored: the first reason stays");
    assert.equal(scope.cancelCalled, true);
    assert.equal(signal.aborted, true);
    assert.ok(signal.reason instanceof CancelledError);
    assert.equal(signal.reason.reason, "early");
    const steps: string[] = [];
    const result = await backend.bootstrap(() =>
      scope.run(async (s) => {
        assert.equal(s, scope);
        steps.push("body runs until its first checkpoint");
        try {
          await backend.sleep(0);
        } catch (error) {
          assertCancelled(error, "early");
          throw error;
        }
        steps.push("after the checkpoint");
        return "value";
      })
    );
    assert.equal(result, undefined);
    assert.deepEqual(steps, ["body runs until its first checkpoint"]);
    assert.equal(scope.cancelledCaught, true);
    assert.equal(scope.expired(), false);
  });

  test(`${name}: a standalone scope without a cancellation returns the body's value`, async () => {
    const backend = create();
    const scope = backend.openCancelScope({ deadline: Infinity, shield: false });
    const result = await backend.bootstrap(() => scope.run(async () => (await backend.sleep(0), 42)));
    assert.equal(result, 42);
    assert.equal(scope.cancelCalled, false);
    assert.equal(scope.cancelledCaught, false);
    assert.equal(scope.signal.aborted, false);
  });

  test(`${name}: rescheduling a standalone scope before it runs: the deadline counts from entry`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      // A deadline in the past, given before entry, cancels the scope when it is entered.
      const past = backend.openCancelScope({ deadline: backend.currentTime() - 1 });
      assert.equal(past.cancelCalled, false);
      assert.equal(await past.run(() => backend.sleepForever()), undefined);
      assert.equal(past.expired(), true);
      assert.equal(past.cancelledCaught, true);

      // Moved later, then removed, before entry: the body finishes.
      const removed = backend.openCancelScope({ deadline: backend.currentTime() - 1 });
      removed.reschedule(backend.currentTime() + 60_000);
      assert.ok(removed.when() > backend.currentTime());
      removed.deadline = Infinity;
      assert.equal(await removed.run(async () => (await backend.sleep(2), "done")), "done");
      assert.equal(removed.cancelCalled, false);

      // Set with the setter before entry: the scope expires while it waits.
      const soon = backend.openCancelScope();
      soon.deadline = backend.currentTime() + 2;
      const outcome = await backend.timeout(10_000, () => soon.run(() => backend.sleepForever()));
      assert.equal(outcome, undefined);
      assert.equal(soon.expired(), true);
    });
  });

  test(`${name}: rescheduling a standalone scope while it runs moves its deadline`, async () => {
    const backend = create();
    const scope = backend.openCancelScope({ deadline: backend.currentTime() + 60_000 });
    const steps: string[] = [];
    const result = await backend.bootstrap(() =>
      backend.timeout(10_000, () =>
        scope.run(async (s) => {
          steps.push("waiting");
          s.deadline = backend.currentTime() + 2;
          await backend.sleep(10_000);
          steps.push("slept through");
        }))
    );
    assert.equal(result, undefined);
    assert.deepEqual(steps, ["waiting"]);
    assert.equal(scope.expired(), true);
    assert.equal(scope.cancelledCaught, true);
  });

  test(`${name}: a shield set before entry keeps an enclosing cancellation out until the scope exits`, async () => {
    const backend = create();
    for (const how of ["option", "setter"] as const) {
      const steps: string[] = [];
      const outer = new Slot<TimeoutHandle>();
      const inner = how === "option" ? backend.openCancelScope({ shield: true }) : backend.openCancelScope();
      if (how === "setter") inner.shield = true;
      assert.equal(inner.shield, true);
      const result = await backend.bootstrap(() =>
        backend.moveOnAfter(Infinity, async (o) => {
          outer.set(o);
          await inner.run(async () => {
            o.cancel("outer");
            assert.equal(inner.signal.aborted, false);
            await backend.sleep(1);
            await backend.coroYield();
            steps.push("shielded body finished");
          });
          steps.push("after the shielded scope");
          await backend.sleep(0);
          steps.push("never");
        })
      );
      assert.equal(result, undefined, how);
      assert.deepEqual(steps, ["shielded body finished", "after the shielded scope"], how);
      assert.equal(inner.cancelCalled, false, how);
      assert.equal(outer.get().cancelledCaught, true, how);
    }
  });

  test(`${name}: a standalone scope entered in a cancelled scope: its signal aborts at entry and the outer scope catches`, async () => {
    const backend = create();
    const inner = backend.openCancelScope();
    const signal = inner.signal;
    const outer = new Slot<TimeoutHandle>();
    const steps: string[] = [];
    await backend.bootstrap(() =>
      backend.moveOnAfter(Infinity, async (o) => {
        outer.set(o);
        o.cancel("outer reason");
        await inner.run(async () => {
          assert.equal(signal.aborted, true);
          assert.equal(signal.reason.reason, "outer reason");
          try {
            await backend.coroYield();
          } catch (error) {
            assertCancelled(error, "outer reason");
            throw error;
          }
        });
        steps.push("never");
      })
    );
    assert.deepEqual(steps, []);
    assert.equal(inner.cancelledCaught, false);
    assert.equal(outer.get().cancelledCaught, true);
  });

  test(`${name}: a standalone scope runs once: a second run() or one from inside rejects with a TypeError`, async () => {
    const backend = create();
    const scope = backend.openCancelScope();
    await backend.bootstrap(async () => {
      const inside = await scope.run(async (s: CancelScope) => {
        await assert.rejects(s.run(() => "again"), errorLike(TypeError, /already entered/));
        return "first";
      });
      assert.equal(inside, "first");
      await assert.rejects(scope.run(() => "again"), errorLike(TypeError, /already entered/));
      const unused = backend.openCancelScope();
      await assert.rejects(unused.run("not a function" as never), errorLike(TypeError, /'fn'/));
      // A bad call does not use the scope up.
      assert.equal(await unused.run(() => "ran"), "ran");
    });
  });

  test(`${name}: currentEffectiveDeadline: the earliest deadline up to the nearest shield, -Infinity when cancelled`, async () => {
    const backend = create();
    assert.equal(backend.currentEffectiveDeadline(), Infinity);
    await backend.bootstrap(async () => {
      assert.equal(backend.currentEffectiveDeadline(), Infinity);
      const now = backend.currentTime();
      const t1 = now + 50_000;
      await backend.moveOnAt(t1, async (outer) => {
        assert.equal(backend.currentEffectiveDeadline(), t1);
        await backend.moveOnAt(t1 + 1_000, () => assert.equal(backend.currentEffectiveDeadline(), t1));
        await backend.moveOnAt(t1 - 1_000, () => assert.equal(backend.currentEffectiveDeadline(), t1 - 1_000));
        await backend.createTaskGroup((tg) => {
          tg.startSoon(() => assert.equal(backend.currentEffectiveDeadline(), t1));
        });
        const shielded = backend.openCancelScope({ shield: true, deadline: t1 + 5_000 });
        const bare = backend.openCancelScope({ shield: true });
        await shielded.run(async (s) => {
          assert.equal(backend.currentEffectiveDeadline(), t1 + 5_000);
          await bare.run(() => assert.equal(backend.currentEffectiveDeadline(), Infinity));
          outer.cancel();
          // Shielded: the enclosing cancellation is out of sight.
          assert.equal(backend.currentEffectiveDeadline(), t1 + 5_000);
          await backend.moveOnAfter(Infinity, () => {
            s.shield = false;
            assert.equal(backend.currentEffectiveDeadline(), -Infinity);
            s.shield = true;
          });
        });
        assert.equal(backend.currentEffectiveDeadline(), -Infinity);
      });
      assert.equal(backend.currentEffectiveDeadline(), Infinity);
      // Rescheduled while running: the new deadline is seen at once.
      await backend.moveOnAfter(Infinity, (h) => {
        h.deadline = now + 70_000;
        assert.equal(backend.currentEffectiveDeadline(), now + 70_000);
      });
    });
  });

  test(`${name}: openCancelScope rejects bad options with an error naming the option`, () => {
    const backend = create();
    assert.throws(
      () => backend.openCancelScope({ signal: {} as AbortSignal }),
      errorLike(TypeError, /options\.signal/),
    );
    assert.throws(
      () => backend.openCancelScope({ signal: new AbortController() as unknown as AbortSignal }),
      errorLike(TypeError, /options\.signal/),
    );
    assert.throws(() => backend.openCancelScope({ deadline: NaN }), errorLike(RangeError, /options\.deadline/));
    assert.throws(() => backend.openCancelScope({ deadline: "5" as never }), errorLike(TypeError, /options\.deadline/));
    assert.throws(() => backend.openCancelScope({ shield: 1 as never }), errorLike(TypeError, /options\.shield/));
    assert.throws(() => backend.openCancelScope(null as never), errorLike(TypeError, /'options'/));
    const scope = backend.openCancelScope();
    assert.throws(() => scope.reschedule(NaN), errorLike(RangeError, /deadline/));
    assert.throws(() => (scope.shield = "yes" as never), errorLike(TypeError, /shield/));
  });
}
