/**
 * The Node stream socket adapter (TCP and TLS).
 *
 * @module
 */

import type { Socket } from "node:net";
import { AsyncHalfCloseableStreamSocketAdapter, type SocketAddress } from "../abc/socket.ts";
import { suspend } from "../_core/checkpoint.ts";
import { codedError } from "../_net/errors.ts";
import { ReusableWaiter } from "../_core/reusable_waiter.ts";
import { PushQueue } from "../_net/push.ts";
import { assertBufsize, assertBytes, assertRecvBuffer } from "../_net/validate.ts";
import { ResourceGuard } from "../_net/guard.ts";
import { describe } from "../_util/validate.ts";
import { nodeError, toSocketAddress } from "./net.ts";

/** Received bytes held before the socket is paused (the peer then waits for TCP's window). */
export const RECEIVE_BOUND = 256 * 1024;

const EMPTY = new Uint8Array(0);

/**
 * A connected TCP or TLS stream over a push-based `net.Socket` (or
 * `tls.TLSSocket`).
 *
 * Received chunks are queued and the socket is paused once more than
 * {@linkcode RECEIVE_BOUND} bytes wait, then resumed by `recv`: memory stays
 * bounded and the peer feels the backpressure. `recv` takes bytes only when it
 * resolves, so a cancelled `recv` loses none. `sendall` hands the bytes to Node
 * without a copy and resolves once Node holds no reference to them (written to
 * the kernel at once, or when that write completes).
 */
export class NodeStreamSocket extends AsyncHalfCloseableStreamSocketAdapter {
  #socket: Socket;
  #state = new ResourceGuard("socket");
  #chunks: Uint8Array[] = [];
  #head = 0;
  #buffered = 0;
  #eof = false;
  #error: unknown = null;
  // The pending receive, what it wants in fields.
  #receiver = new PushQueue<unknown>(() => this.#tryRecv(), () => {
    this.#recvTarget = null;
  });
  #recvSize = 0;
  // The pending send: a reusable checkpoint, and which write callback it waits for.
  #sendSlot = new ReusableWaiter<void>(() => {
    this.#sendWaitFor = 0; // cancelled: Node still sends the bytes it holds
  });
  #writesIssued = 0;
  #writesDone = 0;
  #sendWaitFor = 0;
  /** The caller's buffer of a pending `recvInto`, `null` for a `recv`. */
  #recvTarget: Uint8Array | null = null;
  #local: SocketAddress;
  #remote: SocketAddress;
  #eofSent: Promise<void> | null = null;
  // deno-lint-ignore no-explicit-any
  #listeners: [string, (...args: any[]) => void][];

  /**
   * Takes ownership of a connected socket.
   *
   * @param socket The socket; paused sockets are resumed.
   * @param pending Bytes already received (for instance by a plain adapter before a TLS upgrade).
   */
  constructor(socket: Socket, pending: readonly Uint8Array[] = []) {
    super();
    this.#socket = socket;
    this.#local = toSocketAddress(socket.localAddress, socket.localPort);
    this.#remote = toSocketAddress(socket.remoteAddress, socket.remotePort);
    for (const chunk of pending) this.#push(chunk);
    this.#listeners = [
      ["data", (chunk: Uint8Array) => this.#push(chunk)],
      ["end", () => {
        this.#eof = true;
        this.#wake();
      }],
      ["error", (error: unknown) => {
        this.#error ??= nodeError(error);
        this.#wake();
      }],
      ["close", () => {
        this.#eof = true;
        this.#wake();
        this.#onSocketClosed();
      }],
    ];
    for (const [event, listener] of this.#listeners) socket.on(event, listener);
    if (this.#buffered <= RECEIVE_BOUND) socket.resume();
  }

  /**
   * Takes the socket back from `adapter` (for a TLS upgrade): the adapter is left
   * closed, the socket open and paused, with the bytes received but not consumed
   * put back in front of its stream. Throws when a `recv` or a send is pending.
   *
   * @param adapter A stream socket of this backend.
   */
  static detach(adapter: NodeStreamSocket): Socket {
    const state = adapter.#state;
    state.checkOpen();
    state.acquire("recv");
    try {
      state.acquire("send");
    } catch (error) {
      state.release("recv");
      throw error;
    }
    const socket = adapter.#socket;
    for (const [event, listener] of adapter.#listeners) socket.off(event, listener);
    socket.pause();
    const pending = adapter.#chunks.slice(adapter.#head);
    for (let i = pending.length - 1; i >= 0; i--) socket.unshift(pending[i]);
    adapter.#chunks = [];
    adapter.#head = 0;
    adapter.#buffered = 0;
    state.close();
    return socket;
  }

  /** `true` once `aclose()` was called. */
  isClosing(): boolean {
    return this.#state.closing;
  }

  /** The local address. */
  getLocalAddress(): SocketAddress {
    return { ...this.#local };
  }

  /** The peer's address. */
  getRemoteAddress(): SocketAddress {
    return { ...this.#remote };
  }

  /** The `net.Socket` (or `tls.TLSSocket`). */
  socket(): unknown {
    return this.#socket;
  }

  /** Receives up to `bufsize` bytes; an empty array at end of stream, repeatedly. */
  recv(bufsize: number): Promise<Uint8Array> {
    try {
      assertBufsize(bufsize);
      this.#state.acquire("recv");
    } catch (error) {
      return Promise.reject(error);
    }
    this.#recvSize = bufsize;
    this.#recvTarget = null;
    return this.#receiver.receive(this.#state.releaseRecv) as Promise<Uint8Array>;
  }

  /** Receives up to `buffer.length` bytes into `buffer`; `0` at end of stream. */
  override recvInto(buffer: Uint8Array): Promise<number> {
    try {
      assertRecvBuffer(buffer);
      this.#state.acquire("recv");
    } catch (error) {
      return Promise.reject(error);
    }
    this.#recvSize = buffer.length;
    this.#recvTarget = buffer;
    return this.#receiver.receive(this.#state.releaseRecv) as Promise<number>;
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

  /** Sends every byte of `data`. */
  sendall(data: Uint8Array): Promise<void> {
    try {
      assertBytes(data);
      this.#state.acquire("send");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#write(data, this.#state.releaseSend);
  }

  /** Sends every chunk in order, without joining them. */
  async sendallFromiter(chunks: Iterable<Uint8Array>): Promise<void> {
    if (chunks === null || typeof (chunks as Partial<Iterable<Uint8Array>>)[Symbol.iterator] !== "function") {
      throw new TypeError(`The 'chunks' argument must be an iterable of Uint8Array, got ${describe(chunks)}`);
    }
    this.#state.acquire("send");
    try {
      let index = 0;
      for (const chunk of chunks) {
        assertBytes(chunk, `chunks[${index++}]`);
        await this.#write(chunk);
      }
      if (index === 0) await this.#write(EMPTY);
    } finally {
      this.#state.release("send");
    }
  }

  /** Closes the write side; the peer reads end of stream. Idempotent. */
  async sendEof(): Promise<void> {
    this.#state.acquire("send");
    try {
      const sent = this.#eofSent ??= new Promise<void>((resolve) => {
        this.#socket.end(() => resolve());
      });
      await suspend<void>((resolve, reject) => {
        const unregister = this.#state.onClose(reject);
        sent.then(() => {
          unregister();
          resolve();
        });
        return unregister;
      });
    } finally {
      this.#state.release("send");
    }
  }

  /** Closes the socket, waking pending calls with `ClosedResourceError`. Idempotent. */
  aclose(): Promise<void> {
    if (this.#state.close()) {
      this.#chunks = [];
      this.#head = 0;
      this.#buffered = 0;
      this.#receiver.reject(this.#state.closedError());
      this.#sendWaitFor = 0;
      this.#sendSlot.reject(this.#state.closedError());
      this.#socket.destroy();
    }
    return Promise.resolve();
  }

  #push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered > RECEIVE_BOUND) this.#socket.pause();
    this.#wake();
  }

  #wake(): void {
    this.#receiver.wake();
  }

  /** Takes up to `size` bytes from the queue, resuming the socket once under the bound. */
  #take(size: number): Uint8Array {
    const chunks = this.#chunks;
    let result: Uint8Array;
    const first = chunks[this.#head];
    if (first.length >= size || this.#head === chunks.length - 1) {
      // The common case: one chunk answers (a view, no copy).
      const n = Math.min(size, first.length);
      result = n === first.length ? first : first.subarray(0, n);
      if (n === first.length) this.#head++;
      else chunks[this.#head] = first.subarray(n);
    } else {
      result = new Uint8Array(Math.min(size, this.#buffered));
      let filled = 0;
      while (filled < result.length) {
        const chunk = chunks[this.#head];
        const n = Math.min(chunk.length, result.length - filled);
        result.set(n === chunk.length ? chunk : chunk.subarray(0, n), filled);
        filled += n;
        if (n === chunk.length) this.#head++;
        else chunks[this.#head] = chunk.subarray(n);
      }
    }
    this.#buffered -= result.length;
    if (this.#head === chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#chunks = chunks.slice(this.#head);
      this.#head = 0;
    }
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
  #write(data: Uint8Array, settled?: () => void): Promise<void> {
    const slot = this.#sendSlot;
    const promise = slot.begin(settled);
    if (!slot.waiting) return promise;
    if (this.#error !== null) {
      slot.reject(this.#error);
    } else if (this.#eofSent !== null) {
      slot.reject(codedError("Cannot send after sendEof()", "EPIPE"));
    } else if (data.length === 0) {
      slot.resolve();
    } else {
      const socket = this.#socket;
      const id = ++this.#writesIssued;
      socket.write(data, this.#onWritten);
      if (this.#error !== null) slot.reject(this.#error);
      else if (socket.destroyed) slot.reject(codedError("The connection was closed while sending", "EPIPE"));
      else if (socket.writableLength === 0 || this.#writesDone >= id) slot.resolve();
      else this.#sendWaitFor = id; // Node holds the bytes until this write's callback
    }
    return promise;
  }

  #onWritten = (error?: Error | null): void => {
    this.#writesDone++;
    if (error && !this.#state.closing) {
      this.#error ??= nodeError(error);
      this.#wake();
    }
    const waitFor = this.#sendWaitFor;
    if (waitFor !== 0 && this.#writesDone >= waitFor) {
      this.#sendWaitFor = 0;
      if (this.#state.closing) this.#sendSlot.reject(this.#state.closedError());
      else if (this.#error !== null) this.#sendSlot.reject(this.#error);
      else this.#sendSlot.resolve();
    }
  };

  /** The socket closed: a send waiting for its write callback may never get it. */
  #onSocketClosed(): void {
    if (this.#sendWaitFor === 0) return;
    this.#sendWaitFor = 0;
    if (this.#state.closing) this.#sendSlot.reject(this.#state.closedError());
    else this.#sendSlot.reject(this.#error ?? codedError("The connection was closed while sending", "EPIPE"));
  }
}
