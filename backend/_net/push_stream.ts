/**
 * The I/O of a push-model connection (Node's `net.Socket` and `tls.TLSSocket`,
 * also Deno's `node:` sockets): queues what the socket emits and answers
 * receives from the queue.
 *
 * Why it looks like this: received chunks are queued and the socket is paused
 * once more than {@linkcode RECEIVE_BOUND} bytes wait, then resumed by `recv`:
 * memory stays bounded and the peer feels the backpressure. `recv` takes bytes
 * only when it resolves, so a cancelled `recv` loses none. `send` hands the
 * bytes to the socket without a copy and resolves once the socket holds no
 * reference to them (written to the kernel at once, or when that write
 * completes).
 *
 * @module
 */

import { ReusableWaiter } from "../_core/reusable_waiter.ts";
import { Fifo } from "../_util/fifo.ts";
import type { EventSocket } from "./driver.ts";
import { codedError } from "./errors.ts";
import type { ResourceGuard } from "./guard.ts";
import { PushQueue } from "./push.ts";
import type { StreamIo } from "./stream_socket.ts";

/** Received bytes held before the socket is paused (the peer then waits for TCP's window). */
export const RECEIVE_BOUND = 256 * 1024;

const EMPTY = new Uint8Array(0);

/** Where a socket's listeners (shared by every socket) find the socket's {@linkcode PushStreamIo}. */
const IO: unique symbol = Symbol("PushStreamIo");

/** A socket while an adapter owns it. */
type OwnedSocket = EventSocket & { [IO]?: PushStreamIo };

// The listeners, shared by every socket (`this` is the socket; each finds its adapter through `IO`).
function onData(this: OwnedSocket, chunk: Uint8Array): void {
  this[IO]?.handle(0, chunk);
}
function onEnd(this: OwnedSocket): void {
  this[IO]?.handle(1);
}
function onClose(this: OwnedSocket): void {
  this[IO]?.handle(3);
}

/**
 * The `'error'` listener of every socket an adapter owns, shared by all: the
 * socket's adapter records the error. A socket no adapter owns (not yet taken,
 * or given back) ignores it, so a driver adds this one to the sockets it hands
 * out: an error before `accept()` takes the socket (a reset) must not crash the
 * process, and the adapter then listens with the same function, one listener.
 *
 * @param error The socket's error.
 */
export function socketErrorListener(this: EventSocket, error: unknown): void {
  (this as OwnedSocket)[IO]?.handle(2, error);
}

// deno-lint-ignore no-explicit-any
const RECEIVE_LISTENERS: [string, (this: OwnedSocket, ...args: any[]) => void][] = [
  ["data", onData],
  ["end", onEnd],
  ["close", onClose],
];

/**
 * {@linkcode StreamIo} over an {@linkcode EventSocket}. An idle connection
 * holds this object and nothing more: the socket's listeners are functions
 * shared by every socket (each finds its adapter through a symbol on the
 * socket; the `'error'` one is the driver's, not a second one), and the queue,
 * the receive and send waiters and the write callback are made on first use.
 */
export class PushStreamIo implements StreamIo {
  #socket: OwnedSocket;
  #state: ResourceGuard;
  #mapRuntimeError: (error: unknown) => unknown;
  /** Received chunks, oldest first; the oldest one's first `#offset` bytes are taken. Made by the first chunk. */
  #chunks: Fifo<Uint8Array> | null = null;
  #offset = 0;
  #buffered = 0;
  #eof = false;
  #error: unknown = null;
  // The pending receive (made by the first receive), what it wants in fields.
  #queue: PushQueue<unknown> | null = null;
  #recvSize = 0;
  // The pending send: a reusable checkpoint (made by the first send), and which write callback it waits for.
  #slot: ReusableWaiter<void> | null = null;
  #onWritten: ((error?: Error | null) => void) | null = null;
  #writesIssued = 0;
  #writesDone = 0;
  #sendWaitFor = 0;
  /** The caller's buffer of a pending `recvInto`, `null` for a `recv`. */
  #recvTarget: Uint8Array | null = null;
  #eofSent = false;
  /** This adapter's own listeners, when another adapter already listens to the socket (it was wrapped twice). */
  // deno-lint-ignore no-explicit-any
  #own: [string, (...args: any[]) => void][] | null = null;

  /**
   * What the socket emitted (for the listeners): 0 `'data'` (`value` the chunk),
   * 1 `'end'`, 2 `'error'` (`value` the error), 3 `'close'`.
   *
   * @param event The event.
   * @param value Its argument.
   */
  handle(event: 0 | 1 | 2 | 3, value?: unknown): void {
    if (event === 0) return this.#push(value as Uint8Array);
    if (event === 2) this.#error ??= this.#mapError(value);
    else this.#eof = true;
    this.#wake();
    if (event === 3) this.#onSocketClosed();
  }

  /**
   * Takes ownership of a connected socket; a paused socket is resumed.
   *
   * @param socket The socket.
   * @param state The adapter's guard.
   * @param mapError The error a socket error rejects calls with.
   */
  constructor(socket: EventSocket, state: ResourceGuard, mapError: (error: unknown) => unknown) {
    this.#socket = socket;
    this.#state = state;
    this.#mapRuntimeError = mapError;
    const owned = socket as OwnedSocket;
    if (owned[IO] === undefined) {
      owned[IO] = this;
      // The driver may have added it already (one listener, not two). Asked, not removed and added again:
      // removing a listener deletes a key of the socket's event map, which turns it into a larger dictionary.
      const listeners = (socket as { listeners?: unknown }).listeners;
      if (typeof listeners !== "function" || !listeners.call(socket, "error").includes(socketErrorListener)) {
        socket.off("error", socketErrorListener);
        socket.on("error", socketErrorListener);
      }
    } else {
      // Another adapter holds the socket (a raw socket wrapped twice): the shared listeners reach
      // that one, so this one listens with its own.
      const listener = (error: unknown) => this.handle(2, error);
      socket.on("error", listener);
      this.#own = [["error", listener]];
    }
    // Listening (and resuming) at once, not at the first receive or send: attaching lazily saved about
    // 1.1-1.6 KB of RSS per idle connection on Node 24 (memory_bench), but cost about 1.2 KB per connection
    // with a pending read (5,000 sockets attached and resumed in one burst), a row that must not regress.
    this.#attach();
  }

  /**
   * Attaches the receive listeners and resumes the socket. A socket that ended
   * or closed before the adapter took it emits nothing more, so that is read
   * from its state.
   */
  #attach(): void {
    const socket = this.#socket;
    if (this.#own === null) {
      for (const [event, listener] of RECEIVE_LISTENERS) socket.on(event, listener);
    } else {
      for (const [event, code] of [["data", 0], ["end", 1], ["close", 3]] as const) {
        const listener = (value?: unknown) => this.handle(code, value);
        socket.on(event, listener);
        this.#own.push([event, listener]);
      }
    }
    const ended = socket as { readableEnded?: boolean; errored?: unknown };
    if (socket.destroyed || ended.readableEnded === true) this.#eof = true;
    if (ended.errored != null) this.#error ??= this.#mapError(ended.errored);
    if (!this.#state.closing) socket.resume();
  }

  /** The error a socket error rejects calls with: `ClosedResourceError` once closed, else the runtime's, coded. */
  #mapError(error: unknown): unknown {
    return this.#state.closing ? this.#state.closedError() : this.#mapRuntimeError(error);
  }

  /** The pending receive's waiter, made by the first receive. */
  get #receiver(): PushQueue<unknown> {
    return this.#queue ??= new PushQueue<unknown>(() => this.#tryRecv(), () => {
      this.#recvTarget = null;
    });
  }

  /** The send side's waiter, made by the first send. */
  get #sendSlot(): ReusableWaiter<void> {
    return this.#slot ??= new ReusableWaiter<void>(() => {
      this.#sendWaitFor = 0; // cancelled: Node still sends the bytes it holds
    }, "send");
  }

  /** Puts the bytes received but not consumed back in front of the socket's stream and gives it back, paused. */
  detach(): unknown {
    const socket = this.#socket;
    if (this.#own !== null) {
      for (const [event, listener] of this.#own) socket.off(event, listener);
    } else {
      // The shared 'error' listener stays: with no adapter it ignores errors (as before an adapter took it).
      for (const [event, listener] of RECEIVE_LISTENERS) socket.off(event, listener);
      socket[IO] = undefined;
    }
    socket.pause();
    const pending = this.#chunks === null ? [] : [...this.#chunks];
    if (pending.length > 0) pending[0] = pending[0].subarray(this.#offset);
    for (let i = pending.length - 1; i >= 0; i--) socket.unshift(pending[i]);
    this.#chunks?.clear();
    this.#offset = 0;
    this.#buffered = 0;
    return socket;
  }

  /** This object receives itself. */
  get reader(): this {
    return this;
  }

  recv(bufsize: number, release: () => void): Promise<Uint8Array> {
    this.#recvSize = bufsize;
    this.#recvTarget = null;
    return this.#receiver.receive(release) as Promise<Uint8Array>;
  }

  recvInto(buffer: Uint8Array, release: () => void): Promise<number> {
    this.#recvSize = buffer.length;
    this.#recvTarget = buffer;
    return this.#receiver.receive(release) as Promise<number>;
  }

  /**
   * Settles the pending receive if bytes, end of stream or an error are there;
   * takes bytes from the queue only then, so a cancelled receive takes none.
   */
  #tryRecv(): void {
    const slot = this.#receiver;
    if (this.#state.closing) {
      slot.reject(this.#state.closedError());
    } else if (this.#buffered > 0) {
      const chunk = this.#take(this.#recvSize);
      const target = this.#recvTarget;
      if (target === null) {
        slot.resolve(chunk);
      } else {
        this.#recvTarget = null;
        target.set(chunk);
        slot.resolve(chunk.length);
      }
    } else if (this.#error !== null) {
      slot.reject(this.#error);
    } else if (this.#eof) {
      slot.resolve(this.#recvTarget === null ? EMPTY : 0);
    }
  }

  closeWrite(): Promise<void> {
    this.#eofSent = true;
    return new Promise<void>((resolve) => void this.#socket.end(() => resolve()));
  }

  close(error: unknown): void {
    this.#chunks?.clear();
    this.#offset = 0;
    this.#buffered = 0;
    this.#queue?.reject(error);
    this.#sendWaitFor = 0;
    this.#slot?.reject(error);
    this.#socket.destroy();
  }

  #push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    (this.#chunks ??= new Fifo()).push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered > RECEIVE_BOUND) this.#socket.pause();
    this.#wake();
  }

  #wake(): void {
    this.#queue?.wake();
  }

  /** Takes up to `size` bytes from the queue, resuming the socket once under the bound. */
  #take(size: number): Uint8Array {
    // Called only with bytes buffered: the queue exists.
    const chunks = this.#chunks!;
    let result: Uint8Array;
    const first = chunks.peek()!;
    const offset = this.#offset;
    const available = first.length - offset;
    if (available >= size || chunks.size === 1) {
      // The common case: one chunk answers (a view, no copy).
      const n = Math.min(size, available);
      result = n === first.length ? first : first.subarray(offset, offset + n);
      if (n === available) {
        chunks.shift();
        this.#offset = 0;
      } else {
        this.#offset = offset + n;
      }
    } else {
      result = new Uint8Array(Math.min(size, this.#buffered));
      let filled = 0;
      while (filled < result.length) {
        const chunk = chunks.peek()!;
        const start = this.#offset;
        const n = Math.min(chunk.length - start, result.length - filled);
        result.set(start === 0 && n === chunk.length ? chunk : chunk.subarray(start, start + n), filled);
        filled += n;
        if (start + n === chunk.length) {
          chunks.shift();
          this.#offset = 0;
        } else {
          this.#offset = start + n;
        }
      }
    }
    this.#buffered -= result.length;
    if (this.#buffered <= RECEIVE_BOUND && this.#socket.isPaused() && !this.#state.closing) this.#socket.resume();
    return result;
  }

  /**
   * One write, as a checkpoint. Resolves at once when Node wrote `data` to the
   * kernel on the spot (nothing left in its write queue, so it keeps no
   * reference to the caller's bytes), else when that write completes: flow
   * control as tight as a raw `write()` + `'drain'` loop, with no copy. A write
   * error that comes later fails the next call. Nothing is allocated per call
   * but its promise: one reusable checkpoint, one pre-bound write callback that
   * counts completions (Node calls them in order).
   */
  send(data: Uint8Array, settled?: () => void): Promise<void> {
    const slot = this.#sendSlot;
    const promise = slot.begin(settled);
    if (!slot.waiting) return promise;
    if (this.#error !== null) {
      slot.reject(this.#error);
    } else if (this.#eofSent) {
      slot.reject(codedError("Cannot send after sendEof()", "EPIPE"));
    } else if (data.length === 0) {
      slot.resolve();
    } else {
      const socket = this.#socket;
      const id = ++this.#writesIssued;
      socket.write(data, this.#onWritten ??= (error) => this.#written(error));
      if (this.#error !== null) slot.reject(this.#error);
      else if (socket.destroyed) slot.reject(codedError("The connection was closed while sending", "EPIPE"));
      else if (socket.writableLength === 0 || this.#writesDone >= id) slot.resolve();
      else this.#sendWaitFor = id; // Node holds the bytes until this write's callback
    }
    return promise;
  }

  #written(error?: Error | null): void {
    this.#writesDone++;
    if (error && !this.#state.closing) {
      // The writes still queued when the socket is destroyed (by a reset, say) fail with ECANCELED, which
      // says nothing of why: the socket's 'error' event (ECONNRESET) or its 'close' (EPIPE) settles the send.
      if ((error as { code?: unknown }).code === "ECANCELED") return;
      this.#error ??= this.#mapError(error);
      this.#wake();
    }
    const waitFor = this.#sendWaitFor;
    if (waitFor !== 0 && this.#writesDone >= waitFor) {
      this.#sendWaitFor = 0;
      if (this.#state.closing) this.#sendSlot.reject(this.#state.closedError());
      else if (this.#error !== null) this.#sendSlot.reject(this.#error);
      else this.#sendSlot.resolve();
    }
  }

  /** The socket closed: a send waiting for its write callback may never get it. */
  #onSocketClosed(): void {
    if (this.#sendWaitFor === 0) return;
    this.#sendWaitFor = 0;
    if (this.#state.closing) this.#sendSlot.reject(this.#state.closedError());
    else this.#sendSlot.reject(this.#error ?? codedError("The connection was closed while sending", "EPIPE"));
  }
}
