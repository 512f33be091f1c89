/**
 * Unit tests of the deadline queue (backend/_core/deadline_queue.ts) on a fake
 * timer host: one timer for every deadline, heap order, removal, the lazy
 * (unreferenced) timer of a runner and close().
 *
 * @module
 */

import assert from "node:assert/strict";
import { type DeadlineEntry, DeadlineQueue } from "../../../backend/_core/deadline_queue.ts";
import { FakeTimers } from "./_helpers.ts";
import { test } from "../../harness.ts";

class Entry implements DeadlineEntry {
  heapIndex = -1;
  constructor(public deadlineValue: number, readonly fired: string[], readonly name = String(deadlineValue)) {}
  deadlineReached(): void {
    this.fired.push(this.name);
  }
}

test("deadline queue: one timer, armed for the earliest deadline", () => {
  const timers = new FakeTimers();
  const queue = new DeadlineQueue(timers, false);
  const fired: string[] = [];
  queue.update(new Entry(50, fired));
  assert.equal(timers.armed()?.at, 50);
  queue.update(new Entry(80, fired));
  assert.equal(timers.armed()?.at, 50, "a later deadline keeps the timer");
  queue.update(new Entry(20, fired));
  assert.equal(timers.armed()?.at, 20, "an earlier one re-arms it");
  assert.equal(queue.size, 3);
  timers.advance(20);
  assert.deepEqual(fired, ["20"]);
  assert.equal(timers.armed()?.at, 50);
  timers.advance(100);
  assert.deepEqual(fired, ["20", "50", "80"]);
  assert.equal(queue.size, 0);
  assert.equal(timers.armed(), undefined, "an eager queue clears its timer when empty");
});

test("deadline queue: entries fire in deadline order, whatever the order of insertion and moves", () => {
  const timers = new FakeTimers();
  const queue = new DeadlineQueue(timers, false);
  const fired: string[] = [];
  const entries: Entry[] = [];
  // A fixed pseudo-random sequence (no Math.random: the test is reproducible).
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % 10_000;
  for (let i = 0; i < 500; i++) {
    const entry = new Entry(next() + 1, fired, `e${i}`);
    entries.push(entry);
    queue.update(entry);
  }
  // Move a third, remove a tenth.
  for (let i = 0; i < 500; i += 3) {
    entries[i].deadlineValue = next() + 1;
    queue.update(entries[i]);
  }
  const removed = new Set<Entry>();
  for (let i = 1; i < 500; i += 10) {
    queue.remove(entries[i]);
    queue.remove(entries[i]); // Twice: nothing happens.
    removed.add(entries[i]);
  }
  assert.equal(queue.size, 500 - removed.size);
  timers.advance(20_000);
  const expected = entries.filter((e) => !removed.has(e)).sort((a, b) => a.deadlineValue - b.deadlineValue);
  const byName = new Map(entries.map((e) => [e.name, e]));
  assert.deepEqual(fired.map((name) => byName.get(name)!.deadlineValue), expected.map((e) => e.deadlineValue));
  assert.equal(fired.length, expected.length);
  for (const entry of entries) assert.equal(entry.heapIndex, -1);
});

test("deadline queue: removing the earliest entry keeps the timer (it re-arms when it fires early)", () => {
  const timers = new FakeTimers();
  const queue = new DeadlineQueue(timers, false);
  const fired: string[] = [];
  const first = new Entry(10, fired);
  queue.update(first);
  queue.update(new Entry(30, fired));
  const sets = timers.calls.set;
  queue.remove(first);
  assert.equal(timers.calls.set, sets, "no timer call");
  timers.advance(10);
  assert.deepEqual(fired, []);
  assert.equal(timers.armed()?.at, 30);
  timers.advance(20);
  assert.deepEqual(fired, ["30"]);
});

test("deadline queue: a lazy queue leaves its timer armed but unreferenced when empty; close() clears it", () => {
  const timers = new FakeTimers();
  const queue = new DeadlineQueue(timers, true);
  const fired: string[] = [];
  const entry = new Entry(100, fired);
  queue.update(entry);
  assert.deepEqual(timers.armed(), { at: 100, ref: true });
  queue.remove(entry);
  assert.deepEqual(timers.armed(), { at: 100, ref: false }, "kept, unreferenced");
  const sets = timers.calls.set;
  queue.update(new Entry(150, fired));
  assert.equal(timers.calls.set, sets, "an armed timer firing earlier is reused");
  assert.deepEqual(timers.armed(), { at: 100, ref: true });
  queue.close();
  assert.equal(timers.armed(), undefined);
  assert.equal(queue.size, 1);
});

test("deadline queue: a deadline already passed fires on the next timer; far deadlines are clamped", () => {
  const timers = new FakeTimers();
  timers.time = 1000;
  const queue = new DeadlineQueue(timers, false);
  const fired: string[] = [];
  queue.update(new Entry(500, fired));
  assert.equal(timers.armed()?.at, 1000, "a zero delay");
  timers.advance(0);
  assert.deepEqual(fired, ["500"]);
  queue.update(new Entry(1e15, fired));
  assert.equal(timers.armed()?.at, 1000 + 2 ** 31 - 1);
  timers.advance(2 ** 31 - 1);
  assert.deepEqual(fired, ["500"], "not due yet: re-armed");
  assert.ok(timers.armed() !== undefined);
  queue.close();
});

test("deadline queue: entries of the same deadline fire in the order they were queued, or last moved", () => {
  const timers = new FakeTimers();
  const queue = new DeadlineQueue(timers, false);
  const fired: string[] = [];
  const entries = Array.from({ length: 64 }, (_, i) => new Entry(i % 2 === 0 ? 10 : 20, fired, `e${i}`));
  for (const entry of entries) queue.update(entry);
  // Moving e0 to the same deadline puts it after the other entries of that deadline.
  queue.update(entries[0]);
  queue.remove(entries[2]);
  timers.advance(30);
  const expected = [
    ...entries.filter((_, i) => i % 2 === 0 && i !== 0 && i !== 2).map((e) => e.name),
    "e0",
    ...entries.filter((_, i) => i % 2 === 1).map((e) => e.name),
  ];
  assert.deepEqual(fired, expected);
});
