/**
 * The I/O of a pull-model connection (Deno's `read`/`write`): receives through a
 * {@linkcode PullReader}, sends with a chain of partial writes.
 *
 * Why the send side looks like this: a runtime write cannot be taken back, so a
 * `sendall` cancelled mid-way lets the write in flight finish and starts no
 * other for that call; the next call's first write starts after it, so bytes
 * keep their order and none is sent twice. The partial writes follow each other
 * from pre-bound handlers on one reusable waiter: nothing is allocated per call
 * but its promise.
 *
 * @module
 */

import { ReusableWaiter } from "../_core/reusable_waiter.ts";
import type { ByteConn } from "./driver.ts";
import { codedError } from "./errors.ts";
import type { ResourceGuard } from "./guard.ts";
import { type ByteSource, PullReader } from "./pull_reader.ts";
import type { StreamIo } from "./stream_socket.ts";

/**
 * {@linkcode StreamIo} over a {@linkcode ByteConn}; it is its reader's
 * {@linkcode ByteSource} too. The reader, the send side's waiter and the write
 * handlers are made by the first receive and the first send: an idle
 * connection holds this object and its connection, nothing more.
 */
export class PullStreamIo implements StreamIo, ByteSource {
  #conn: ByteConn;
  #state: ResourceGuard;
  #mapRuntimeError: (error: unknown) => unknown;
  #pullReader: PullReader | null = null;
  // The send side: one reusable checkpoint, one runtime write in flight at a time.
  #slot: ReusableWaiter<void> | null = null;
  #onWritten: ((n: number) => void) | null = null;
  #onWriteFailed: ((error: unknown) => void) | null = null;
  #sendData: Uint8Array | null = null;
  #sendOffset = 0;
  #writing = false;
  /** Whether the write in flight belongs to the waiting call (not to one that was cancelled). */
  #writeIsCurrent = false;
  /** Run once no write is in flight and none follows. */
  #idle: (() => void)[] | null = null;
  #eofSent = false;
  #eofPending = false;

  /**
   * @param conn The connection, owned from now on.
   * @param state The adapter's guard.
   * @param mapError The error a failed runtime call rejects with.
   */
  constructor(conn: ByteConn, state: ResourceGuard, mapError: (error: unknown) => unknown) {
    this.#conn = conn;
    this.#state = state;
    this.#mapRuntimeError = mapError;
  }

  /** The {@linkcode PullReader} (it gives the guard's receive slot back itself), made on first use. */
  get reader(): PullReader {
    return this.#pullReader ??= new PullReader(this, this.#state);
  }

  /** Reads into `view` (the reader's {@linkcode ByteSource}). */
  read(view: Uint8Array): Promise<number | null> {
    return this.#conn.read(view);
  }

  /** The error a failed runtime call rejects with: `ClosedResourceError` once closed, else the runtime's, coded. */
  mapError(error: unknown): unknown {
    return this.#state.closing ? this.#state.closedError() : this.#mapRuntimeError(error);
  }

  /** The send side's waiter, made by the first send. */
  get #sendSlot(): ReusableWaiter<void> {
    return this.#slot ??= new ReusableWaiter<void>(() => {
      // Cancelled: the write in flight finishes, no other starts for this call.
      this.#sendData = null;
      this.#writeIsCurrent = false;
    }, "send");
  }

  detach(): unknown {
    if ((this.#pullReader !== null && !this.#pullReader.idle) || this.#writing || this.#eofPending) {
      throw new TypeError(
        "The stream socket cannot be upgraded: a read or write is in flight, or received bytes were not consumed",
      );
    }
    return this.#conn;
  }

  closeWrite(): Promise<void> {
    this.#eofSent = true;
    this.#eofPending = true;
    return new Promise<void>((resolve, reject) => {
      // After the write in flight, if any (a cancelled sendall's): bytes keep their order.
      this.#whenIdle(() => {
        if (this.#state.closing) {
          this.#eofPending = false;
          return resolve();
        }
        let done: Promise<void>;
        try {
          done = this.#conn.closeWrite();
        } catch (error) {
          done = Promise.reject(error);
        }
        done.then(() => {
          this.#eofPending = false;
          resolve();
        }, (error) => {
          this.#eofPending = false;
          reject(this.mapError(error));
        });
      });
    });
  }

  close(error: unknown): void {
    this.#pullReader?.close(error);
    this.#sendData = null;
    this.#slot?.reject(error);
    try {
      this.#conn.close();
    } catch {
      // Already closed by the peer or the runtime.
    }
  }

  /**
   * Sends every byte of `data` as one checkpoint. A cancelled call finishes the
   * write in flight and starts no other; the next call starts after it.
   */
  send(data: Uint8Array, settled?: () => void): Promise<void> {
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
    written.then(
      this.#onWritten ??= (n) => this.#written(n),
      this.#onWriteFailed ??= (error) => this.#writeFailed(error),
    );
  }

  #written(n: number): void {
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
  }

  #writeFailed(error: unknown): void {
    this.#writing = false;
    if (this.#sendData !== null && !this.#state.closing) {
      // Ours or a cancelled call's: either way the stream is broken.
      this.#sendData = null;
      this.#sendSlot.reject(this.mapError(error));
    }
    this.#runIdle();
  }

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
}
