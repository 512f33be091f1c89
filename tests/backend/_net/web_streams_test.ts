/**
 * Unit tests of the Web Streams of a stream adapter (backend/_net/web_streams.ts)
 * over a fake adapter: a read that finishes just as the readable is cancelled
 * gives its bytes back; reads happen only on demand. No socket.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncStreamSocketAdapter } from "../../../backend/abc/socket.ts";
import { socketReadable } from "../../../backend/_net/web_streams.ts";
import { test } from "../../harness.ts";

/** A fake adapter whose `recv`/`recvInto` wait until the test answers them. */
function fakeSocket() {
  const calls: { resolve: (bytes: Uint8Array) => void }[] = [];
  const socket = {
    recv(): Promise<Uint8Array> {
      return new Promise((resolve) => calls.push({ resolve }));
    },
    recvInto(target: Uint8Array): Promise<number> {
      return new Promise((resolve) =>
        calls.push({
          resolve: (bytes) => {
            target.set(bytes);
            resolve(bytes.length);
          },
        })
      );
    },
  };
  return { socket: socket as unknown as AsyncStreamSocketAdapter, calls };
}

for (const mode of ["default", "byob"] as const) {
  test(`web streams: a ${mode} read that finishes as the readable is cancelled gives its bytes back`, async () => {
    const { socket, calls } = fakeSocket();
    const given: Uint8Array[] = [];
    const readable = socketReadable(socket, (bytes) => given.push(bytes.slice()));
    await Promise.resolve();
    assert.equal(calls.length, 0, "nothing is read before a read is pending");
    const reader = mode === "byob" ? readable.getReader({ mode: "byob" }) : readable.getReader();
    const pending = mode === "byob"
      ? (reader as ReadableStreamBYOBReader).read(new Uint8Array(8))
      : (reader as ReadableStreamDefaultReader<Uint8Array>).read();
    for (let i = 0; i < 10 && calls.length === 0; i++) await Promise.resolve();
    assert.equal(calls.length, 1);
    // The receive finishes, and the stream is cancelled before the pull sees it.
    calls[0].resolve(new Uint8Array([1, 2, 3]));
    await reader.cancel();
    assert.equal((await pending).done, true);
    for (let i = 0; i < 10 && given.length === 0; i++) await Promise.resolve();
    assert.deepEqual(given, [new Uint8Array([1, 2, 3])]);
  });
}
