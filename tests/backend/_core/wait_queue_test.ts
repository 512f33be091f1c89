/**
 * Unit tests of the wait queue (backend/_core/wait_queue.ts) and of the
 * primitives on it (LockCore, EventCore, ConditionCore): FIFO order,
 * cancellation removing a waiter, the lock hand-off racing a cancellation in
 * the same tick, close wake-ups. Scopes are made by hand; no runner, no timer.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CancelledError } from "../../../backend/errors.ts";
import { CancelScope } from "../../../backend/_core/cancel_scope.ts";
import { WaitQueue } from "../../../backend/_core/wait_queue.ts";
import { LockCore } from "../../../backend/_core/lock.ts";
import { EventCore } from "../../../backend/_core/event.ts";
import { ConditionCore } from "../../../backend/_core/condition.ts";
import { entered, flush, inScope, probe } from "./_helpers.ts";
import { test } from "../../harness.ts";

test("wait queue: unpark(n) wakes the oldest waiters first, with the value", async () => {
  const queue = new WaitQueue<string>();
  const order: string[] = [];
  const waits = ["a", "b", "c", "d"].map((name) => queue.park(undefined).then((v) => order.push(`${name}:${v}`)));
  assert.equal(queue.size, 4);
  assert.deepEqual(queue.statistics(), { tasksWaiting: 4 });
  assert.equal(queue.unpark(2, "x"), 2);
  assert.equal(queue.size, 2);
  assert.equal(queue.unpark(5, "y"), 2);
  assert.equal(queue.unpark(1, "z"), 0);
  await Promise.all(waits);
  assert.deepEqual(order, ["a:x", "b:x", "c:y", "d:y"]);
});

test("wait queue: unpark() without arguments wakes one", async () => {
  const queue = new WaitQueue();
  const a = probe(queue.park());
  const b = probe(queue.park());
  assert.equal(queue.unpark(), 1);
  await flush();
  assert.equal(a.settled, true);
  assert.equal(b.settled, false);
  queue.unparkAll();
  await flush();
  assert.equal(b.settled, true);
});

test("wait queue: parking in a cancelled scope rejects at once and queues nothing", async () => {
  const queue = new WaitQueue();
  const scope = entered();
  scope.cancel();
  await assert.rejects(inScope(scope, () => queue.park()), CancelledError);
  assert.equal(queue.size, 0);
});

test("wait queue: a cancelled waiter leaves the queue and is never woken", async () => {
  const queue = new WaitQueue<number>();
  const scopes = [entered(), entered(), entered()];
  const probes = scopes.map((scope) => probe(inScope(scope, () => queue.park(undefined))));
  scopes[1].cancel();
  assert.equal(queue.size, 2);
  assert.equal(queue.unpark(2, 7), 2);
  await flush();
  assert.equal(probes[0].value, 7);
  assert.ok(probes[1].error instanceof CancelledError);
  assert.equal(probes[2].value, 7);
});

test("wait queue: a waiter woken then cancelled in the same tick stays woken", async () => {
  const queue = new WaitQueue<string>();
  const scope = entered();
  const p = probe(inScope(scope, () => queue.park(undefined)));
  queue.unpark(1, "given");
  scope.cancel();
  await flush();
  assert.equal(p.value, "given");
  assert.equal(p.error, undefined);
});

test("wait queue: the cancellation of an enclosing scope reaches a parked waiter; a shield keeps it out", async () => {
  const queue = new WaitQueue();
  const outer = entered();
  const inner = entered(outer);
  const shielded = new CancelScope(outer, {}, true);
  shielded.enter();
  const a = probe(inScope(inner, () => queue.park()));
  const b = probe(inScope(shielded, () => queue.park()));
  outer.cancel();
  await flush();
  assert.ok(a.error instanceof CancelledError);
  assert.equal(b.settled, false);
  assert.equal(queue.size, 1);
  shielded.shield = false;
  await flush();
  assert.ok(b.error instanceof CancelledError);
  assert.equal(queue.size, 0);
});

test("wait queue: unparkAll wakes those parked before it, not those parked by their wake-up", async () => {
  const queue = new WaitQueue();
  let late: Promise<void> | undefined;
  const first = queue.park().then(() => {
    late = queue.park();
  });
  const second = probe(queue.park());
  assert.equal(queue.unparkAll(), 2);
  await first;
  await flush();
  assert.equal(second.settled, true);
  assert.equal(queue.size, 1);
  queue.unparkAll();
  await late;
});

test("wait queue: abortAll rejects every waiter with the error (close wake-ups)", async () => {
  const queue = new WaitQueue();
  const scope = entered();
  const error = new Error("closed");
  const a = probe(queue.park());
  const b = probe(inScope(scope, () => queue.park()));
  assert.equal(queue.abortAll(error), 2);
  assert.equal(queue.size, 0);
  scope.cancel(); // b already left its scope: nothing more happens.
  await flush();
  assert.equal(a.error, error);
  assert.equal(b.error, error);
});

test("wait queue: parkUncancellable ignores its scope's cancellation", async () => {
  const queue = new WaitQueue<number>();
  const scope = entered();
  scope.cancel();
  const p = probe(inScope(scope, () => queue.parkUncancellable(undefined)));
  await flush();
  assert.equal(p.settled, false);
  queue.unpark(1, 3);
  await flush();
  assert.equal(p.value, 3);
});

test("wait queue: peek, shift, remove and iteration keep FIFO order with data", async () => {
  const queue = new WaitQueue<number, string>();
  const waits = ["a", "b", "c", "d"].map((name) => queue.park(name));
  assert.deepEqual([...queue].map((node) => node.data), ["a", "b", "c", "d"]);
  assert.equal(queue.peek()?.data, "a");
  const c = [...queue][2];
  queue.remove(c);
  queue.remove(c); // Not queued any more: nothing happens.
  assert.deepEqual([...queue].map((node) => node.data), ["a", "b", "d"]);
  const head = queue.shift()!;
  assert.equal(head.data, "a");
  assert.equal(head.pending, true);
  head.wake(1);
  head.wake(2); // Woken once only.
  assert.equal(head.pending, false);
  assert.equal(await waits[0], 1);
  c.fail(new Error("gone"));
  await assert.rejects(waits[2], /gone/);
  queue.unparkAll(0);
  assert.deepEqual(await Promise.all([waits[1], waits[3]]), [0, 0]);
  assert.equal(queue.shift(), null);
  assert.equal(queue.peek(), null);
});

test("wait queue: 20k waiters cancelled in any order leave it in O(1) each", async () => {
  const queue = new WaitQueue();
  const n = 20_000;
  const scopes = Array.from({ length: n }, () => entered());
  const waits = scopes.map((scope) => inScope(scope, () => queue.park()).catch((e) => e));
  // Every other one from the back, then the rest from the front.
  for (let i = n - 1; i >= 0; i -= 2) scopes[i].cancel();
  assert.equal(queue.size, n / 2);
  assert.equal(queue.unpark(n), n / 2);
  const results = await Promise.all(waits);
  assert.equal(results.filter((r) => r instanceof CancelledError).length, n / 2);
});

// ---- The primitives on the queue ----

test("lock: hand-off is FIFO to the waiters in the order they came", async () => {
  const lock = new LockCore();
  const holder = entered();
  const guard = await inScope(holder, () => lock.acquire());
  const order: number[] = [];
  const waits = [0, 1, 2].map((i) => {
    const scope = entered();
    return inScope(scope, async () => {
      using _ = await lock.acquire();
      order.push(i);
    });
  });
  assert.equal(lock.waiting, 3);
  inScope(holder, () => guard[Symbol.dispose]());
  await Promise.all(waits);
  assert.deepEqual(order, [0, 1, 2]);
  assert.equal(lock.locked(), false);
});

test("lock: a cancelled acquire takes no lock; the hand-off goes to the next waiter", async () => {
  const lock = new LockCore();
  const holder = entered();
  await inScope(holder, () => lock.acquire());
  const a = entered();
  const b = entered();
  const pa = probe(inScope(a, () => lock.acquire()));
  const pb = probe(inScope(b, () => lock.acquire()));
  // Cancelled and released in the same tick, the cancellation first.
  a.cancel();
  inScope(holder, () => lock.release());
  await flush();
  assert.ok(pa.error instanceof CancelledError);
  assert.ok(pb.value !== undefined);
  assert.equal(lock.locked(), true);
  assert.equal(lock.waiting, 0);
  inScope(b, () => pb.value![Symbol.dispose]());
  assert.equal(lock.locked(), false);
});

test("lock: a hand-off followed by the waiter's cancellation in the same tick is kept, never lost", async () => {
  const lock = new LockCore();
  const holder = entered();
  await inScope(holder, () => lock.acquire());
  const a = entered();
  const b = entered();
  const pa = probe(inScope(a, () => lock.acquire()));
  const pb = probe(inScope(b, () => lock.acquire()));
  inScope(holder, () => lock.release());
  a.cancel();
  await flush();
  // `a` got the lock before its cancellation: it holds it and its next checkpoint raises.
  assert.ok(pa.value !== undefined);
  assert.equal(pb.settled, false);
  inScope(a, () => pa.value![Symbol.dispose]());
  await flush();
  assert.ok(pb.value !== undefined);
  inScope(b, () => lock.release());
  assert.equal(lock.locked(), false);
});

test("lock: every waiter cancelled: the release leaves the lock free", async () => {
  const lock = new LockCore();
  const holder = entered();
  await inScope(holder, () => lock.acquire());
  const scopes = [entered(), entered()];
  const waits = scopes.map((scope) => inScope(scope, () => lock.acquire()));
  for (const scope of scopes) scope.cancel();
  for (const wait of waits) await assert.rejects(wait, CancelledError);
  inScope(holder, () => lock.release());
  assert.equal(lock.locked(), false);
  const next = entered();
  const guard = await inScope(next, () => lock.acquire());
  assert.equal(lock.locked(), true);
  inScope(next, () => guard[Symbol.dispose]());
});

test("event: set() wakes every waiter; a cancelled one left before", async () => {
  const event = new EventCore();
  const a = entered();
  const pa = probe(inScope(a, () => event.wait()));
  const pb = probe(event.wait());
  a.cancel();
  event.set();
  await flush();
  assert.ok(pa.error instanceof CancelledError);
  assert.equal(pb.settled, true);
  assert.equal(pb.error, undefined);
  await event.wait();
});

test("condition: notify(n) wakes n in FIFO order; a cancelled wait reacquires the lock before it raises", async () => {
  const cond = new ConditionCore();
  const order: number[] = [];
  const scopes = [entered(), entered(), entered()];
  const waits = scopes.map((scope, i) =>
    inScope(scope, async () => {
      await cond.acquire();
      try {
        await cond.wait();
        order.push(i);
      } finally {
        assert.equal(cond.locked(), true);
        cond.release();
      }
    })
  );
  await flush();
  const notifier = entered();
  await inScope(notifier, async () => {
    await cond.acquire();
    scopes[0].cancel();
    cond.notify(2);
    cond.release();
  });
  const results = await Promise.allSettled(waits);
  assert.ok(results[0].status === "rejected" && results[0].reason instanceof CancelledError);
  assert.deepEqual(order, [1, 2]);
  assert.equal(cond.locked(), false);
});
