/**
 * The stream socket adapter (TCP and TLS), written once over the runtime's
 * connection: a pull-model one ({@linkcode PullStreamIo}, Deno's `read`) or a
 * push-model one ({@linkcode PushStreamIo}, Node's `'data'` events).
 *
 * @module
 */

import { AsyncHalfCloseableStreamSocketAdapter, type SocketAddress } from "../abc/socket.ts";
import { describe } from "../_util/validate.ts";
import type { StreamConn } from "./driver.ts";
import { ResourceGuard } from "./guard.ts";
import { PullStreamIo } from "./pull_stream.ts";
import { PushStreamIo } from "./push_stream.ts";
import { assertBufsize, assertBytes, assertRecvBuffer } from "./validate.ts";

/** The receive side of a connection (each call holds the receive slot, given back by `release`). */
export interface StreamReader {
  /** Receives up to `bufsize` bytes (a checkpoint); `release` runs when the call ends. */
  recv(bufsize: number, release: () => void): Promise<Uint8Array>;
  /** Receives into `buffer` (a checkpoint); `release` runs when the call ends. */
  recvInto(buffer: Uint8Array, release: () => void): Promise<number>;
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

/**
 * A connected TCP or TLS stream. Nothing is lost on cancellation: a cancelled
 * `recv` takes no bytes (the runtime read it started hands them to the next
 * call), and a cancelled `sendall` lets the write in flight finish before the
 * next one starts, so bytes keep their order.
 */
export class StreamSocket extends AsyncHalfCloseableStreamSocketAdapter {
  #io: StreamIo;
  #reader: StreamReader;
  #raw: unknown;
  #state = new ResourceGuard("socket");
  #local: SocketAddress;
  #remote: SocketAddress;
  #eof: Promise<void> | null = null;

  /**
   * Takes ownership of a connection.
   *
   * @param conn The connection, its addresses and runtime object (see {@linkcode StreamConn}).
   * @param mapError Gives a runtime error its POSIX `code`.
   */
  constructor(conn: StreamConn, mapError: (error: unknown) => unknown) {
    super();
    const state = this.#state;
    const map = (error: unknown) => state.closing ? state.closedError() : mapError(error);
    this.#io = conn.kind === "pull"
      ? new PullStreamIo(conn.conn, state, map)
      : new PushStreamIo(conn.socket, state, map);
    this.#reader = this.#io.reader;
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
      const transport = socket.#io.detach();
      state.close();
      return transport;
    } finally {
      state.release("recv");
      state.release("send");
    }
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
        await this.#io.send(chunk);
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
    if (this.#state.close()) this.#io.close(this.#state.closedError());
    return Promise.resolve();
  }
}
