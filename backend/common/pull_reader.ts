/**
 * `recv` over a pull-model byte source (such as `Deno.Conn.read`), losing no
 * bytes when a receiver is cancelled.
 *
 * @module
 */

import { suspend } from "./checkpoint.ts";
import { InflightOperation } from "./inflight.ts";
import type { SocketState } from "./socket_state.ts";

/**
 * Reads up to `size` bytes; resolves `null` at end of stream. With `scratch`,
 * the bytes may sit in a buffer that the next read reuses (the reader copies
 * them out first); otherwise they must be the caller's to keep.
 */
export type ReadChunk = (size: number, scratch: boolean) => Promise<Uint8Array | null>;

const EMPTY = new Uint8Array(0);

/**
 * Receives from a pull-model source. The runtime read started by a cancelled
 * call stays in flight and its bytes go to the next call; bytes beyond that
 * call's size are kept for the following ones. End of stream is sticky.
 */
export class PullReader {
  #read: ReadChunk;
  #op = new InflightOperation<Uint8Array | null>();
  /** Whether the read in flight (or its unclaimed result) uses the scratch buffer. */
  #opScratch = false;
  #leftover: Uint8Array | null = null;
  /** Whether the leftover bytes live in the scratch buffer. */
  #leftoverScratch = false;
  #eof = false;

  /** @param read The runtime read. */
  constructor(read: ReadChunk) {
    this.#read = read;
  }

  /** `true` when no runtime read is in flight and no byte is kept: the source can change hands. */
  get idle(): boolean {
    return !this.#op.pending && this.#leftover === null;
  }

  /** `true` once end of stream was reached. */
  get eof(): boolean {
    return this.#eof && this.#leftover === null;
  }

  /**
   * Receives up to `bufsize` bytes (a checkpoint); an empty array at end of stream.
   * The caller holds the receive slot of `state`.
   *
   * @param bufsize The most bytes to return, a positive integer.
   * @param state The adapter's guard, whose closing wakes the call.
   * @param settled Called once when the call ends, however it ends (gives the slot back).
   */
  recv(bufsize: number, state: SocketState, settled?: () => void): Promise<Uint8Array> {
    if (this.#leftover !== null || this.#eof) {
      return suspend<Uint8Array>((resolve) => {
        const scratch = this.#leftoverScratch;
        const chunk = this.#take(bufsize);
        resolve(scratch ? chunk.slice() : chunk);
      }, settled);
    }
    return this.#op.wait(() => this.#start(bufsize, false), state, (chunk) => {
      if (!this.#claim(chunk)) return EMPTY;
      const scratch = this.#leftoverScratch;
      const out = this.#keep(chunk, bufsize);
      return scratch ? out.slice() : out;
    }, settled);
  }

  /**
   * Receives up to `buffer.length` bytes into `buffer` (a checkpoint), without
   * allocating: resolves the count, `0` at end of stream. The caller holds the
   * receive slot of `state`.
   *
   * @param buffer Where to put the bytes; not empty.
   * @param state The adapter's guard, whose closing wakes the call.
   * @param settled Called once when the call ends, however it ends (gives the slot back).
   */
  recvInto(buffer: Uint8Array, state: SocketState, settled?: () => void): Promise<number> {
    if (this.#leftover !== null || this.#eof) {
      return suspend<number>((resolve) => {
        const chunk = this.#take(buffer.length);
        buffer.set(chunk);
        resolve(chunk.length);
      }, settled);
    }
    return this.#op.wait(() => this.#start(buffer.length, true), state, (chunk) => {
      if (!this.#claim(chunk)) return 0;
      const out = this.#keep(chunk, buffer.length);
      buffer.set(out);
      return out.length;
    }, settled);
  }

  /** Drops the in-flight read; call after closing. */
  discard(): void {
    this.#op.discard();
    this.#leftover = null;
  }

  #start(size: number, scratch: boolean): Promise<Uint8Array | null> {
    this.#opScratch = scratch;
    return this.#read(size, scratch);
  }

  /** Takes in the result of a read: notes end of stream (`false`) or where the bytes live. */
  #claim(chunk: Uint8Array | null): chunk is Uint8Array {
    if (chunk === null) {
      this.#eof = true;
      return false;
    }
    this.#leftoverScratch = this.#opScratch;
    return true;
  }

  /** Returns the first `size` bytes of a fresh chunk and keeps the rest. */
  #keep(chunk: Uint8Array, size: number): Uint8Array {
    if (chunk.length <= size) return chunk;
    this.#leftover = chunk.subarray(size);
    return chunk.subarray(0, size);
  }

  #take(size: number): Uint8Array {
    const leftover = this.#leftover;
    if (leftover === null) return EMPTY;
    if (leftover.length <= size) {
      this.#leftover = null;
      return leftover;
    }
    this.#leftover = leftover.subarray(size);
    return leftover.subarray(0, size);
  }
}
