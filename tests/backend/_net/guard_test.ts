/**
 * Unit tests of the busy/closed guard of the socket adapters
 * (backend/_net/guard.ts): one receiver and one sender, every call after close
 * failing, close wake-ups on the guard's wait queue, and cancellation.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BusyResourceError, CancelledError, ClosedResourceError } from "../../../backend/errors.ts";
import { checkpoint, type GuardCall, ResourceGuard, type SocketSlot } from "../../../backend/_net/guard.ts";
import { entered, flush, inScope, probe } from "../_core/_helpers.ts";
import { test } from "../../harness.ts";

/** An adapter call as the adapters write it: take the slot, wait, give the slot back however it ends. */
async function guardedCall<T>(guard: ResourceGuard, slot: SocketSlot, start: (call: GuardCall<T>) => void): Promise<T> {
  guard.acquire(slot);
  try {
    return await guard.wait<T>(start);
  } finally {
    guard.release(slot);
  }
}

test("guard: one receiver and one sender at a time; a released slot can be taken again", () => {
  const guard = new ResourceGuard("socket");
  guard.acquire("recv");
  assert.throws(() => guard.acquire("recv"), BusyResourceError);
  guard.acquire("send"); // the other slot is free
  assert.throws(() => guard.acquire("send"), (error: Error) => {
    assert.ok(error instanceof BusyResourceError);
    assert.match(error.message, /already sending on this socket/);
    return true;
  });
  guard.release("recv");
  guard.acquire("recv");
  guard.releaseRecv(); // the pre-bound hooks give the slots back too
  guard.releaseSend();
  guard.acquire("recv");
  guard.acquire("send");
});

test("guard: after close() every call fails with ClosedResourceError naming the resource", async () => {
  const guard = new ResourceGuard("listener");
  assert.equal(guard.closing, false);
  guard.checkOpen();
  assert.equal(guard.close(), true);
  assert.equal(guard.close(), false); // once only
  assert.equal(guard.closing, true);
  assert.throws(() => guard.checkOpen(), ClosedResourceError);
  assert.throws(() => guard.acquire("recv"), /The listener is closed/);
  assert.throws(() => guard.acquire("send"), ClosedResourceError);
  let started = false;
  await assert.rejects(guard.wait(() => void (started = true)), ClosedResourceError);
  assert.equal(started, false);
  assert.equal(guard.waiting, 0);
});

test("guard: a waiting call resolves or rejects with its operation's result, synchronous or later", async () => {
  const guard = new ResourceGuard();
  assert.equal(await guard.wait<number>((call) => call.wake(1)), 1);
  let later!: GuardCall<string>;
  const p = probe(guard.wait<string>((call) => void (later = call)));
  assert.equal(guard.waiting, 1);
  await flush();
  assert.equal(p.settled, false);
  later.wake("done");
  later.wake("twice"); // once only
  later.fail(new Error("ignored"));
  await flush();
  assert.equal(p.value, "done");
  assert.equal(guard.waiting, 0);
  const failure = new Error("EPIPE");
  await assert.rejects(
    guard.wait<void>((call) => setTimeout(() => call.fail(failure), 1)),
    (error) => error === failure,
  );
  // What start throws rejects the call, which leaves the queue.
  await assert.rejects(
    guard.wait<void>(() => {
      throw new RangeError("bad");
    }),
    RangeError,
  );
  assert.equal(guard.waiting, 0);
});

test("guard: close() wakes every waiting call with ClosedResourceError; their operations' results are dropped", async () => {
  const guard = new ResourceGuard("socket");
  const calls: GuardCall<void>[] = [];
  const recv = probe(guardedCall<void>(guard, "recv", (call) => void calls.push(call)));
  const send = probe(guardedCall<void>(guard, "send", (call) => void calls.push(call)));
  assert.equal(guard.waiting, 2);
  guard.close();
  assert.equal(guard.waiting, 0);
  for (const call of calls) {
    assert.equal(call.pending, false);
    call.wake(); // the operation ends after close: nothing happens
  }
  await flush();
  assert.ok(recv.error instanceof ClosedResourceError);
  assert.ok(send.error instanceof ClosedResourceError);
  assert.match((send.error as Error).message, /The socket is closed/);
});

test("guard: a call in a cancelled scope rejects with CancelledError at once and starts nothing", async () => {
  const guard = new ResourceGuard();
  const scope = entered();
  scope.cancel();
  let started = false;
  await assert.rejects(inScope(scope, () => guardedCall(guard, "send", () => void (started = true))), CancelledError);
  assert.equal(started, false);
  assert.equal(guard.waiting, 0);
  guard.acquire("send"); // the slot was given back
  await assert.rejects(inScope(scope, () => checkpoint()), CancelledError);
  await checkpoint();
});

test("guard: a cancelled call leaves the queue, frees its slot and ignores its operation's result", async () => {
  const guard = new ResourceGuard();
  const scope = entered();
  let first!: GuardCall<number>;
  const p = probe(inScope(scope, () => guardedCall<number>(guard, "send", (call) => void (first = call))));
  assert.equal(guard.waiting, 1);
  scope.cancel();
  assert.equal(guard.waiting, 0);
  await flush();
  assert.ok(p.error instanceof CancelledError);
  // The next sender gets the slot, and the cancelled call's late result does not reach it.
  let second!: GuardCall<number>;
  const q = probe(guardedCall<number>(guard, "send", (call) => void (second = call)));
  first.wake(1);
  await flush();
  assert.equal(q.settled, false);
  second.wake(2);
  await flush();
  assert.equal(q.value, 2);
  // Closing afterwards wakes nothing that was cancelled.
  guard.close();
  assert.equal(guard.waiting, 0);
});

test("guard: a call woken then cancelled in the same tick keeps its result (nothing lost)", async () => {
  const guard = new ResourceGuard();
  const scope = entered();
  let pending!: GuardCall<string>;
  const p = probe(inScope(scope, () => guard.wait<string>((call) => void (pending = call))));
  pending.wake("sent");
  scope.cancel();
  guard.close();
  await flush();
  assert.equal(p.value, "sent");
  assert.equal(p.error, undefined);
});

test("guard: the release hooks are made once (the same function each time); close without a parked call", () => {
  // The hooks and the wait queue are made on first use (an idle socket holds none): each call must still
  // get the same hook, and close() must work before any call parked.
  const guard = new ResourceGuard("socket");
  assert.equal(guard.waiting, 0);
  assert.equal(guard.releaseRecv, guard.releaseRecv);
  assert.equal(guard.releaseSend, guard.releaseSend);
  assert.notEqual(guard.releaseRecv, guard.releaseSend);
  guard.acquire("recv");
  guard.releaseRecv();
  guard.acquire("recv");
  assert.equal(guard.close(), true);
  assert.equal(guard.waiting, 0);
  assert.throws(() => guard.acquire("send"), ClosedResourceError);
});
