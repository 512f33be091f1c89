/**
 * The Deno stream socket adapter (TCP and TLS).
 *
 * @module
 */

import { AsyncHalfCloseableStreamSocketAdapter, type SocketAddress } from "../abc/socket.ts";
import { suspend } from "../_core/checkpoint.ts";
import { assertBufsize, assertBytes, assertRecvBuffer } from "../_net/validate.ts";
import { codedError } from "../_net/errors.ts";
import { ReusableWaiter } from "../_core/reusable_waiter.ts";
import { PullReader } from "../_net/pull_reader.ts";
import { ResourceGuard } from "../_net/guard.ts";
import { describe } from "../_util/validate.ts";
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
  #state = new ResourceGuard("socket");
  #reader: PullReader;
  // The send side: one reusable checkpoint, one runtime write in flight at a time.
  #sendSlot = new ReusableWaiter<void>(() => {
    // Cancelled: the write in flight finishes, no other starts for this call.
    this.#sendData = null;
    this.#writeIsCurrent = false;
  });
  #sendData: Uint8Array | null = null;
  #sendOffset = 0;
  #writing = false;
  /** Whether the write in flight belongs to the waiting call (not to one that was cancelled). */
  #writeIsCurrent = false;
  /** Run once no write is in flight and none follows. */
  #idle: (() => void)[] | null = null;
  #eofPending = false;
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
    this.#reader = new PullReader(
      { read: (view) => conn.read(view), mapError: (error) => this.#mapError(error) },
      this.#state,
    );
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
    if (!socket.#reader.idle || socket.#writing || socket.#eofPending) {
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
    return this.#reader.recv(bufsize);
  }

  /** Receives up to `buffer.length` bytes into `buffer` without allocating; `0` at end of stream. */
  override recvInto(buffer: Uint8Array): Promise<number> {
    try {
      assertRecvBuffer(buffer);
      this.#state.acquire("recv");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#reader.recvInto(buffer);
  }

  /** Sends every byte of `data`. */
  sendall(data: Uint8Array): Promise<void> {
    try {
      assertBytes(data);
      this.#state.acquire("send");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#send(data, this.#state.releaseSend);
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
        await this.#send(chunk);
      }
      if (index === 0) await this.#send(new Uint8Array(0));
    } finally {
      this.#state.release("send");
    }
  }

  /** Closes the write side; the peer reads end of stream. Idempotent. */
  async sendEof(): Promise<void> {
    this.#state.acquire("send");
    try {
      await suspend<void>((resolve, reject) => {
        if (this.#eofSent) return resolve();
        this.#eofSent = true;
        this.#eofPending = true;
        const unregister = this.#state.onClose(reject);
        // After the write in flight, if any (a cancelled sendall's): bytes keep their order.
        this.#whenIdle(() => {
          if (this.#state.closing) {
            this.#eofPending = false;
            return;
          }
          let done: Promise<void>;
          try {
            done = this.#conn.closeWrite();
          } catch (error) {
            done = Promise.reject(error);
          }
          done.then(() => {
            this.#eofPending = false;
            unregister();
            resolve();
          }, (error) => {
            this.#eofPending = false;
            unregister();
            reject(this.#mapError(error));
          });
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
      this.#reader.close(this.#state.closedError());
      this.#sendData = null;
      this.#sendSlot.reject(this.#state.closedError());
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
   * Sends every byte of `data` as one checkpoint: the runtime's partial writes
   * follow each other from pre-bound handlers, with nothing allocated per call
   * but its promise. A cancelled call finishes the write in flight and starts no
   * other; the next call starts after it, so bytes keep their order.
   */
  #send(data: Uint8Array, settled?: () => void): Promise<void> {
    const slot = this.#sendSlot;
    const promise = slot.begin(settled);
    if (!slot.waiting) return promise;
    if (this.#eofSent) {
      slot.reject(codedError("Cannot send after sendEof()", "EPIPE"));
    } else if (data.length === 0) {
      slot.resolve();
    } else {
      this.#sendData = data;
      this.#sendOffset = 0;
      if (!this.#writing) this.#writeNext();
      else this.#writeIsCurrent = false; // a cancelled call's write: ours starts after it
    }
    return promise;
  }

  #writeNext(): void {
    const data = this.#sendData!;
    const chunk = this.#sendOffset === 0 ? data : data.subarray(this.#sendOffset);
    this.#writing = true;
    this.#writeIsCurrent = true;
    let written: Promise<number>;
    try {
      written = this.#conn.write(chunk);
    } catch (error) {
      written = Promise.reject(error);
    }
    written.then(this.#onWritten, this.#onWriteFailed);
  }

  #onWritten = (n: number): void => {
    this.#writing = false;
    const data = this.#sendData;
    if (data !== null && !this.#state.closing) {
      if (this.#writeIsCurrent) {
        this.#sendOffset += n;
        if (this.#sendOffset >= data.length) {
          this.#sendData = null;
          this.#sendSlot.resolve();
          this.#runIdle();
          return;
        }
      }
      // The rest of this call, or the first write of a call that waited for a cancelled one's.
      this.#writeNext();
      return;
    }
    this.#runIdle();
  };

  #onWriteFailed = (error: unknown): void => {
    this.#writing = false;
    if (this.#sendData !== null && !this.#state.closing) {
      // Ours or a cancelled call's: either way the stream is broken.
      this.#sendData = null;
      this.#sendSlot.reject(this.#mapError(error));
    }
    this.#runIdle();
  };

  /** Runs `callback` once no write is in flight. */
  #whenIdle(callback: () => void): void {
    if (!this.#writing) callback();
    else (this.#idle ??= []).push(callback);
  }

  #runIdle(): void {
    const idle = this.#idle;
    if (idle === null) return;
    this.#idle = null;
    for (const callback of idle) callback();
  }

  #mapError(error: unknown): unknown {
    return this.#state.closing ? this.#state.closedError() : denoError(error);
  }
}
