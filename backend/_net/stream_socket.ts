/**
 * The stream socket adapter (TCP and TLS), written once over the runtime's
 * connection: a pull-model one ({@linkcode PullStreamIo}, Deno's `read`) or a
 * push-model one ({@linkcode PushStreamIo}, Node's `'data'` events).
 *
 * @module
 */

import { AsyncHalfCloseableStreamSocketAdapter, type SocketAddress } from "../abc/socket.ts";
import { describe } from "../_util/validate.ts";
import { suspend } from "../_core/checkpoint.ts";
import { assertCount, assertDelimiter, BufferedReader, DEFAULT_MAX_BYTES } from "./buffered_reader.ts";
import type { AddressOf, StreamConn } from "./driver.ts";
import { describeAddress, ResourceGuard } from "./guard.ts";
import { DESCRIBE } from "../_core/leaks.ts";
import { PullStreamIo } from "./pull_stream.ts";
import { PushStreamIo } from "./push_stream.ts";
import { assertBufsize, assertBytes, assertRecvBuffer } from "./validate.ts";
import { socketReadable, socketWritable } from "./web_streams.ts";

/** The receive side of a connection (each call holds the receive slot, given back by `release`). */
export interface StreamReader {
  /** Receives up to `bufsize` bytes (a checkpoint); `release` runs when the call ends. */
  recv(bufsize: number, release: () => void): Promise<Uint8Array>;
  /** Receives into `buffer` (a checkpoint); `release` runs when the call ends. */
  recvInto(buffer: Uint8Array, release: () => void): Promise<number>;
  /**
   * `recvInto` for a buffer its caller owns and gives out to no one while a read may
   * write into it (the buffered reader's free room): a pull reader reads straight
   * into it, and a cancelled call's read may still write there (the next call claims
   * the bytes). A reader without it is filled with `recvInto`.
   */
  fill?(buffer: Uint8Array, release: () => void): Promise<number>;
}

/** The I/O of one connection, behind the adapter's checks (each call holds its busy slot). */
export interface StreamIo {
  /** The receive side, called by the adapter directly (no dispatch through the I/O object). */
  readonly reader: StreamReader;
  /** Sends every byte of `data` (a checkpoint); `release` runs when the call ends. */
  send(data: Uint8Array, release?: () => void): Promise<void>;
  /** Closes the write side after the write in flight; later sends fail with `EPIPE`. Called once. */
  closeWrite(): Promise<void>;
  /** Closes for good: the waiting calls reject with `error`. */
  close(error: unknown): void;
  /** Gives the transport back (both busy slots held); throws a `TypeError` when bytes would be lost. */
  detach(): unknown;
}

const NOOP = (): void => {};

/** Tells an async iterator left early to `return()`, without waiting for it (its errors are dropped). */
function closeIterator(iterator: AsyncIterator<unknown>): void {
  try {
    iterator.return?.()?.then(undefined, NOOP);
  } catch {
    // A throwing return() changes nothing for the caller, who already has an error.
  }
}

/**
 * A connected TCP or TLS stream. Nothing is lost on cancellation: a cancelled
 * `recv` takes no bytes (the runtime read it started hands them to the next
 * call), and a cancelled `sendall` lets the write in flight finish before the
 * next one starts, so bytes keep their order.
 */
export class StreamSocket extends AsyncHalfCloseableStreamSocketAdapter {
  #io: StreamIo;
  /** The receive buffer, made by the first receive (an idle connection holds none). */
  #buffer: BufferedReader | null = null;
  #readable: ReadableStream<Uint8Array> | null = null;
  #writable: WritableStream<Uint8Array> | null = null;
  #raw: unknown;
  // The leak report describes the socket with its DESCRIBE method (no closure or bound function per socket).
  #state = new ResourceGuard("socket", this);
  /** The addresses, or the driver's function that reads one from `#raw` (on first use). */
  #local: SocketAddress | AddressOf;
  #remote: SocketAddress | AddressOf;
  #eof: Promise<void> | null = null;

  /** What the leak report calls the socket. */
  [DESCRIBE](): string {
    return `stream socket ${describeAddress(() => this.getLocalAddress())} -> ${
      describeAddress(() => this.getRemoteAddress())
    }`;
  }

  /**
   * Takes ownership of a connection.
   *
   * @param conn The connection, its addresses and runtime object (see {@linkcode StreamConn}).
   * @param mapError Gives a runtime error its POSIX `code`.
   */
  constructor(conn: StreamConn, mapError: (error: unknown) => unknown) {
    super();
    const state = this.#state;
    this.#io = conn.kind === "pull"
      ? new PullStreamIo(conn.conn, state, mapError)
      : new PushStreamIo(conn.socket, state, mapError);
    this.#raw = conn.raw ?? (conn.kind === "pull" ? conn.conn : conn.socket);
    this.#local = conn.local;
    this.#remote = conn.remote;
  }

  /**
   * Takes the transport back from `socket` (for a TLS upgrade): the adapter is
   * left closed, the transport open. Throws when a call is pending or received
   * bytes would be lost.
   *
   * @param socket A stream socket.
   */
  static detach(socket: StreamSocket): unknown {
    const state = socket.#state;
    state.acquire("recv");
    try {
      state.acquire("send");
    } catch (error) {
      state.release("recv");
      throw error;
    }
    try {
      if (socket.#eof !== null) throw new TypeError("The stream socket cannot be upgraded after sendEof()");
      if (socket.#buffer !== null && socket.#buffer.buffered > 0) {
        throw new TypeError("The stream socket cannot be upgraded: received bytes were not consumed");
      }
      const transport = socket.#io.detach();
      state.close();
      return transport;
    } finally {
      state.release("recv");
      state.release("send");
    }
  }

  /** The receive buffer, made on first use. */
  get #reader(): BufferedReader {
    return this.#buffer ??= new BufferedReader(this.#io.reader);
  }

  /** `true` once `aclose()` was called. */
  isClosing(): boolean {
    return this.#state.closing;
  }

  /** The local address. */
  getLocalAddress(): SocketAddress {
    let local = this.#local;
    if (typeof local === "function") local = this.#local = local(this.#raw);
    return { ...local };
  }

  /** The peer's address. */
  getRemoteAddress(): SocketAddress {
    let remote = this.#remote;
    if (typeof remote === "function") remote = this.#remote = remote(this.#raw);
    return { ...remote };
  }

  /** The runtime connection (Deno's `TcpConn` and `TlsConn`, Node's `net.Socket` and `tls.TLSSocket`). */
  socket(): unknown {
    return this.#raw;
  }

  /** Receives up to `bufsize` bytes; an empty array at end of stream, repeatedly. */
  recv(bufsize: number): Promise<Uint8Array> {
    try {
      assertBufsize(bufsize);
      this.#state.acquire("recv");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#reader.recv(bufsize, this.#state.releaseRecv);
  }

  /** Receives up to `buffer.length` bytes into `buffer` without allocating; `0` at end of stream. */
  override recvInto(buffer: Uint8Array): Promise<number> {
    try {
      assertRecvBuffer(buffer);
      this.#state.acquire("recv");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#reader.recvInto(buffer, this.#state.releaseRecv);
  }

  /** Sends every byte of `data`. */
  sendall(data: Uint8Array): Promise<void> {
    try {
      assertBytes(data);
      this.#state.acquire("send");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#io.send(data, this.#state.releaseSend);
  }

  /**
   * Sends every chunk in order, without joining them. An async iterable's
   * `next()` is awaited as a checkpoint: cancelled while it waits, the call
   * rejects and the chunk it then yields is not sent (the iterator is told to
   * `return()`, not awaited).
   */
  async sendallFromiter(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    const iterable = chunks as Partial<Iterable<Uint8Array> & AsyncIterable<Uint8Array>> | null;
    const sync = typeof iterable?.[Symbol.iterator] === "function";
    // One chunk (bytes or a string) is iterable too, of numbers or characters: name the mistake.
    const single = ArrayBuffer.isView(chunks) || typeof chunks === "string";
    if (single || (!sync && typeof iterable?.[Symbol.asyncIterator] !== "function")) {
      throw new TypeError(
        `The 'chunks' argument must be an iterable or async iterable of Uint8Array, got ${describe(chunks)}${
          single ? " (send a single chunk with sendall())" : ""
        }`,
      );
    }
    this.#state.acquire("send");
    try {
      let index = 0;
      if (sync) {
        for (const chunk of chunks as Iterable<Uint8Array>) {
          assertBytes(chunk, `chunks[${index++}]`);
          await this.#io.send(chunk);
        }
      } else {
        const iterator = (chunks as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
        let done = false;
        try {
          for (;;) {
            const step = await suspend<IteratorResult<Uint8Array>>((resolve, reject) => {
              iterator.next().then(resolve, reject);
            }, "send");
            if (step.done) break;
            assertBytes(step.value, `chunks[${index++}]`);
            await this.#io.send(step.value);
          }
          done = true;
        } finally {
          if (!done) closeIterator(iterator);
        }
      }
      if (index === 0) await this.#io.send(new Uint8Array(0));
    } finally {
      this.#state.release("send");
    }
  }

  /** Closes the write side after the bytes already sent; the peer reads end of stream. Idempotent. */
  async sendEof(): Promise<void> {
    this.#state.acquire("send");
    try {
      await this.#state.wait<void>((call) => {
        let sent = this.#eof;
        if (sent === null) {
          sent = this.#eof = this.#io.closeWrite();
          sent.catch(NOOP); // seen by every caller below; never unhandled
        }
        sent.then(() => call.wake(), (error) => call.fail(error));
      });
    } finally {
      this.#state.release("send");
    }
  }

  /** Closes the socket, waking pending calls with `ClosedResourceError`. Idempotent. */
  aclose(): Promise<void> {
    if (this.#state.close()) {
      this.#io.close(this.#state.closedError());
      this.#buffer?.clear();
    }
    return Promise.resolve();
  }

  // ---- Buffered reads and Web Streams ----

  /**
   * Receives exactly `n` bytes. Bytes received past them stay buffered for the
   * next receive. Cancelled, it loses nothing: what it received stays buffered.
   * Rejects with `IncompleteReadError` (its `partial` the bytes received, now
   * consumed) when the stream ends first.
   *
   * @param n How many bytes, a non-negative integer.
   */
  receiveExactly(n: number): Promise<Uint8Array> {
    try {
      assertCount(n, "n");
      this.#state.acquire("recv");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#reader.receiveExactly(n, this.#state.releaseRecv);
  }

  /**
   * Receives the bytes before the next `delimiter` and consumes the delimiter
   * (it is not part of the result). Bytes received past it stay buffered for
   * the next receive. Cancelled, it loses nothing: what it received stays
   * buffered. Rejects with `DelimiterNotFound` when the delimiter does not start
   * within the first `maxBytes` bytes (they stay buffered), and with
   * `IncompleteReadError` (its `partial` the bytes received, now consumed) when
   * the stream ends first.
   *
   * @param delimiter A non-empty `Uint8Array`, or a string (UTF-8 encoded).
   * @param maxBytes The most bytes before the delimiter (default 65 536).
   */
  receiveUntil(delimiter: Uint8Array | string, maxBytes: number = DEFAULT_MAX_BYTES): Promise<Uint8Array> {
    try {
      assertDelimiter(delimiter);
      assertCount(maxBytes, "maxBytes");
      this.#state.acquire("recv");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#reader.receiveUntil(delimiter, maxBytes, this.#state.releaseRecv);
  }

  /**
   * The receive side as a byte `ReadableStream`, the same object each time. It
   * shares this adapter's buffer and receive slot: read through it or with
   * `recv`, not both at once. A read runs in the stream's own cancel scope, not
   * the reader's (no task's cancellation stops it); cancelling the stream stops
   * the read in flight, which takes no byte, and leaves the socket open.
   */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= socketReadable(this, (bytes) => this.#reader.unread(bytes));
  }

  /**
   * The send side as a `WritableStream`, the same object each time. It shares
   * this adapter's send slot. Closing it calls `sendEof()`; aborting it stops
   * the write in flight as a cancelled `sendall` does. Neither closes the socket.
   */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= socketWritable(this);
  }
}
