/**
 * Unit tests of the RFC 8305 race (backend/_net/happy_eyeballs.ts) with a fake
 * clock and fake connections: no socket, no real time.
 *
 * @module
 */

import assert from "node:assert/strict";
import { interleaveAddresses } from "../../../backend/_net/address.ts";
import { happyEyeballs, type StaggerTimers } from "../../../backend/_net/happy_eyeballs.ts";
import { DenoBackend } from "../../../backend/deno/mod.ts";
import { CancelledError } from "../../../backend/errors.ts";
import { test } from "../../harness.ts";

/** A manual clock. */
class FakeTimers implements StaggerTimers {
  now = 0;
  #timers = new Map<number, { at: number; callback: () => void }>();
  #next = 1;

  setTimer(callback: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, callback });
    return id;
  }

  clearTimer(id: unknown): void {
    this.#timers.delete(id as number);
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** Moves the clock, firing due timers in order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((x, y) => x[1].at - y[1].at);
      if (due.length === 0) break;
      const [id, timer] = due[0];
      this.#timers.delete(id);
      this.now = timer.at;
      timer.callback();
    }
    this.now = end;
  }
}

interface Attempt {
  address: string;
  startedAt: number;
  signal: AbortSignal;
  succeed(conn: string): void;
  fail(error: unknown): void;
}

/** Fake connect: every attempt waits until the test settles it. */
function fakeNetwork(timers: FakeTimers) {
  const attempts: Attempt[] = [];
  const closed: string[] = [];
  return {
    attempts,
    closed,
    connect: (address: string, signal: AbortSignal): Promise<string> =>
      new Promise<string>((resolve, reject) => {
        attempts.push({ address, startedAt: timers.now, signal, succeed: resolve, fail: reject });
      }),
    close: (conn: string) => void closed.push(conn),
  };
}

const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function refused(address: string): Error {
  return Object.assign(new Error(`refused by ${address}`), { code: "ECONNREFUSED" });
}

test("happy eyeballs: interleaves address families, first family first", () => {
  assert.deepEqual(
    interleaveAddresses(["2001:db8::1", "2001:db8::2", "2001:db8::3", "192.0.2.1", "192.0.2.2"]),
    ["2001:db8::1", "192.0.2.1", "2001:db8::2", "192.0.2.2", "2001:db8::3"],
  );
  assert.deepEqual(interleaveAddresses(["192.0.2.1", "2001:db8::1", "192.0.2.2"]), [
    "192.0.2.1",
    "2001:db8::1",
    "192.0.2.2",
  ]);
  assert.deepEqual(interleaveAddresses([]), []);
});

test("happy eyeballs: a stalled first address loses to the second, started at the delay", async () => {
  const timers = new FakeTimers();
  const net = fakeNetwork(timers);
  const race = happyEyeballs(["::1", "127.0.0.1", "::2"], { ...net, delay: 250, timers });
  assert.equal(net.attempts.length, 1);
  assert.equal(net.attempts[0].address, "::1");
  timers.advance(249);
  assert.equal(net.attempts.length, 1, "no second attempt before the delay");
  timers.advance(1);
  assert.equal(net.attempts.length, 2);
  assert.equal(net.attempts[1].address, "127.0.0.1");
  assert.equal(net.attempts[1].startedAt, 250);
  net.attempts[1].succeed("conn-v4");
  assert.equal(await race, "conn-v4");
  assert.equal(net.attempts[0].signal.aborted, true, "the stalled attempt is aborted");
  assert.equal(net.attempts[1].signal.aborted, false, "the winner is not aborted");
  assert.equal(timers.pending, 0, "no timer left: the third attempt never starts");
  // The loser connects anyway: it is closed, not leaked.
  net.attempts[0].succeed("conn-v6-late");
  await flush();
  assert.deepEqual(net.closed, ["conn-v6-late"]);
  assert.equal(net.attempts.length, 2);
});

test("happy eyeballs: a failure starts the next attempt at once", async () => {
  const timers = new FakeTimers();
  const net = fakeNetwork(timers);
  const race = happyEyeballs(["::1", "127.0.0.1"], { ...net, delay: 250, timers });
  net.attempts[0].fail(refused("::1"));
  await flush();
  assert.equal(net.attempts.length, 2);
  assert.equal(net.attempts[1].startedAt, 0);
  net.attempts[1].succeed("conn");
  assert.equal(await race, "conn");
  assert.deepEqual(net.closed, []);
});

test("happy eyeballs: when every attempt fails, the common error is reported", async () => {
  const timers = new FakeTimers();
  const net = fakeNetwork(timers);
  const race = happyEyeballs(["::1", "127.0.0.1"], { ...net, delay: 250, timers });
  timers.advance(250);
  net.attempts[1].fail(refused("127.0.0.1"));
  await flush();
  net.attempts[0].fail(refused("::1"));
  await assert.rejects(race, (error: unknown) => (error as { code?: string }).code === "ECONNREFUSED");

  const mixed = fakeNetwork(timers);
  const race2 = happyEyeballs(["::1", "127.0.0.1"], { ...mixed, delay: 250, timers });
  mixed.attempts[0].fail(Object.assign(new Error("unreachable"), { code: "ENETUNREACH" }));
  await flush();
  mixed.attempts[1].fail(refused("127.0.0.1"));
  await assert.rejects(race2, (error: unknown) => error instanceof AggregateError && error.errors.length === 2);
});

test("happy eyeballs: cancelling the race aborts every attempt and closes late connections", async () => {
  const timers = new FakeTimers();
  const net = fakeNetwork(timers);
  const backend = new DenoBackend();
  await backend.bootstrap(async () => {
    await backend.moveOnAfter(Infinity, async (handle) => {
      const race = happyEyeballs(["::1", "127.0.0.1"], { ...net, delay: 250, timers });
      timers.advance(250);
      assert.equal(net.attempts.length, 2);
      handle.cancel();
      await assert.rejects(race, CancelledError);
    });
  });
  assert.ok(net.attempts.every((attempt) => attempt.signal.aborted));
  assert.equal(timers.pending, 0);
  net.attempts[0].succeed("late");
  await flush();
  assert.deepEqual(net.closed, ["late"]);
});
