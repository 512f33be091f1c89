/**
 * Unit tests of the pull-model reader (backend/_net/pull_reader.ts) over a
 * fake byte source: how much each runtime read asks for, and that bytes read
 * beyond a call's size reach the next calls in order. No socket.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type ByteSource, PullReader } from "../../../backend/_net/pull_reader.ts";
import { ResourceGuard } from "../../../backend/_net/guard.ts";
import { CancelledError } from "../../../backend/errors.ts";
import { entered, flush, inScope, probe } from "../_core/_helpers.ts";
import { test } from "../../harness.ts";

const KIB = 1024;

/** A byte source fed by the test; records the size of every read. */
class FakeSource implements ByteSource {
  readonly sizes: number[] = [];
  /** The view of every read. */
  readonly views: Uint8Array[] = [];
  #queued: Uint8Array[] = [];
  #ended = false;
  #waiting: { view: Uint8Array; resolve: (n: number | null) => void } | null = null;

  read(view: Uint8Array): Promise<number | null> {
    this.sizes.push(view.length);
    this.views.push(view);
    if (this.#queued.length === 0 && !this.#ended) {
      return new Promise((resolve) => this.#waiting = { view, resolve });
    }
    return Promise.resolve(this.#fill(view));
  }

  mapError(error: unknown): unknown {
    return error;
  }

  /** Makes `bytes` readable. */
  push(bytes: Uint8Array): void {
    this.#queued.push(bytes);
    this.#wake();
  }

  /** Ends the stream. */
  end(): void {
    this.#ended = true;
    this.#wake();
  }

  #wake(): void {
    const waiting = this.#waiting;
    if (waiting === null) return;
    this.#waiting = null;
    waiting.resolve(this.#fill(waiting.view));
  }

  /** Copies as much as fits into `view`, like a socket read. */
  #fill(view: Uint8Array): number | null {
    let n = 0;
    while (n < view.length && this.#queued.length > 0) {
      const head = this.#queued[0];
      const take = Math.min(head.length, view.length - n);
      view.set(head.subarray(0, take), n);
      n += take;
      if (take === head.length) this.#queued.shift();
      else this.#queued[0] = head.subarray(take);
    }
    return n === 0 && this.#ended ? null : n;
  }
}

/** `length` bytes counting up from `start`, modulo 251 (a prime, so that 64 KiB boundaries do not line up). */
function pattern(start: number, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (start + i) % 251;
  return bytes;
}

function reader(source: FakeSource): { reader: PullReader; state: ResourceGuard } {
  const state = new ResourceGuard();
  return { reader: new PullReader(source, state), state };
}

test("pull reader: reads double while they come back full, up to 256 KiB, and drop back after a short one", async () => {
  const source = new FakeSource();
  const { reader: pull, state } = reader(source);
  // 64 + 128 + 3 × 256 KiB: every read comes back full.
  source.push(pattern(0, 960 * KIB));
  const buffer = new Uint8Array(64 * KIB);
  let offset = 0;
  while (offset < 960 * KIB) {
    state.acquire("recv");
    const n = await pull.recvInto(buffer);
    assert.equal(n, 64 * KIB, "each call gets what it asked for");
    assert.deepEqual(buffer, pattern(offset, n), `bytes in order at offset ${offset}`);
    offset += n;
  }
  assert.deepEqual(source.sizes, [64 * KIB, 128 * KIB, 256 * KIB, 256 * KIB, 256 * KIB]);

  // The peer stops streaming: the next read still asks for 256 KiB and comes back short...
  source.push(pattern(0, 100));
  state.acquire("recv");
  assert.equal(await pull.recvInto(buffer), 100);
  assert.deepEqual(buffer.subarray(0, 100), pattern(0, 100));
  // ...so the one after asks for the caller's size only.
  source.push(pattern(100, 10));
  state.acquire("recv");
  assert.equal(await pull.recvInto(buffer), 10);
  assert.deepEqual(source.sizes.slice(5), [256 * KIB, 64 * KIB]);
});

test("pull reader: bytes read ahead reach recv and recvInto calls in order, then end of stream", async () => {
  const source = new FakeSource();
  const { reader: pull, state } = reader(source);
  const total = 700 * KIB + 3;
  source.push(pattern(0, total));
  source.end();
  const received: Uint8Array[] = [];
  for (let call = 0;; call++) {
    state.acquire("recv");
    let chunk: Uint8Array;
    if (call % 3 === 2) {
      chunk = await pull.recv(40 * KIB);
    } else {
      const buffer = new Uint8Array(call % 3 === 0 ? 64 * KIB : 7);
      chunk = buffer.subarray(0, await pull.recvInto(buffer));
    }
    if (chunk.length === 0) break;
    // A later read must not change the bytes a call got.
    received.push(chunk.slice());
    assert.ok(!pull.eof);
  }
  const all = new Uint8Array(total);
  let offset = 0;
  for (const chunk of received) {
    all.set(chunk, offset);
    offset += chunk.length;
  }
  assert.equal(offset, total);
  assert.deepEqual(all, pattern(0, total));
  assert.ok(pull.eof);
  assert.ok(Math.max(...source.sizes) <= 256 * KIB, "no read asks for more than 256 KiB");
  state.acquire("recv");
  assert.equal((await pull.recv(10)).length, 0, "end of stream is sticky");
});

test("pull reader: a call asking for more than 256 KiB gets reads of its size once the peer streams", async () => {
  const source = new FakeSource();
  const { reader: pull, state } = reader(source);
  const total = 64 * KIB + 3 * 512 * KIB;
  source.push(pattern(0, total));
  const buffer = new Uint8Array(512 * KIB);
  let offset = 0;
  while (offset < total) {
    state.acquire("recv");
    const n = await pull.recvInto(buffer);
    assert.deepEqual(buffer.subarray(0, n), pattern(offset, n));
    offset += n;
  }
  // The first read, not knowing the peer streams, asks for 64 KiB at most.
  assert.deepEqual(source.sizes, [64 * KIB, 512 * KIB, 512 * KIB, 512 * KIB]);
});

for (const mode of ["recv", "recvInto"] as const) {
  test(`pull reader: an idle connection keeps at most 64 KiB after streaming 256 KiB (${mode})`, async () => {
    const source = new FakeSource();
    const { reader: pull, state } = reader(source);
    source.push(pattern(0, 256 * KIB));
    const buffer = new Uint8Array(64 * KIB);
    let offset = 0;
    while (offset < 256 * KIB) {
      state.acquire("recv");
      const n = mode === "recv" ? (await pull.recv(64 * KIB)).length : await pull.recvInto(buffer);
      offset += n;
    }
    assert.equal(offset, 256 * KIB);
    // Idle: the next call waits on a read.
    state.acquire("recv");
    const waiting = mode === "recv" ? pull.recv(64 * KIB) : pull.recvInto(buffer);
    await Promise.resolve();
    assert.ok(pull.retainedBytes <= 64 * KIB, `an idle reader keeps ${pull.retainedBytes} bytes`);
    source.push(pattern(0, 10));
    const got = await waiting;
    assert.equal(typeof got === "number" ? got : got.length, 10);
  });
}

test("pull reader: small recv results pin no more than their bytes (recv(65536) on 10-byte messages)", async () => {
  const source = new FakeSource();
  const { reader: pull, state } = reader(source);
  const kept: Uint8Array[] = [];
  for (let i = 0; i < 1000; i++) {
    source.push(pattern(i, 10));
    state.acquire("recv");
    const chunk = await pull.recv(64 * KIB);
    assert.deepEqual(chunk, pattern(i, 10));
    kept.push(chunk);
  }
  const pinned = new Set(kept.map((chunk) => chunk.buffer));
  let bytes = 0;
  for (const buffer of pinned) bytes += buffer.byteLength;
  assert.equal(bytes, 1000 * 10, `1,000 kept 10-byte results pin ${bytes} bytes`);
});

test("pull reader: small recv calls on a streaming peer pin at most 16 times their bytes", async () => {
  const source = new FakeSource();
  const { reader: pull, state } = reader(source);
  source.push(pattern(0, 1024 * KIB));
  let offset = 0;
  while (offset < 1024 * KIB) {
    state.acquire("recv");
    const chunk = await pull.recv(100);
    assert.deepEqual(chunk, pattern(offset, chunk.length));
    assert.ok(
      chunk.buffer.byteLength <= 16 * Math.max(chunk.length, 100),
      `${chunk.length} bytes pin ${chunk.buffer.byteLength}`,
    );
    offset += chunk.length;
  }
});

// Found by the reliability load test: a 1 MiB slab for every connection that streamed a little made V8
// collect garbage nonstop (6,000 connections echoing 64 KiB: 93 s, against 4.7 s for raw Deno reads).
test("pull reader: slabs grow from the read's size, so a short stream does not cost 1 MiB", async () => {
  const source = new FakeSource();
  const { reader: pull, state } = reader(source);
  source.push(pattern(0, 256 * KIB));
  let offset = 0;
  let most = 0;
  while (offset < 256 * KIB) {
    state.acquire("recv");
    const chunk = await pull.recv(64 * KIB);
    assert.deepEqual(chunk, pattern(0, 256 * KIB).subarray(offset, offset + chunk.length));
    offset += chunk.length;
    most = Math.max(most, pull.retainedBytes);
  }
  assert.ok(most <= 512 * KIB, `the reader held ${most} bytes while 256 KiB streamed`);
});

test("pull reader: fill reads straight into the caller's buffer", async () => {
  const source = new FakeSource();
  const { reader: pull } = reader(source);
  const buffer = new Uint8Array(100);
  const view = buffer.subarray(10, 60);
  source.push(pattern(0, 30));
  assert.equal(await pull.fill(view, () => {}), 30);
  assert.equal(source.views[0], view, "the runtime read got the caller's view itself");
  assert.deepEqual(view.subarray(0, 30), pattern(0, 30));
  assert.equal(pull.retainedBytes, 0, "no scratch buffer");
});

test("pull reader: a cancelled fill's late bytes reach the next calls as copies, in order", async () => {
  const source = new FakeSource();
  const { reader: pull } = reader(source);
  const buffer = new Uint8Array(64);
  const scope = entered();
  const p = probe(inScope(scope, () => pull.fill(buffer, () => {})));
  scope.cancel();
  await flush();
  assert.ok(p.error instanceof CancelledError);
  // The read goes on, into the fill's buffer, and completes later.
  source.push(pattern(0, 40));
  await flush();
  assert.deepEqual(buffer.subarray(0, 40), pattern(0, 40));
  // A recv of 10 claims them: its result and the kept rest are copies, not views of the fill's buffer.
  const first = await pull.recv(10, () => {});
  buffer.fill(0);
  assert.deepEqual(first, pattern(0, 10));
  assert.notEqual(first.buffer, buffer.buffer);
  const target = new Uint8Array(15);
  assert.equal(await pull.recvInto(target, () => {}), 15);
  assert.deepEqual(target, pattern(10, 15));
  // A fill gets the rest into its own buffer.
  const other = new Uint8Array(64);
  assert.equal(await pull.fill(other, () => {}), 15);
  assert.deepEqual(other.subarray(0, 15), pattern(25, 15));
  assert.equal(source.views.length, 1, "one runtime read in all");
});

test("pull reader: a cancelled fill's bytes go to the next fill, copied when its buffer moved", async () => {
  const source = new FakeSource();
  const { reader: pull } = reader(source);
  const buffer = new Uint8Array(64);
  for (const next of [buffer.subarray(8), buffer.subarray(0)]) {
    const scope = entered();
    const p = probe(inScope(scope, () => pull.fill(buffer.subarray(8), () => {})));
    scope.cancel();
    await flush();
    assert.ok(p.error instanceof CancelledError);
    source.push(pattern(7, 20));
    assert.equal(await pull.fill(next, () => {}), 20);
    assert.deepEqual(next.subarray(0, 20), pattern(7, 20));
  }
});
