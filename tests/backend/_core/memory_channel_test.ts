/**
 * Unit tests of the memory channel (backend/_core/memory_channel.ts) on a fake
 * clock and a recording scheduler: the yield once a millisecond, the order in
 * which a woken waiter resumes, and hand-offs racing a cancellation in the same
 * tick. Scopes are made by hand; no runner, no timer.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CancelledError } from "../../../backend/errors.ts";
import { createMemoryChannel } from "../../../backend/_core/memory_channel.ts";
import { entered, flush, inScope, probe } from "./_helpers.ts";
import { test } from "../../harness.ts";

/** A clock the test moves, and a scheduler that only records. */
function fakeLoop(): { now: () => number; schedule: (cb: () => void) => void; time: number; queued: (() => void)[] } {
  const loop = {
    time: 0,
    queued: [] as (() => void)[],
    now: () => loop.time,
    schedule: (cb: () => void) => void loop.queued.push(cb),
  };
  return loop;
}

test("memory channel: ready calls yield once a millisecond, checking the clock once in 64 calls", async () => {
  const loop = fakeLoop();
  const [send, receive] = createMemoryChannel<number>(Infinity, loop.schedule, loop.now);
  // The clock does not move: no call yields.
  for (let i = 0; i < 500; i++) void send.send(i);
  await flush();
  assert.equal(loop.queued.length, 0);
  assert.equal(send.statistics().currentBufferUsed, 500);
  // A millisecond later, a call within the next 64 yields before it sends.
  loop.time = 1;
  let calls = 0;
  let pending: ReturnType<typeof probe<void>> | undefined;
  while (loop.queued.length === 0) {
    assert.ok(++calls <= 64, "no yield within 64 calls");
    pending = probe(send.send(1000));
  }
  await flush();
  assert.equal(pending!.settled, false, "the call waits for its yield");
  assert.equal(send.statistics().currentBufferUsed, 500 + calls - 1);
  loop.queued.shift()!();
  await flush();
  assert.equal(pending!.settled, true);
  assert.equal(send.statistics().currentBufferUsed, 500 + calls);
  // Receives count too, and the next yield is a millisecond after this one.
  for (let i = 0; i < 200; i++) receive.receiveNowait();
  for (let i = 0; i < 200; i++) void receive.receive();
  await flush();
  assert.equal(loop.queued.length, 0);
});

test("memory channel: on a buffered channel the waker resumes before the woken; a rendezvous wakes at once", async () => {
  for (const [size, expected] of [[1, ["waker", "woken"]], [0, ["woken", "waker"]]] as const) {
    const loop = fakeLoop();
    const [send, receive] = createMemoryChannel<string>(size, loop.schedule, loop.now);
    const order: string[] = [];
    const woken = receive.receive().then((item) => {
      order.push("woken");
      return item;
    });
    await flush();
    assert.equal(receive.statistics().tasksWaitingReceive, 1);
    send.sendNowait("x");
    assert.equal(receive.statistics().tasksWaitingReceive, 0, "the receiver left the queue at once");
    void Promise.resolve().then(() => order.push("waker"));
    assert.equal(await woken, "x");
    await flush();
    assert.deepEqual(order, expected, `buffer ${size}`);
  }
});

test("memory channel: a hand-off before the cancellation wins; a cancellation before it moves nothing", async () => {
  for (const size of [0, 1]) {
    const loop = fakeLoop();
    const [send, receive] = createMemoryChannel<string>(size, loop.schedule, loop.now);
    // Handed, then cancelled in the same tick: the receiver gets the item.
    const scope = entered();
    const got = probe(inScope(scope, () => receive.receive()));
    send.sendNowait("kept");
    scope.cancel();
    await flush();
    assert.equal(got.value, "kept", `buffer ${size}`);
    // Cancelled, then sent: the item waits for the next receiver.
    const scope2 = entered();
    const lost = probe(inScope(scope2, () => receive.receive()));
    scope2.cancel();
    await flush();
    assert.ok(lost.error instanceof CancelledError);
    assert.equal(receive.statistics().tasksWaitingReceive, 0);
    if (size === 0) {
      // A rendezvous cannot take it without a receiver: a waiting sender's turn.
      const scope3 = entered();
      const sent = probe(inScope(scope3, () => send.send("taken")));
      assert.equal(receive.receiveNowait(), "taken");
      scope3.cancel();
      await flush();
      assert.equal(sent.settled, true);
      assert.equal(sent.error, undefined, "the send completed");
    } else {
      send.sendNowait("buffered");
      assert.equal(receive.receiveNowait(), "buffered");
    }
  }
});
