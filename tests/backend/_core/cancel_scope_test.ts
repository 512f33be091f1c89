/**
 * Unit tests of cancel scopes (backend/_core/cancel_scope.ts), below the
 * contract suite: the tree, shielding, level-triggered delivery to registered
 * waiters, catches(), deadlines on a fake clock, and the AbortSignal.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CancelledError } from "../../../backend/errors.ts";
import { CallbackWaiter, CancelScope, currentScope } from "../../../backend/_core/cancel_scope.ts";
import { entered, fakeLoop, inScope } from "./_helpers.ts";
import { test } from "../../harness.ts";

/** A waiter that records its abort. */
function recorder(): { waiter: CallbackWaiter; aborts: unknown[] } {
  const aborts: unknown[] = [];
  return { waiter: new CallbackWaiter((error) => aborts.push(error)), aborts };
}

test("cancel scope: the current scope follows run()", async () => {
  const scope = entered();
  assert.equal(currentScope(), undefined);
  await inScope(scope, async () => {
    await null;
    assert.equal(currentScope(), scope);
  });
});

test("cancel scope: cancelling a scope cancels the unshielded scopes inside it, not the outer ones", () => {
  const outer = entered();
  const middle = entered(outer);
  const inner = entered(middle);
  const shielded = new CancelScope(middle, {}, true);
  shielded.enter();
  middle.cancel();
  assert.equal(outer.isCancelled(), false);
  assert.equal(middle.isCancelled(), true);
  assert.equal(inner.isCancelled(), true);
  assert.equal(inner.cancelCalled, false, "inner was not cancelled itself");
  assert.equal(shielded.isCancelled(), false);
  shielded.shield = false;
  assert.equal(shielded.isCancelled(), true);
});

test("cancel scope: a cancellation aborts every waiter of the scope and of unshielded scopes inside, once", () => {
  const outer = entered();
  const inner = entered(outer);
  const shielded = new CancelScope(outer, {}, true);
  shielded.enter();
  const a = recorder();
  const b = recorder();
  const c = recorder();
  outer.addWaiter(a.waiter);
  inner.addWaiter(b.waiter);
  shielded.addWaiter(c.waiter);
  outer.cancel();
  outer.cancel();
  assert.equal(a.aborts.length, 1);
  assert.ok(a.aborts[0] instanceof CancelledError);
  assert.equal(b.aborts.length, 1);
  assert.equal(c.aborts.length, 0);
  assert.equal(a.waiter.waiterScope, null, "unregistered before its abort");
  shielded.shield = false;
  assert.equal(c.aborts.length, 1, "unshielding a cancelled scope delivers");
});

test("cancel scope: a removed waiter is not aborted; a waiter moves when added to another scope", () => {
  const one = entered();
  const two = entered();
  const a = recorder();
  one.addWaiter(a.waiter);
  one.removeWaiter(a.waiter);
  one.cancel();
  assert.equal(a.aborts.length, 0);
  const b = recorder();
  two.addWaiter(b.waiter);
  one.removeWaiter(b.waiter); // Not registered there: nothing happens.
  const three = entered();
  three.addWaiter(b.waiter);
  two.cancel();
  assert.equal(b.aborts.length, 0);
  three.cancel();
  assert.equal(b.aborts.length, 1);
});

test("cancel scope: an abort that unregisters other waiters does not break delivery", () => {
  const scope = entered();
  const late = recorder();
  const first = new CallbackWaiter(() => scope.removeWaiter(late.waiter));
  const third = recorder();
  scope.addWaiter(first);
  scope.addWaiter(late.waiter);
  scope.addWaiter(third.waiter);
  scope.cancel();
  assert.equal(late.aborts.length, 0);
  assert.equal(third.aborts.length, 1);
});

test("cancel scope: nothing is delivered before enter() nor after exit()", () => {
  const parent = entered();
  const scope = new CancelScope(parent);
  const a = recorder();
  scope.addWaiter(a.waiter);
  scope.cancel();
  assert.equal(a.aborts.length, 0, "not entered");
  assert.equal(scope.isCancelled(), true);
  const other = entered(parent);
  const b = recorder();
  other.addWaiter(b.waiter);
  other.exit();
  parent.cancel();
  assert.equal(b.aborts.length, 0, "exited");
});

test("cancel scope: catches() only its own cancellation, and not when a visible outer scope is cancelled too", () => {
  const outer = entered();
  const inner = entered(outer);
  assert.equal(inner.catches(new CancelledError()), false, "not cancelled");
  inner.cancel();
  assert.equal(inner.catches(new Error("x")), false, "not a cancellation");
  assert.equal(inner.catches(new CancelledError()), true);
  assert.equal(inner.cancelledCaught, true);
  const second = entered(outer);
  second.cancel();
  outer.cancel();
  assert.equal(second.catches(new CancelledError()), false, "belongs to the outer scope");
  const shielded = new CancelScope(outer, {}, true);
  shielded.enter();
  shielded.cancel();
  assert.equal(shielded.catches(new CancelledError()), true, "a shield hides the outer cancellation");
});

test("cancel scope: a deadline cancels the scope when its timer fires; reschedule moves it", () => {
  const loop = fakeLoop();
  const scope = new CancelScope(null, {}, false, loop);
  scope.reschedule(100);
  assert.equal(loop.timers.armed(), undefined, "not armed before enter()");
  scope.enter();
  assert.equal(loop.timers.armed()?.at, 100);
  const a = recorder();
  scope.addWaiter(a.waiter);
  scope.deadline = 50;
  assert.equal(scope.when(), 50);
  loop.timers.advance(49);
  assert.equal(scope.cancelCalled, false);
  loop.timers.advance(1);
  assert.equal(scope.cancelCalled, true);
  assert.equal(scope.expired(), true);
  assert.equal(a.aborts.length, 1);
  assert.equal(loop.deadlines.size, 0);
});

test("cancel scope: a deadline already passed cancels at enter(); Infinity disarms; exit() disarms", () => {
  const loop = fakeLoop();
  loop.timers.time = 10;
  const passed = new CancelScope(null, {}, false, loop);
  passed.reschedule(5);
  passed.enter();
  assert.equal(passed.expired(), true);
  const scope = new CancelScope(null, {}, false, loop);
  scope.reschedule(100);
  scope.enter();
  assert.equal(loop.deadlines.size, 1);
  scope.reschedule(Infinity);
  assert.equal(loop.deadlines.size, 0);
  scope.reschedule(200);
  assert.equal(loop.deadlines.size, 1);
  scope.exit();
  assert.equal(loop.deadlines.size, 0);
  assert.throws(() => scope.reschedule(Number.NaN), RangeError);
});

test("cancel scope: isCancelledNow() sees a deadline whose timer has not fired yet", () => {
  const loop = fakeLoop();
  const outer = new CancelScope(null, {}, false, loop);
  outer.reschedule(10);
  outer.enter();
  const inner = new CancelScope(outer);
  inner.enter();
  loop.timers.time = 20; // The clock moved; the timer did not run.
  assert.equal(inner.isCancelled(), false);
  assert.equal(inner.isCancelledNow(), true);
  assert.equal(outer.expired(), true);
  inner.exit();
  outer.exit();
});

test("cancel scope: the signal aborts on cancellation, and is aborted when read after it", () => {
  const scope = entered();
  const signal = scope.signal;
  assert.equal(signal.aborted, false);
  scope.cancel();
  assert.equal(signal.aborted, true);
  assert.ok(signal.reason instanceof CancelledError);
  const parent = entered();
  parent.cancel();
  const child = entered(parent);
  assert.equal(child.signal.aborted, true, "cancelled through its parent");
  assert.throws(() => {
    (child as { shield: unknown }).shield = "yes";
  }, TypeError);
});

test("cancel scope: an error carries the reason of the outermost cancelled scope up to the nearest shield", () => {
  const outer = entered();
  const middle = entered(outer);
  const inner = entered(middle);
  const { waiter, aborts } = recorder();
  inner.addWaiter(waiter);
  inner.cancel("inner");
  middle.cancel("middle");
  assert.equal((aborts[0] as CancelledError).reason, "inner"); // delivered when only inner was cancelled
  assert.equal(inner.cancelledError().reason, "middle"); // middle catches now
  outer.cancel();
  assert.equal(inner.cancelledError().reason, undefined); // outer catches; it gave no reason
  const shielded = new CancelScope(outer, {}, true);
  shielded.enter();
  shielded.cancel("shielded");
  assert.equal(entered(shielded).cancelledError().reason, "shielded");
});

test("cancel scope: the effective deadline is the earliest up to the nearest shield, -Infinity once cancelled", () => {
  const { deadlines, timers } = fakeLoop();
  const root = new CancelScope(null, {}, false, { deadlines, activity: 0 });
  root.enter();
  const a = new CancelScope(root);
  a.reschedule(100);
  a.enter();
  const b = new CancelScope(a);
  b.reschedule(200);
  b.enter();
  assert.equal(b.effectiveDeadline(), 100);
  const shielded = new CancelScope(b, undefined, true);
  shielded.reschedule(300);
  shielded.enter();
  assert.equal(shielded.effectiveDeadline(), 300);
  assert.equal(entered(shielded).effectiveDeadline(), 300);
  timers.advance(100); // a's deadline fires
  assert.equal(b.effectiveDeadline(), -Infinity);
  assert.equal(shielded.effectiveDeadline(), 300);
});

test("cancel scope: a scope made without a parent is cancelled, rescheduled and read before bind() and enter()", () => {
  const { deadlines } = fakeLoop();
  const root = new CancelScope(null, {}, false, { deadlines, activity: 0 });
  root.enter();
  const standalone = new CancelScope(null, null, false, null);
  const signal = standalone.signal;
  standalone.reschedule(50);
  assert.equal(deadlines.size, 0, "no deadline is queued before entry");
  standalone.bind(root);
  assert.equal(standalone.parent, root);
  assert.equal(standalone.task, root.task);
  assert.equal(standalone.loop, root.loop);
  standalone.enter();
  assert.equal(deadlines.size, 1);
  standalone.cancel("stop");
  assert.equal(signal.aborted, true);
  assert.equal(signal.reason.reason, "stop");
  assert.equal(deadlines.size, 0);
  standalone.exit();
});
