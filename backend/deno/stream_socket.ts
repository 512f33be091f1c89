/**
 * The Deno stream socket adapter (TCP and TLS).
 *
 * @module
 */

import { AsyncHalfCloseableStreamSocketAdapter, type SocketAddress } from "../abc/socket.ts";
import { suspend } from "../common/checkpoint.ts";
import { assertBufsize, assertBytes } from "../common/net_validate.ts";
import { PullReader } from "../common/pull_reader.ts";
import { SocketState } from "../common/socket_state.ts";
import { describe } from "../common/validate.ts";
import { type ByteConn, denoError, toSocketAddress } from "./net.ts";

/** What a stream socket knows beyond its connection. */
export interface StreamSocketOptions {
  /** The runtime object returned by `socket()` (default: the connection). */
  raw?: unknown;
  /** Releases extra resources after the connection is closed (a TLS shim's transport). */
  onClose?: () => void;
  /** The addresses to report, when the connection does not know them (`Deno.startTls` loses the port). */
  addresses?: { local: Deno.Addr; remote: Deno.Addr };
}

/**
 * A connected TCP or TLS stream over a Deno connection.
 *
 * `recv` keeps the runtime read of a cancelled call in flight and hands its
 * bytes to the next call; `sendall` never joins chunks; a write cut short by
 * cancellation finishes before the next write starts, so the byte order holds.
 */
export class DenoStreamSocket extends AsyncHalfCloseableStreamSocketAdapter {
  #conn: ByteConn;
  #raw: unknown;
  #onClose: (() => void) | undefined;
  #state = new SocketState("socket");
  #reader: PullReader;
  #lastWrite: Promise<unknown> | null = null;
  #local: SocketAddress;
  #remote: SocketAddress;
  #eofSent = false;

  /**
   * Takes ownership of `conn`.
   *
   * @param conn The connection.
   * @param options The raw object and close hook.
   */
  constructor(conn: ByteConn, options: StreamSocketOptions = {}) {
    super();
    this.#conn = conn;
    this.#raw = options.raw ?? conn;
    this.#onClose = options.onClose;
    this.#local = toSocketAddress(options.addresses?.local ?? conn.localAddr);
    this.#remote = toSocketAddress(options.addresses?.remote ?? conn.remoteAddr);
    this.#reader = new PullReader({ read: (view) => conn.read(view), mapError: (error) => this.#mapError(error) });
  }

  /**
   * Takes the connection back from `socket` (for a TLS upgrade): the adapter is
   * left closed, the connection open. Throws when bytes were read ahead or a
   * read or write is in flight, since they would be lost.
   *
   * @param socket A stream socket of this backend.
   */
  static detach(socket: DenoStreamSocket): ByteConn {
    const state = socket.#state;
    state.checkOpen();
    if (!socket.#reader.idle || socket.#lastWrite !== null) {
      throw new TypeError(
        "The stream socket cannot be upgraded: a read or write is in flight, or received bytes were not consumed",
      );
    }
    state.close();
    return socket.#conn;
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

  /** The Deno connection (`Deno.TcpConn` or `Deno.TlsConn`). */
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
    return this.#reader.recv(bufsize, this.#state, this.#state.releaseRecv);
  }

  /** Receives up to `buffer.length` bytes into `buffer` without allocating; `0` at end of stream. */
  override recvInto(buffer: Uint8Array): Promise<number> {
    try {
      assertBytes(buffer, "buffer");
      if (buffer.length === 0) throw new RangeError("The 'buffer' argument must not be empty");
      this.#state.acquire("recv");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#reader.recvInto(buffer, this.#state, this.#state.releaseRecv);
  }

  /** Sends every byte of `data`. */
  sendall(data: Uint8Array): Promise<void> {
    try {
      assertBytes(data);
      this.#state.acquire("send");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#writeAll(data, this.#state.releaseSend);
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
        await this.#writeAll(chunk);
      }
      if (index === 0) await this.#writeAll(new Uint8Array(0));
    } finally {
      this.#state.release("send");
    }
  }

  /** Closes the write side; the peer reads end of stream. Idempotent. */
  async sendEof(): Promise<void> {
    this.#state.acquire("send");
    try {
      const previous = this.#lastWrite;
      await suspend<void>((resolve, reject) => {
        if (this.#eofSent) return resolve();
        const unregister = this.#state.onClose(reject);
        const run = () => this.#conn.closeWrite();
        const done = previous === null ? run() : previous.then(run);
        this.#eofSent = true;
        this.#lastWrite = done.catch(() => {});
        done.then(() => {
          unregister();
          resolve();
        }, (error) => {
          unregister();
          reject(this.#mapError(error));
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
      this.#reader.discard();
      try {
        this.#conn.close();
      } catch {
        // Already closed by the peer or the runtime.
      }
      this.#onClose?.();
    }
    return Promise.resolve();
  }

  /**
   * Writes every byte of `data` as one checkpoint: the runtime's partial writes
   * follow each other from the write's own reaction, with no promise of ours in
   * between. A cancelled call finishes the write in flight (later writes chain
   * behind it, so bytes keep their order) and starts no other.
   */
  #writeAll(data: Uint8Array, settled?: () => void): Promise<void> {
    return suspend<void>((resolve, reject) => {
      if (data.length === 0) return resolve();
      let offset = 0;
      let stopped = false;
      const unregister = this.#state.onClose(reject);
      const fail = (error: unknown): void => {
        unregister();
        reject(this.#mapError(error));
      };
      const write = (chunk: Uint8Array): void => {
        const previous = this.#lastWrite;
        const written = previous === null
          ? this.#conn.write(chunk)
          : previous.then(() => stopped ? 0 : this.#conn.write(chunk));
        const done: Promise<unknown> = written.then((n) => {
          if (this.#lastWrite === done) this.#lastWrite = null;
          // Cancelled, or woken by close: this write is done, start no other.
          if (stopped || this.#state.closing) return;
          offset += n;
          if (offset >= data.length) {
            unregister();
            resolve();
            return;
          }
          try {
            write(data.subarray(offset));
          } catch (error) {
            fail(error);
          }
        }, (error) => {
          if (this.#lastWrite === done) this.#lastWrite = null;
          fail(error);
        });
        this.#lastWrite = done;
      };
      try {
        write(data);
      } catch (error) {
        fail(error);
        return;
      }
      return () => {
        stopped = true;
        unregister();
      };
    }, settled);
  }

  #mapError(error: unknown): unknown {
    return this.#state.closing ? this.#state.closedError() : denoError(error);
  }
}
