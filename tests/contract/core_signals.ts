/**
 * Contract tests: OS signals (`openSignalReceiver`), with real signals the
 * process sends itself. `SIGINT` and `SIGTERM` are avoided; `SIGWINCH` and
 * `SIGURG` are ignored by default, so one arriving after a receiver closed
 * does no harm. On the Node backend, `process.listenerCount` shows the
 * listeners are removed; on Deno, the op sanitizer does.
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { SignalReceiver } from "../../backend/abc/signals.ts";
import { CancelledError, ClosedResourceError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { errorLike, yieldTimes, yieldUntil } from "./core_util.ts";

const WATCHED = ["SIGUSR2", "SIGWINCH", "SIGURG"] as const;

function listenerCounts(): number[] {
  return WATCHED.map((name) => process.listenerCount(name));
}

/** Receives `count` signals from `receiver` (bounded by the caller's timeout). */
async function receiveSet(receiver: SignalReceiver, count: number): Promise<string[]> {
  const names: string[] = [];
  for (let i = 0; i < count; i++) names.push(await receiver.receive());
  return names.sort();
}

/** Asserts that no signal is waiting in `receiver`: a receive started now is still pending after many yields. */
async function assertNothingWaiting(backend: AsyncBackend, receiver: SignalReceiver): Promise<void> {
  let got: string | undefined;
  await backend.moveOnAfter(Infinity, async (h) => {
    await backend.createTaskGroup(async (tg) => {
      tg.startSoon(async () => {
        got = await receiver.receive();
      });
      await yieldTimes(backend, 50);
      h.cancel();
    });
  });
  assert.equal(got, undefined, "a signal was received that should not be waiting");
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: a signal the process sends itself is received by name, by receive() and by for await`, async () => {
    const backend = create();
    const before = listenerCounts();
    await backend.bootstrap(() =>
      backend.timeout(10_000, async () => {
        using receiver = backend.openSignalReceiver(["SIGUSR2", "SIGWINCH"]);
        assert.equal(receiver.closed, false);
        process.kill(process.pid, "SIGUSR2");
        assert.equal(await receiver.receive(), "SIGUSR2");
        process.kill(process.pid, "SIGWINCH");
        for await (const signal of receiver) {
          assert.equal(signal, "SIGWINCH");
          break;
        }
        // Leaving the loop does not close the receiver.
        assert.equal(receiver.closed, false);
        process.kill(process.pid, "SIGUSR2");
        for await (const signal of receiver) {
          assert.equal(signal, "SIGUSR2");
          break;
        }
      })
    );
    assert.deepEqual(listenerCounts(), before);
  });

  test(`${name}: signals that arrive while nobody receives wait, one of each name`, async () => {
    const backend = create();
    const before = listenerCounts();
    await backend.bootstrap(() =>
      backend.timeout(10_000, async () => {
        using receiver = backend.openSignalReceiver(["SIGWINCH", "SIGURG"]);
        // A second receiver, always receiving, sees the same arrivals. Node
        // delivers each signal sent, in the order sent, running microtasks in
        // between (so the probe may take SIGWINCH more than once); Deno merges
        // the three SIGWINCH before delivering anything. Either way, once the
        // probe has seen both names, every signal has reached the receiver.
        using probe = backend.openSignalReceiver(["SIGWINCH", "SIGURG"]);
        process.kill(process.pid, "SIGWINCH");
        process.kill(process.pid, "SIGWINCH");
        process.kill(process.pid, "SIGWINCH");
        process.kill(process.pid, "SIGURG");
        const seen = new Set<string>();
        while (seen.size < 2) seen.add(await probe.receive());
        assert.deepEqual(await receiveSet(receiver, 2), ["SIGURG", "SIGWINCH"]);
        await assertNothingWaiting(backend, receiver);
      })
    );
    assert.deepEqual(listenerCounts(), before);
  });

  test(`${name}: a cancelled receive takes no signal; close wakes a waiting receive with ClosedResourceError`, async () => {
    const backend = create();
    const before = listenerCounts();
    await backend.bootstrap(() =>
      backend.timeout(10_000, async () => {
        const receiver = backend.openSignalReceiver(["SIGURG"]);
        // Cancelled while waiting for a signal.
        const cancelled = await backend.moveOnAfter(Infinity, async (h) => {
          const pending = receiver.receive();
          h.cancel();
          return await pending;
        });
        assert.equal(cancelled, undefined);
        // Cancelled while a signal waits: it stays for the next receive.
        using probe = backend.openSignalReceiver(["SIGURG"]);
        process.kill(process.pid, "SIGURG");
        assert.equal(await probe.receive(), "SIGURG");
        await backend.moveOnAfter(Infinity, async (h) => {
          h.cancel();
          await assert.rejects(receiver.receive(), CancelledError);
        });
        assert.equal(await receiver.receive(), "SIGURG");

        let failure: unknown;
        await backend.createTaskGroup(async (tg) => {
          tg.startSoon(async () => {
            failure = await receiver.receive().then(() => "received", (error) => error);
          });
          await yieldTimes(backend, 3);
          receiver.close();
          receiver.close();
          await yieldUntil(backend, () => failure !== undefined, "the waiting receive ends");
        });
        assert.ok(failure instanceof ClosedResourceError);
        assert.equal(receiver.closed, true);
        await assert.rejects(receiver.receive(), ClosedResourceError);
        await assert.rejects(receiver[Symbol.asyncIterator]().next(), ClosedResourceError);
      })
    );
    assert.deepEqual(listenerCounts(), before);
  });

  test(`${name}: openSignalReceiver rejects a bad signal name with a TypeError naming it, adding no listener`, () => {
    const backend = create();
    const before = listenerCounts();
    assert.throws(() => backend.openSignalReceiver(["SIGNOPE"]), errorLike(TypeError, /SIGNOPE/));
    assert.throws(() => backend.openSignalReceiver(["sigurg"]), errorLike(TypeError, /sigurg/));
    assert.throws(() => backend.openSignalReceiver(["SIGURG", 15 as never]), errorLike(TypeError, /15/));
    // Listened to first, then refused by the runtime: the first listener is removed.
    assert.throws(() => backend.openSignalReceiver(["SIGURG", "SIGKILL"]), errorLike(TypeError, /SIGKILL/));
    assert.throws(() => backend.openSignalReceiver([]), errorLike(RangeError, /'signals'/));
    assert.throws(() => backend.openSignalReceiver("SIGURG" as never), errorLike(TypeError, /'signals'/));
    assert.deepEqual(listenerCounts(), before);
  });
}
