/**
 * Unit tests of the buffered reader (backend/_net/buffered_reader.ts) over a
 * fake stream reader that hands out given segments: delimiters cut at every
 * position, partial matches of a long delimiter, `maxBytes`, the end of
 * stream, and results that stay intact while the buffer is refilled. No socket.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BufferedReader } from "../../../backend/_net/buffered_reader.ts";
import type { StreamReader } from "../../../backend/_net/stream_socket.ts";
import { DelimiterNotFound, IncompleteReadError } from "../../../backend/errors.ts";
import { test } from "../../harness.ts";

const NOOP = (): void => {};
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** A stream reader that returns `segments` one per call (cut to the caller's size), then end of stream. */
function segmented(segments: Uint8Array[]): StreamReader & { calls: number } {
  const queue = segments.map((segment) => segment.slice());
  const reader = {
    calls: 0,
    recv(bufsize: number, release: () => void): Promise<Uint8Array> {
      reader.calls++;
      release();
      const head = queue.shift() ?? new Uint8Array(0);
      if (head.length > bufsize) queue.unshift(head.subarray(bufsize));
      return Promise.resolve(head.subarray(0, bufsize));
    },
    recvInto(buffer: Uint8Array, release: () => void): Promise<number> {
      reader.calls++;
      release();
      const head = queue.shift() ?? new Uint8Array(0);
      const n = Math.min(head.length, buffer.length);
      if (head.length > n) queue.unshift(head.subarray(n));
      buffer.set(head.subarray(0, n));
      return Promise.resolve(n);
    },
  };
  return reader;
}

function cut(text: string, ...at: number[]): Uint8Array[] {
  const bytes = encode(text);
  const bounds = [0, ...at, bytes.length];
  return bounds.slice(1).map((end, i) => bytes.slice(bounds[i], end));
}

test("buffered reader: a delimiter cut at every position is found", async () => {
  const message = "alpha\r\nbe\r\n\r\n";
  for (let at = 1; at < message.length; at++) {
    for (let second = at + 1; second <= message.length; second++) {
      const reader = new BufferedReader(segmented(cut(message, at, second)));
      assert.equal(decode(await reader.receiveUntil("\r\n", 100, NOOP)), "alpha", `cut at ${at}, ${second}`);
      assert.equal(decode(await reader.receiveUntil(encode("\r\n"), 100, NOOP)), "be");
      assert.equal((await reader.receiveUntil("\r\n", 0, NOOP)).length, 0);
      await assert.rejects(reader.receiveUntil("\r\n", 100, NOOP), IncompleteReadError);
    }
  }
});

test("buffered reader: one byte a read, a long delimiter with false starts", async () => {
  const message = "xxaxxxbyyxxb";
  const reader = new BufferedReader(segmented(cut(message, ...Array.from({ length: 11 }, (_, i) => i + 1))));
  assert.equal(decode(await reader.receiveUntil("xxb", 100, NOOP)), "xxax");
  assert.equal(decode(await reader.receiveUntil("xxb", 100, NOOP)), "yy");
  await assert.rejects(reader.receiveUntil("xxb", 100, NOOP), (error: unknown) => {
    assert.ok(error instanceof IncompleteReadError);
    assert.equal(error.partial.length, 0);
    assert.equal(error.expected, null);
    return true;
  });
});

test("buffered reader: maxBytes keeps the bytes; the end of stream hands over the rest", async () => {
  const reader = new BufferedReader(segmented(cut("0123456789\nab", 4, 8)));
  await assert.rejects(reader.receiveUntil("\n", 9, NOOP), DelimiterNotFound);
  assert.equal(reader.buffered, 13, "the bytes read so far stay buffered");
  assert.equal(decode(await reader.receiveExactly(3, NOOP)), "012");
  assert.equal(decode(await reader.receiveUntil("\n", 7, NOOP)), "3456789");
  await assert.rejects(reader.receiveExactly(5, NOOP), (error: unknown) => {
    assert.ok(error instanceof IncompleteReadError);
    assert.equal(decode(error.partial), "ab");
    assert.equal(error.expected, 5);
    return true;
  });
  assert.equal(reader.buffered, 0);
  assert.equal((await reader.recv(10, NOOP)).length, 0);
});

test("buffered reader: recv and recvInto drain the buffer first, then read through", async () => {
  const source = segmented(cut("line\nrest of it", 12));
  const reader = new BufferedReader(source);
  assert.equal(decode(await reader.receiveUntil("\n", 100, NOOP)), "line");
  assert.equal(decode(await reader.recv(3, NOOP)), "res");
  const into = new Uint8Array(10);
  assert.equal(await reader.recvInto(into, NOOP), 4, "the buffered bytes only");
  assert.equal(decode(into.subarray(0, 4)), "t of");
  const calls = source.calls;
  assert.equal(decode(await reader.recv(10, NOOP)), " it");
  assert.equal(source.calls, calls + 1, "an empty buffer reads through");
});

test("buffered reader: results stay intact while the buffer is refilled and replaced", async () => {
  const lines = Array.from({ length: 20_000 }, (_, i) => `${i}:${"z".repeat(i % 50)}`);
  const wire = encode(lines.map((line) => line + "\n").join("") + "x".repeat(200_000));
  const segments: Uint8Array[] = [];
  for (let at = 0; at < wire.length; at += 1000 + (at % 7777)) {
    segments.push(wire.subarray(at, at + 1000 + (at % 7777)));
  }
  const reader = new BufferedReader(segmented(segments));
  const got: Uint8Array[] = [];
  for (let i = 0; i < lines.length; i++) got.push(await reader.receiveUntil("\n", 100, NOOP));
  const big = await reader.receiveExactly(200_000, NOOP);
  assert.deepEqual(got.map(decode), lines);
  assert.ok(big.every((byte) => byte === 0x78));
});

test("buffered reader: a receive size larger than a fresh buffer grows it", async () => {
  const reader = new BufferedReader(segmented([new Uint8Array(300_000).fill(1), encode("\n")]));
  assert.equal((await reader.receiveUntil("\n", 300_000, NOOP)).length, 300_000);
});

test("buffered reader: a long line read in small pieces is found, and maxBytes bounds it", async () => {
  const line = new Uint8Array(2_000_000).fill(0x61);
  const segments: Uint8Array[] = [];
  for (let at = 0; at < line.length; at += 1500) segments.push(line.subarray(at, at + 1500));
  segments.push(encode("\n"));
  const reader = new BufferedReader(segmented(segments));
  await assert.rejects(reader.receiveUntil("\n", 1_000_000, NOOP), DelimiterNotFound);
  assert.ok(reader.buffered >= 1_000_000 && reader.buffered < 1_100_000, `${reader.buffered} bytes buffered`);
  const got = await reader.receiveUntil("\n", 2_000_000, NOOP);
  assert.equal(got.length, 2_000_000);
  assert.ok(got.every((byte) => byte === 0x61));
});
