/**
 * Contract tests: memory channels (buffering, rendezvous, backpressure, nowait
 * calls, bad input, cancellation, async iteration). Close and clone semantics
 * are in `core_channels_close.ts`, the stress test in `core_channels_stress.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { TimeoutHandle } from "../../backend/abc/cancel_scope.ts";
import { CancelledError, ClosedResourceError, EndOfChannel, WouldBlock } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { errorOf, joinSoon } from "./core_channels_close.ts";
import { errorLike, Slot, yieldTimes, yieldUntil } from "./core_util.ts";

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: createMemoryChannel rejects a bad maxBufferSize with an error naming it`, () => {
    const backend = create();
    for (const bad of ["2", null, undefined, 1n, {}]) {
      assert.throws(
        () => backend.createMemoryChannel(bad as unknown as number),
        errorLike(TypeError, /'maxBufferSize'.*must be a number/),
      );
    }
    for (const bad of [-1, NaN, 1.5, -Infinity, -0.5]) {
      assert.throws(
        () => backend.createMemoryChannel(bad),
        errorLike(RangeError, /'maxBufferSize'.*non-negative integer or Infinity/),
      );
    }
    for (const good of [0, 1, 64, Infinity]) {
      const [send, receive] = backend.createMemoryChannel(good);
      assert.equal(send.statistics().maxBufferSize, good);
      assert.equal(receive.statistics().maxBufferSize, good);
    }
  });

  test(`${name}: channel with a buffer of 2: nowait calls, WouldBlock, FIFO, statistics`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const [send, receive] = backend.createMemoryChannel<number | string>(2);
      assert.deepEqual(send.statistics(), {
        currentBufferUsed: 0,
        maxBufferSize: 2,
        openSendChannels: 1,
        openReceiveChannels: 1,
        tasksWaitingSend: 0,
        tasksWaitingReceive: 0,
      });
      send.sendNowait(1);
      await send.send("two");
      assert.throws(() => send.sendNowait(3), errorLike(WouldBlock, /full/));
      assert.equal(receive.statistics().currentBufferUsed, 2);
      assert.equal(await receive.receive(), 1);
      assert.equal(receive.receiveNowait(), "two");
      assert.throws(() => receive.receiveNowait(), errorLike(WouldBlock, /empty/));
      assert.equal(receive.statistics().currentBufferUsed, 0);
    });
  });

  test(`${name}: channel backpressure: a sender waits while the buffer is full, in send order`, async () => {
    const backend = create();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const [send, receive] = backend.createMemoryChannel<number>(2);
        let sent = 0;
        tg.startSoon(async () => {
          for (let i = 0; i < 5; i++) {
            await send.send(i);
            sent++;
          }
          send.close();
        });
        await yieldUntil(backend, () => send.statistics().tasksWaitingSend === 1, "the sender to wait");
        await yieldTimes(backend, 3);
        assert.equal(sent, 2);
        assert.equal(receive.statistics().currentBufferUsed, 2);
        // Taking one lets the waiting sender's item in behind the buffer.
        assert.equal(receive.receiveNowait(), 0);
        assert.equal(receive.statistics().currentBufferUsed, 2);
        assert.equal(receive.statistics().tasksWaitingSend, 0);
        await yieldUntil(backend, () => sent === 3, "the sender to go on");
        const rest: number[] = [];
        for await (const item of receive) rest.push(item);
        assert.deepEqual(rest, [1, 2, 3, 4]);
        assert.equal(sent, 5);
      })
    );
  });

  test(`${name}: rendezvous channel: a send completes only when a receiver took the item`, async () => {
    const backend = create();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const [send, receive] = backend.createMemoryChannel<string>(0);
        assert.throws(() => send.sendNowait("x"), WouldBlock);
        let done = false;
        tg.startSoon(async () => {
          await send.send("a");
          done = true;
        });
        await yieldUntil(backend, () => send.statistics().tasksWaitingSend === 1, "the sender to wait");
        await yieldTimes(backend, 3);
        assert.equal(done, false);
        assert.equal(receive.statistics().currentBufferUsed, 0);
        assert.equal(await receive.receive(), "a");
        await yieldUntil(backend, () => done, "the send to complete");
        // A waiting receiver takes a nowait send at once.
        const got = tg.startSoon(() => receive.receive());
        await yieldUntil(backend, () => receive.statistics().tasksWaitingReceive === 1, "the receiver to wait");
        send.sendNowait("b");
        assert.equal(receive.statistics().tasksWaitingReceive, 0);
        assert.equal(await joinSoon(backend, got), "b");
        // receiveNowait takes a waiting sender's item and completes its send.
        const sender = tg.startSoon(() => send.send("c"));
        await yieldUntil(backend, () => send.statistics().tasksWaitingSend === 1, "the sender to wait");
        assert.equal(receive.receiveNowait(), "c");
        await joinSoon(backend, sender);
        assert.throws(() => receive.receiveNowait(), WouldBlock);
      })
    );
  });

  test(`${name}: channel with an Infinity buffer never blocks a sender`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const [send, receive] = backend.createMemoryChannel<number>(Infinity);
      for (let i = 0; i < 5000; i++) send.sendNowait(i);
      for (let i = 5000; i < 10_000; i++) await send.send(i);
      assert.equal(send.statistics().currentBufferUsed, 10_000);
      send.close();
      let expected = 0;
      for await (const item of receive) assert.equal(item, expected++);
      assert.equal(expected, 10_000);
    });
  });

  test(`${name}: channel waiters are served first in, first out, senders and receivers`, async () => {
    const backend = create();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const [send, receive] = backend.createMemoryChannel<number>(0);
        const got: string[] = [];
        for (let id = 0; id < 3; id++) {
          tg.startSoon(async () => got.push(`r${id}:${await receive.receive()}`));
          await yieldUntil(backend, () => receive.statistics().tasksWaitingReceive === id + 1, `r${id} to wait`);
        }
        for (let i = 0; i < 3; i++) await send.send(i);
        await yieldUntil(backend, () => got.length === 3, "every receiver");
        assert.deepEqual(got, ["r0:0", "r1:1", "r2:2"]);
        for (let i = 10; i < 13; i++) {
          tg.startSoon(() => send.send(i));
          await yieldUntil(backend, () => send.statistics().tasksWaitingSend === i - 9, `sender ${i} to wait`);
        }
        assert.deepEqual([await receive.receive(), receive.receiveNowait(), await receive.receive()], [10, 11, 12]);
      })
    );
  });

  test(`${name}: channel: no barging: an item handed to a waiting receiver, or room freed for a waiting sender, is theirs`, async () => {
    const backend = create();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const [send, receive] = backend.createMemoryChannel<number>(1);
        // Nobody waits: the sender may take its own item back.
        send.sendNowait(1);
        assert.equal(receive.receiveNowait(), 1);
        // A receiver waits: the item is its, even before it resumes.
        const waiting = tg.startSoon(() => receive.receive());
        await yieldUntil(backend, () => receive.statistics().tasksWaitingReceive === 1, "the receiver to wait");
        send.sendNowait(2);
        assert.throws(() => receive.receiveNowait(), WouldBlock);
        assert.equal(await joinSoon(backend, waiting), 2);
        // A sender waits on a full buffer: the room a receive frees is its.
        send.sendNowait(3);
        const sender = tg.startSoon(() => send.send(4));
        await yieldUntil(backend, () => send.statistics().tasksWaitingSend === 1, "the sender to wait");
        assert.equal(receive.receiveNowait(), 3);
        assert.throws(() => send.sendNowait(5), WouldBlock);
        await joinSoon(backend, sender);
        assert.equal(receive.receiveNowait(), 4);
      })
    );
  });

  test(`${name}: channel calls are checkpoints even when ready; a cancelled one moves nothing`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const [send, receive] = backend.createMemoryChannel<number>(4);
      send.sendNowait(1);
      const result = await backend.moveOnAfter(Infinity, async (h) => {
        h.cancel();
        await assert.rejects(receive.receive(), CancelledError);
        await assert.rejects(send.send(2), CancelledError);
        // The nowait calls are not checkpoints: they work in a cancelled scope.
        send.sendNowait(3);
        // The cancellation comes first, before the channel's own errors (as in Trio).
        const [ended, endedReceive] = backend.createMemoryChannel<number>(0);
        ended.close();
        await assert.rejects(endedReceive.receive(), CancelledError);
        assert.throws(() => endedReceive.receiveNowait(), EndOfChannel);
        endedReceive.close();
        await assert.rejects(endedReceive.receive(), CancelledError);
        return "body done";
      });
      assert.equal(result, "body done");
      assert.equal(receive.receiveNowait(), 1);
      assert.equal(receive.receiveNowait(), 3);
      assert.throws(() => receive.receiveNowait(), WouldBlock);
    });
  });

  test(`${name}: channel: a cancelled waiting send enqueues nothing, a cancelled receive loses nothing`, async () => {
    const backend = create();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        for (const size of [0, 1]) {
          const [send, receive] = backend.createMemoryChannel<string>(size);
          if (size === 1) send.sendNowait("first");
          const scope = new Slot<TimeoutHandle>();
          const sender = tg.startSoon(() =>
            backend.moveOnAfter(Infinity, async (h) => {
              scope.set(h);
              await send.send("cancelled");
              return "sent";
            })
          );
          await yieldUntil(backend, () => send.statistics().tasksWaitingSend === 1, "the sender to wait");
          scope.get().cancel();
          assert.equal(await joinSoon(backend, sender), undefined);
          assert.equal(send.statistics().tasksWaitingSend, 0);
          assert.equal(send.statistics().currentBufferUsed, size);
          if (size === 1) assert.equal(receive.receiveNowait(), "first");
          assert.throws(() => receive.receiveNowait(), WouldBlock);
        }
        // Two receivers wait; the first is cancelled; the item goes to the second.
        const [send, receive] = backend.createMemoryChannel<string>(0);
        const scope = new Slot<TimeoutHandle>();
        const first = tg.startSoon(() =>
          backend.moveOnAfter(Infinity, (h) => {
            scope.set(h);
            return receive.receive();
          })
        );
        await yieldUntil(backend, () => receive.statistics().tasksWaitingReceive === 1, "the first receiver");
        const second = tg.startSoon(() => receive.receive());
        await yieldUntil(backend, () => receive.statistics().tasksWaitingReceive === 2, "the second receiver");
        scope.get().cancel();
        assert.equal(await joinSoon(backend, first), undefined);
        send.sendNowait("item");
        assert.equal(await joinSoon(backend, second), "item");
      })
    );
  });

  test(`${name}: channel: a hand-off before the cancellation wins: the send completes, the receive gets the item`, async () => {
    const backend = create();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const [send, receive] = backend.createMemoryChannel<string>(0);
        const steps: string[] = [];
        const scope = new Slot<TimeoutHandle>();
        const sender = tg.startSoon(() =>
          backend.moveOnAfter(Infinity, async (h) => {
            scope.set(h);
            await send.send("x");
            steps.push("send completed");
            await backend.coroYield(); // the next checkpoint sees the cancellation
            steps.push("not reached");
          })
        );
        await yieldUntil(backend, () => send.statistics().tasksWaitingSend === 1, "the sender to wait");
        // In one tick: the item is taken, then the sender's scope is cancelled.
        assert.equal(receive.receiveNowait(), "x");
        scope.get().cancel();
        await joinSoon(backend, sender);
        assert.ok(scope.get().cancelledCaught);
        assert.deepEqual(steps, ["send completed"]);

        const receiver = tg.startSoon(() =>
          backend.moveOnAfter(Infinity, async (h) => {
            scope.set(h);
            const item = await receive.receive();
            steps.push(`received ${item}`);
            await backend.coroYield();
          })
        );
        await yieldUntil(backend, () => receive.statistics().tasksWaitingReceive === 1, "the receiver to wait");
        send.sendNowait("y");
        scope.get().cancel();
        await joinSoon(backend, receiver);
        assert.deepEqual(steps, ["send completed", "received y"]);
      })
    );
  });

  test(`${name}: channel for-await ends on EndOfChannel; break leaves the end open; other errors propagate`, async () => {
    const backend = create();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const [send, receive] = backend.createMemoryChannel<number>(Infinity);
        for (let i = 0; i < 4; i++) send.sendNowait(i);
        const seen: number[] = [];
        for await (const item of receive) {
          seen.push(item);
          if (item === 1) break;
        }
        assert.equal(receive.statistics().openReceiveChannels, 1);
        send.close();
        for await (const item of receive) seen.push(item);
        assert.deepEqual(seen, [0, 1, 2, 3]);

        const [send2, receive2] = backend.createMemoryChannel<number>(0);
        const loop = tg.startSoon(() =>
          errorOf((async () => {
            for await (const _ of receive2) assert.fail("no item was sent");
          })())
        );
        await yieldUntil(backend, () => receive2.statistics().tasksWaitingReceive === 1, "the loop to wait");
        receive2.close();
        assert.ok(await joinSoon(backend, loop) instanceof ClosedResourceError);
        send2.close();
      })
    );
  });

  test(`${name}: channel ready calls yield to the loop at least once a millisecond`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const [send, receive] = backend.createMemoryChannel<number>(Infinity);
      let rounds = 0;
      // Only channel calls in the loop: a timer (the deadline) must still fire.
      const result = await backend.moveOnAfter(5, async () => {
        for (; rounds < 20_000_000; rounds++) {
          await send.send(rounds);
          await receive.receive();
        }
        return "starved";
      });
      assert.equal(result, undefined, `the deadline never fired in ${rounds} rounds`);
    });
  });
}
