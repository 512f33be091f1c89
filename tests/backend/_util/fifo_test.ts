/**
 * Unit tests of the O(1) FIFO (backend/_util/fifo.ts): order across its
 * fixed-size buffers, peek, clear and iteration.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Fifo } from "../../../backend/_util/fifo.ts";
import { test } from "../../harness.ts";

test("fifo: shift returns items in push order; undefined when empty", () => {
  const fifo = new Fifo<string>();
  assert.equal(fifo.shift(), undefined);
  assert.equal(fifo.peek(), undefined);
  fifo.push("a");
  fifo.push("b");
  assert.equal(fifo.size, 2);
  assert.equal(fifo.peek(), "a");
  assert.equal(fifo.shift(), "a");
  assert.equal(fifo.shift(), "b");
  assert.equal(fifo.shift(), undefined);
  assert.equal(fifo.size, 0);
});

test("fifo: order holds across buffer boundaries, with pushes and shifts interleaved", () => {
  const fifo = new Fifo<number>();
  let pushed = 0;
  let shifted = 0;
  // Grow to several buffers, drain part, grow again, wrap the rings around.
  for (const [push, shift] of [[5000, 3000], [7000, 1], [1, 8000], [4096, 4000], [0, 1096]]) {
    for (let i = 0; i < push; i++) fifo.push(pushed++);
    for (let i = 0; i < shift; i++) assert.equal(fifo.shift(), shifted++);
    assert.equal(fifo.size, pushed - shifted);
    assert.equal(fifo.peek(), fifo.size > 0 ? shifted : undefined);
  }
  assert.equal(fifo.size, 0);
  assert.equal(fifo.shift(), undefined);
});

test("fifo: a ring that wraps inside one buffer keeps order", () => {
  const fifo = new Fifo<number>();
  let next = 0;
  let expected = 0;
  for (let round = 0; round < 10_000; round++) {
    fifo.push(next++);
    fifo.push(next++);
    assert.equal(fifo.shift(), expected++);
  }
  assert.equal(fifo.size, 10_000);
  assert.deepEqual([...fifo], Array.from({ length: 10_000 }, (_, i) => expected + i));
});

test("fifo: iteration yields oldest first without removing; clear empties", () => {
  const fifo = new Fifo<number>();
  for (let i = 0; i < 5000; i++) fifo.push(i);
  for (let i = 0; i < 10; i++) fifo.shift();
  const items = [...fifo];
  assert.equal(items.length, 4990);
  assert.equal(items[0], 10);
  assert.equal(items[4989], 4999);
  assert.equal(fifo.size, 4990);
  fifo.clear();
  assert.equal(fifo.size, 0);
  assert.deepEqual([...fifo], []);
  fifo.push(1);
  assert.equal(fifo.shift(), 1);
});

test("fifo: undefined and null are items like any other", () => {
  const fifo = new Fifo<number | null | undefined>();
  fifo.push(undefined);
  fifo.push(null);
  assert.equal(fifo.size, 2);
  assert.equal(fifo.shift(), undefined);
  assert.equal(fifo.size, 1);
  assert.equal(fifo.shift(), null);
  assert.equal(fifo.size, 0);
});
