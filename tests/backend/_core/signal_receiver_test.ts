/**
 * Unit tests of the signal receiver (backend/_core/signal_receiver.ts) over a
 * fake runtime that delivers signals when the test says so: coalescing, order,
 * parked receivers, cancellation, close, and a refused signal.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type SignalHost, SignalReceiverCore } from "../../../backend/_core/signal_receiver.ts";
import { CancelledError, ClosedResourceError } from "../../../backend/errors.ts";
import { BaseAsyncBackend } from "../../../backend/base_backend.ts";
import { entered, FakeTimers, flush, inScope, probe } from "./_helpers.ts";
import { test } from "../../harness.ts";

/** A runtime whose signals the test raises with {@linkcode FakeSignals.raise}. */
class FakeSignals implements SignalHost {
  readonly listeners: Map<string, Set<() => void>> = new Map();
  refuse = new Set<string>();

  add(signal: string, listener: () => void): void {
    if (this.refuse.has(signal)) throw new Error(`cannot listen to ${signal}`);
    let set = this.listeners.get(signal);
    if (set === undefined) this.listeners.set(signal, set = new Set());
    set.add(listener);
  }

  remove(signal: string, listener: () => void): void {
    const set = this.listeners.get(signal);
    set?.delete(listener);
    if (set?.size === 0) this.listeners.delete(signal);
  }

  raise(signal: string): void {
    for (const listener of this.listeners.get(signal) ?? []) listener();
  }
}

const schedule = (callback: () => void): void => void setTimeout(callback, 0);
const timers = new FakeTimers();

test("signal receiver: signals that wait are received in arrival order, a repeated one once", async () => {
  const host = new FakeSignals();
  const receiver = new SignalReceiverCore(host, timers, schedule, ["SIGA", "SIGB", "SIGA"]);
  assert.equal(host.listeners.get("SIGA")?.size, 1); // a name given twice is listened to once
  host.raise("SIGB");
  host.raise("SIGA");
  host.raise("SIGB");
  host.raise("SIGA");
  assert.equal(await receiver.receive(), "SIGB");
  assert.equal(await receiver.receive(), "SIGA");
  const third = probe(receiver.receive());
  await flush();
  assert.equal(third.settled, false);
  host.raise("SIGA");
  await flush();
  assert.equal(third.value, "SIGA");
  receiver.close();
});

test("signal receiver: parked receives are woken one per arrival, oldest first", async () => {
  const host = new FakeSignals();
  const receiver = new SignalReceiverCore(host, timers, schedule, ["SIGA", "SIGB"]);
  const first = probe(receiver.receive());
  const second = probe(receiver.receive());
  await flush();
  host.raise("SIGB");
  await flush();
  assert.equal(first.value, "SIGB");
  assert.equal(second.settled, false);
  host.raise("SIGA");
  await flush();
  assert.equal(second.value, "SIGA");
  receiver.close();
});

test("signal receiver: a cancelled receive takes no signal, waiting or parked", async () => {
  const host = new FakeSignals();
  const receiver = new SignalReceiverCore(host, timers, schedule, ["SIGA"]);
  // Parked, then cancelled: the next arrival waits for the next receive.
  const parked = entered();
  const cancelledPark = probe(inScope(parked, () => receiver.receive()));
  await flush();
  parked.cancel("stop");
  await flush();
  assert.ok(cancelledPark.error instanceof CancelledError);
  assert.equal(cancelledPark.error.reason, "stop");
  host.raise("SIGA");
  // A signal waits; a receive cancelled during its yield leaves it.
  const yielding = entered();
  const cancelledYield = probe(inScope(yielding, () => receiver.receive()));
  yielding.cancel();
  await flush();
  assert.ok(cancelledYield.error instanceof CancelledError);
  assert.equal(await receiver.receive(), "SIGA");
  receiver.close();
});

test("signal receiver: close removes the listeners, wakes parked receives, drops what waits, is idempotent", async () => {
  const host = new FakeSignals();
  const receiver = new SignalReceiverCore(host, timers, schedule, ["SIGA", "SIGB"]);
  const listener = [...host.listeners.get("SIGA")!][0];
  const parked = probe(receiver.receive());
  await flush();
  receiver[Symbol.dispose]();
  receiver.close();
  assert.equal(receiver.closed, true);
  assert.equal(host.listeners.size, 0);
  await flush();
  assert.ok(parked.error instanceof ClosedResourceError);
  listener(); // a late call from the runtime is ignored
  await assert.rejects(receiver.receive(), ClosedResourceError);

  // A signal waiting at close is dropped.
  const other = new SignalReceiverCore(host, timers, schedule, ["SIGA"]);
  host.raise("SIGA");
  other.close();
  await assert.rejects(other.receive(), ClosedResourceError);
});

test("signal receiver: a signal the runtime refuses removes the listeners already added", () => {
  const host = new FakeSignals();
  host.refuse.add("SIGC");
  assert.throws(
    () => new SignalReceiverCore(host, timers, schedule, ["SIGA", "SIGB", "SIGC"]),
    (error: unknown) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /'SIGC'.*cannot listen to SIGC/);
      assert.ok(error.cause instanceof Error);
      return true;
    },
  );
  assert.equal(host.listeners.size, 0);
});

test("signal receiver: a backend whose host has no signals throws a TypeError", () => {
  class NoSignals extends BaseAsyncBackend {
    constructor() {
      super({ timers: new FakeTimers(), yieldMacrotask: schedule });
    }
  }
  assert.throws(() => new NoSignals().openSignalReceiver(["SIGUSR2"]), /no signal listeners/);
});

test("signal receiver: a timer keeps the process alive while a receive is parked, and only then", async () => {
  const host = new FakeSignals();
  const own = new FakeTimers();
  const receiver = new SignalReceiverCore(host, own, schedule, ["SIGA"]);
  assert.equal(own.timers.size, 0);
  const first = probe(receiver.receive());
  const second = probe(receiver.receive());
  await flush();
  assert.equal(own.timers.size, 1);
  assert.equal(own.armed()?.ref, true);
  host.raise("SIGA");
  await flush();
  assert.equal(first.value, "SIGA");
  assert.equal(own.timers.size, 1); // the second still waits
  // The timer re-arms itself when it fires (a wait longer than 24.8 days).
  own.advance(2 ** 31);
  assert.equal(own.timers.size, 1);
  receiver.close();
  await flush();
  assert.ok(second.error instanceof ClosedResourceError);
  assert.equal(own.timers.size, 0);
  // A signal that waits is received without parking: no timer.
  const other = new SignalReceiverCore(host, own, schedule, ["SIGA"]);
  host.raise("SIGA");
  assert.equal(await other.receive(), "SIGA");
  assert.equal(own.calls.set, 2);
  other.close();
});
