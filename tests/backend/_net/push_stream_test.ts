/**
 * Unit tests of the push-model stream I/O (backend/_net/push_stream.ts) over a
 * fake socket: received chunks are queued and taken in order, partly or
 * joined; a cancelled receive takes nothing; the socket is paused past the
 * bound and resumed under it; detach gives back what was not taken; the
 * 'error' listener is the driver's shared one; a socket that ended before the
 * adapter took it answers the first receive.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CancelledError, ClosedResourceError } from "../../../backend/errors.ts";
import type { EventSocket } from "../../../backend/_net/driver.ts";
import { ResourceGuard } from "../../../backend/_net/guard.ts";
import { PushStreamIo, RECEIVE_BOUND, socketErrorListener } from "../../../backend/_net/push_stream.ts";
import { entered, flush, inScope, probe } from "../_core/_helpers.ts";
import { test } from "../../harness.ts";

// deno-lint-ignore no-explicit-any
type Listener = (...args: any[]) => void;

/** Just enough of a `net.Socket` for the I/O: events, pause state and what was put back. */
class FakeSocket implements EventSocket {
  readonly listeners: Map<string, Listener[]> = new Map();
  paused = true;
  destroyed = false;
  writableLength = 0;
  readonly unshifted: Uint8Array[] = [];

  on(event: string, listener: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  off(event: string, listener: Listener): this {
    this.listeners.set(event, (this.listeners.get(event) ?? []).filter((l) => l !== listener));
    return this;
  }
  once(event: string, listener: Listener): this {
    return this.on(event, listener);
  }
  emit(event: string, ...args: unknown[]): void {
    // As an EventEmitter does: the socket is `this` (the adapter's listeners are shared by every socket).
    for (const listener of this.listeners.get(event) ?? []) listener.apply(this, args);
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  isPaused(): boolean {
    return this.paused;
  }
  unshift(chunk: Uint8Array): void {
    this.unshifted.unshift(chunk);
  }
  write(_data: Uint8Array, callback: (error?: Error | null) => void): boolean {
    callback();
    return true;
  }
  end(callback: () => void): this {
    callback();
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    return this;
  }
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (s: string) => new TextEncoder().encode(s);
const NOOP = () => {};

/** An I/O over a fake socket; `flowing`: the socket is not paused (as a TLS socket after its handshake). */
function setup(flowing = true) {
  const socket = new FakeSocket();
  socket.paused = !flowing;
  const io = new PushStreamIo(socket, new ResourceGuard(), (error) => error);
  return { socket, io };
}

test("push stream: chunks are taken in order, a part of one or several joined", async () => {
  const { socket, io } = setup();
  socket.emit("data", bytes("hello"));
  socket.emit("data", bytes("world!"));
  assert.equal(text(await io.recv(3, NOOP)), "hel");
  assert.equal(text(await io.recv(4, NOOP)), "lowo"); // the rest of one chunk and the start of the next
  const buffer = new Uint8Array(10);
  assert.equal(await io.recvInto(buffer, NOOP), 4);
  assert.equal(text(buffer.subarray(0, 4)), "rld!");
  // Nothing queued: the next receive waits for data.
  const p = probe(io.recv(100, NOOP));
  await flush();
  assert.equal(p.settled, false);
  socket.emit("data", bytes("abc"));
  socket.emit("data", bytes("def"));
  await flush();
  assert.equal(text(p.value!), "abc"); // one chunk answers, no join
  assert.equal(text(await io.recv(100, NOOP)), "def");
  socket.emit("end");
  assert.equal((await io.recv(100, NOOP)).length, 0);
});

test("push stream: a cancelled receive takes nothing", async () => {
  const { socket, io } = setup();
  const scope = entered();
  const p = probe(inScope(scope, () => io.recv(10, NOOP)));
  scope.cancel();
  socket.emit("data", bytes("kept"));
  await flush();
  assert.ok(p.error instanceof CancelledError);
  assert.equal(text(await io.recv(10, NOOP)), "kept");
});

test("push stream: the socket pauses past the bound and resumes once under it", async () => {
  const { socket, io } = setup();
  const chunk = new Uint8Array(64 * 1024);
  const count = RECEIVE_BOUND / chunk.length + 1;
  for (let i = 0; i < count; i++) socket.emit("data", chunk);
  assert.equal(socket.paused, true);
  let taken = 0;
  while (socket.paused) taken += (await io.recv(chunk.length, NOOP)).length;
  assert.equal(taken, chunk.length);
});

test("push stream: detach puts back what was not taken, in order, the first chunk's rest included", async () => {
  const { socket, io } = setup();
  socket.emit("data", bytes("abcdef"));
  socket.emit("data", bytes("gh"));
  socket.emit("data", bytes("ij"));
  assert.equal(text(await io.recv(4, NOOP)), "abcd");
  assert.equal(io.detach(), socket);
  assert.deepEqual(socket.unshifted.map(text), ["ef", "gh", "ij"]);
  assert.equal(socket.paused, true);
  assert.equal(socket.listeners.get("data")!.length, 0);
});

test("push stream: close rejects the pending receive and drops what was queued", async () => {
  const { socket, io } = setup();
  const p = probe(io.recv(10, NOOP));
  io.close(new ClosedResourceError("closed"));
  await flush();
  assert.ok(p.error instanceof ClosedResourceError);
  assert.equal(socket.destroyed, true);
});

test("push stream: a socket wrapped twice feeds both adapters once each; detaching one leaves the other listening", async () => {
  // The adapters share their listeners between sockets (found through a symbol on the socket): a second
  // adapter on the same socket must listen with its own, or the first would get every chunk twice.
  const socket = new FakeSocket();
  socket.paused = false;
  const first = new PushStreamIo(socket, new ResourceGuard(), (error) => error);
  const second = new PushStreamIo(socket, new ResourceGuard(), (error) => error);
  socket.emit("data", bytes("once"));
  assert.equal(text(await first.recv(100, NOOP)), "once");
  assert.equal(text(await second.recv(100, NOOP)), "once");
  const p = probe(first.recv(100, NOOP));
  await flush();
  assert.equal(p.settled, false); // nothing more: the chunk came once
  second.detach();
  socket.emit("data", bytes("more"));
  await flush();
  assert.equal(text(p.value!), "more");
  first.detach();
  // Every listener removed but the shared 'error' one, which ignores errors once no adapter owns the socket.
  assert.deepEqual([...socket.listeners.values()].flat(), [socketErrorListener]);
});

// ---- The shared 'error' listener, and a socket's state when the adapter takes it ----

test("push stream: a driver's shared 'error' listener is not added twice", () => {
  const socket = new FakeSocket();
  socket.on("error", socketErrorListener); // as the Node driver does at accept
  new PushStreamIo(socket, new ResourceGuard(), (error) => error);
  assert.deepEqual(socket.listeners.get("error"), [socketErrorListener]);
});

test("push stream: a paused socket is resumed; an error is kept for the next recv and send", async () => {
  const { socket, io } = setup(false);
  assert.equal(socket.paused, false);
  const error = new Error("reset");
  socket.emit("error", error);
  await assert.rejects(io.recv(10, NOOP), (e) => e === error);
  await assert.rejects(io.send(bytes("x"), NOOP), (e) => e === error);
});

test("push stream: a socket that ended or was destroyed before the adapter took it answers the first recv", async () => {
  const ended = new FakeSocket() as FakeSocket & { readableEnded?: boolean };
  ended.readableEnded = true;
  const io = new PushStreamIo(ended, new ResourceGuard(), (error) => error);
  assert.equal((await io.recv(10, NOOP)).length, 0);
  const destroyed = new FakeSocket() as FakeSocket & { errored?: unknown };
  const error = new Error("gone");
  destroyed.destroyed = true;
  destroyed.errored = error;
  const other = new PushStreamIo(destroyed, new ResourceGuard(), (e) => e);
  await assert.rejects(other.recv(10, NOOP), (e) => e === error);
});

test("push stream: a detached socket keeps the shared 'error' listener only; a new adapter takes it", () => {
  const { socket, io } = setup(false);
  assert.equal(io.detach(), socket);
  assert.equal(socket.paused, true);
  assert.deepEqual([...socket.listeners.values()].flat(), [socketErrorListener]);
  // Owned by no adapter, the socket's errors are ignored; a new adapter takes it with the same listener.
  socket.emit("error", new Error("ignored"));
  const again = new PushStreamIo(socket, new ResourceGuard(), (error) => error);
  assert.deepEqual(socket.listeners.get("error"), [socketErrorListener]);
  again.close(new ClosedResourceError("closed"));
  assert.equal(socket.destroyed, true);
});
