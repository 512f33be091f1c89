/**
 * Contract tests: memory channels, closing and cloning (EndOfChannel,
 * BrokenResourceError, ClosedResourceError, disposal).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { Task } from "../../backend/abc/tasks.ts";
import { BrokenResourceError, ClosedResourceError, EndOfChannel } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { type ErrorClass, errorLike, yieldTimes, yieldUntil } from "./core_util.ts";

/** Settles `promise` to its error (a task whose failure is expected must not fail its group). */
export async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return assert.fail("expected a rejection");
}

/** Joins `task`, failing (instead of hanging) if it does not end within a bounded number of yields. */
export async function joinSoon<T>(backend: AsyncBackend, task: Task<T>): Promise<T> {
  await yieldUntil(backend, () => task.done(), "the task to end", 1_000);
  return await task.join();
}

/** A validator for `assert.throws`: `error` is a `cls`, its message matches `message`. */
function isA(error: unknown, cls: ErrorClass, message = /./): void {
  errorLike(cls, message)(error);
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: channel: closing the last send end ends the channel after the buffer drains`, async () => {
    const backend = create();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const [send, receive] = backend.createMemoryChannel<number>(4);
        const send2 = send.clone();
        assert.equal(send.statistics().openSendChannels, 2);
        send.sendNowait(1);
        send.close();
        send.close(); // idempotent
        assert.equal(receive.statistics().openSendChannels, 1);
        send2.sendNowait(2);
        assert.equal(await receive.receive(), 1);
        assert.equal(receive.receiveNowait(), 2);
        // A receiver waiting when the last send end closes gets EndOfChannel.
        const waiting = tg.startSoon(() => receive.receive());
        await yieldUntil(backend, () => receive.statistics().tasksWaitingReceive === 1, "the receiver to wait");
        send2.sendNowait(3);
        assert.equal(await joinSoon(backend, waiting), 3);
        const waiting2 = tg.startSoon(() => errorOf(receive.receive()));
        await yieldUntil(backend, () => receive.statistics().tasksWaitingReceive === 1, "the receiver to wait");
        send2.close();
        isA(await joinSoon(backend, waiting2), EndOfChannel);
        await assert.rejects(receive.receive(), EndOfChannel);
        assert.throws(() => receive.receiveNowait(), EndOfChannel);
        assert.equal(receive.statistics().openSendChannels, 0);
      })
    );
  });

  test(`${name}: channel: closing the last receive end breaks the channel, also for waiting senders`, async () => {
    const backend = create();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const [send, receive] = backend.createMemoryChannel<number>(1);
        const receive2 = receive.clone();
        send.sendNowait(0);
        const senders = [1, 2].map((i) => tg.startSoon(() => errorOf(send.send(i))));
        await yieldUntil(backend, () => send.statistics().tasksWaitingSend === 2, "both senders to wait");
        receive.close();
        // Another receive end is open: nothing is broken yet.
        await yieldTimes(backend, 3);
        assert.equal(send.statistics().tasksWaitingSend, 2);
        receive2.close();
        for (const sender of senders) isA(await joinSoon(backend, sender), BrokenResourceError);
        const stats = send.statistics();
        assert.equal(stats.openReceiveChannels, 0);
        assert.equal(stats.currentBufferUsed, 0, "the buffered item is dropped");
        assert.equal(stats.tasksWaitingSend, 0);
        await assert.rejects(send.send(3), BrokenResourceError);
        assert.throws(() => send.sendNowait(3), errorLike(BrokenResourceError, /receive end/));
        // Closed beats broken: a closed end reports itself.
        send.close();
        assert.throws(() => send.sendNowait(3), ClosedResourceError);
      })
    );
  });

  test(`${name}: channel: every call on a closed end raises ClosedResourceError`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const [send, receive] = backend.createMemoryChannel<number>(1);
      const send2 = send.clone();
      const receive2 = receive.clone();
      send.close();
      receive.close();
      await assert.rejects(send.send(1), errorLike(ClosedResourceError, /send end/));
      assert.throws(() => send.sendNowait(1), errorLike(ClosedResourceError, /send end/));
      assert.throws(() => send.clone(), ClosedResourceError);
      await assert.rejects(receive.receive(), errorLike(ClosedResourceError, /receive end/));
      assert.throws(() => receive.receiveNowait(), errorLike(ClosedResourceError, /receive end/));
      assert.throws(() => receive.clone(), ClosedResourceError);
      await assert.rejects(receive[Symbol.asyncIterator]().next(), ClosedResourceError);
      // The other clones still work.
      await send2.send(7);
      assert.equal(receive2.receiveNowait(), 7);
      assert.deepEqual(send2.statistics(), {
        currentBufferUsed: 0,
        maxBufferSize: 1,
        openSendChannels: 1,
        openReceiveChannels: 1,
        tasksWaitingSend: 0,
        tasksWaitingReceive: 0,
      });
    });
  });

  test(`${name}: channel: closing a clone wakes only that clone's waiting tasks, with ClosedResourceError`, async () => {
    const backend = create();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const [send, receive] = backend.createMemoryChannel<string>(0);
        const receive2 = receive.clone();
        const r1 = tg.startSoon(() => errorOf(receive.receive()));
        const r2 = tg.startSoon(() => receive2.receive());
        await yieldUntil(backend, () => receive.statistics().tasksWaitingReceive === 2, "both receivers to wait");
        receive.close();
        isA(await joinSoon(backend, r1), ClosedResourceError, /receive end/);
        assert.equal(receive2.statistics().tasksWaitingReceive, 1);
        send.sendNowait("to r2");
        assert.equal(await joinSoon(backend, r2), "to r2");

        const send2 = send.clone();
        const s1 = tg.startSoon(() => errorOf(send.send("from s1")));
        await yieldUntil(backend, () => send.statistics().tasksWaitingSend === 1, "s1 to wait");
        const s2 = tg.startSoon(() => send2.send("from s2"));
        await yieldUntil(backend, () => send.statistics().tasksWaitingSend === 2, "s2 to wait");
        send.close();
        isA(await joinSoon(backend, s1), ClosedResourceError, /send end/);
        // s2's end is open: the channel has not ended, and s2's item comes through.
        assert.equal(receive2.statistics().openSendChannels, 1);
        assert.equal(await receive2.receive(), "from s2");
        await joinSoon(backend, s2);
        send2.close();
        await assert.rejects(receive2.receive(), EndOfChannel);
      })
    );
  });

  test(`${name}: channel ends close when disposed, with using and await using`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const [send, receive] = backend.createMemoryChannel<number>(1);
      {
        using sendClone = send.clone();
        await using receiveClone = receive.clone();
        assert.equal(send.statistics().openSendChannels, 2);
        assert.equal(sendClone.statistics().openReceiveChannels, 2);
        assert.equal(receiveClone.statistics().openReceiveChannels, 2);
      }
      assert.equal(send.statistics().openSendChannels, 1);
      assert.equal(send.statistics().openReceiveChannels, 1);
      // aclose() never rejects, even in a cancelled scope: disposal cannot mask the body's error.
      await backend.moveOnAfter(Infinity, async (h) => {
        h.cancel();
        await send.aclose();
        await receive[Symbol.asyncDispose]();
      });
      assert.equal(send.statistics().openSendChannels, 0);
      assert.equal(send.statistics().openReceiveChannels, 0);
      await send.aclose(); // idempotent
    });
  });
}
