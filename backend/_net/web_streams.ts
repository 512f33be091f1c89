/**
 * A stream adapter's `readable` and `writable`: Web Streams over its own
 * `recv`/`recvInto`/`sendall`/`sendEof`, so they share its receive buffer and
 * read-ahead (a byte read through one is never seen again, nor lost, through
 * the other) and its busy slots.
 *
 * Why they look like this. A Web Stream read or write is not a checkpoint of
 * this library: the stream machinery calls `pull` and `write` from whichever
 * task happens to read or write (or from a promise job of an earlier read), so
 * the caller's cancel scopes are the wrong ones to obey. Each Web Stream
 * therefore runs its socket calls in a private root cancel scope of its own,
 * which no task's cancellation reaches and which cancelling the readable (or
 * aborting the writable) cancels: the socket call in flight then stops the way
 * a cancelled `recv` or `sendall` does, taking no byte (the bytes stay for the
 * next receive) or letting the write in flight finish.
 *
 * The readable is a byte stream with a high-water mark of 0: it reads only when
 * a read is pending, so nothing is read ahead into the stream's own queue, and
 * `recv` after a finished `read()` continues byte-exactly. A BYOB read receives
 * into the caller's buffer with `recvInto`; a default read gets a copy of what
 * `recv` returned (a byte stream transfers the buffer of what it is given, which
 * must not be the adapter's).
 *
 * @module
 */

import type { AsyncStreamSocketAdapter } from "../abc/socket.ts";
import { CancelScope, currentScopeVar } from "../_core/cancel_scope.ts";
import { assertBytes } from "./validate.ts";

/** The size of a default read of the readable. */
const READ_SIZE = 65536;

/** A private root scope, entered for good: what a Web Stream's socket calls run in. */
function privateScope(): CancelScope {
  const scope = new CancelScope(null, null);
  scope.enter();
  return scope;
}

/**
 * The readable side of `socket` (see the module doc). Cancelling it stops the
 * read in flight (taking no byte; a read that finished just before gives its
 * bytes back through `unread`) and ends the stream; the socket stays open.
 * A socket error or close errors the stream; end of stream closes it.
 *
 * @param socket The stream adapter.
 * @param unread Puts bytes back in front of the adapter's buffer.
 */
export function socketReadable(
  socket: AsyncStreamSocketAdapter,
  unread: (bytes: Uint8Array) => void,
): ReadableStream<Uint8Array> {
  const scope = privateScope();
  const run = <T>(fn: () => Promise<T>): Promise<T> => currentScopeVar.run(scope, fn);
  return new ReadableStream({
    type: "bytes",
    async pull(controller: ReadableByteStreamController): Promise<void> {
      const request = controller.byobRequest;
      try {
        if (request !== null && request.view !== null) {
          const view = request.view;
          const target = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
          const n = await run(() => socket.recvInto(target));
          // Cancelled just after the receive finished: its bytes go back, not to the dead stream.
          if (scope.cancelCalled) return unread(target.slice(0, n));
          if (n === 0) {
            controller.close();
            request.respond(0);
          } else {
            request.respond(n);
          }
        } else {
          const chunk = await run(() => socket.recv(READ_SIZE));
          if (scope.cancelCalled) return unread(chunk);
          if (chunk.length === 0) controller.close();
          else controller.enqueue(chunk.slice());
        }
      } catch (error) {
        // Cancelled by `cancel()` below: the stream is done, and the receive it stopped took no byte.
        if (scope.cancelCalled) return;
        controller.error(error);
      }
    },
    cancel(): void {
      scope.cancel();
    },
  }, { highWaterMark: 0 });
}

/**
 * The writable side of `socket` (see the module doc). Each chunk is sent with
 * `sendall` (not copied: leave it alone until its `write()` resolves). Closing
 * it calls `sendEof()` when the socket is half-closeable, else does nothing;
 * aborting it stops the write in flight the way a cancelled `sendall` stops
 * (what was handed to the runtime is still sent). Neither closes the socket.
 *
 * @param socket The stream adapter.
 */
export function socketWritable(socket: AsyncStreamSocketAdapter): WritableStream<Uint8Array> {
  const scope = privateScope();
  const run = <T>(fn: () => Promise<T>): Promise<T> => currentScopeVar.run(scope, fn);
  const halfCloseable = socket as Partial<{ sendEof(): Promise<void> }>;
  return new WritableStream<Uint8Array>({
    write(chunk: Uint8Array): Promise<void> {
      assertBytes(chunk, "chunk");
      return run(() => socket.sendall(chunk));
    },
    close(): Promise<void> | void {
      if (typeof halfCloseable.sendEof === "function") return run(() => halfCloseable.sendEof!());
    },
    abort(): void {
      scope.cancel();
    },
  });
}
