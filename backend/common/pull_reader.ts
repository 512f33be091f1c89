/**
 * `recv` over a pull-model byte source (such as `Deno.Conn.read`), losing no
 * bytes when a receiver is cancelled.
 *
 * @module
 */

import { suspend } from "./checkpoint.ts";
import { InflightOperation } from "./inflight.ts";
import type { SocketState } from "./socket_state.ts";

/** Reads up to `size` bytes; resolves `null` at end of stream. */
export type ReadChunk = (size: number) => Promise<Uint8Array | null>;

const EMPTY = new Uint8Array(0);

/**
 * Receives from a pull-model source. The runtime read started by a cancelled
 * `recv` stays in flight and its bytes go to the next `recv`; bytes beyond that
 * call's `bufsize` are kept for the following ones. End of stream is sticky.
 */
export class PullReader {
  #read: ReadChunk;
  #op = new InflightOperation<Uint8Array | null>();
  #leftover: Uint8Array | null = null;
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
   */
  recv(bufsize: number, state: SocketState): Promise<Uint8Array> {
    if (this.#leftover !== null || this.#eof) {
      return suspend<Uint8Array>((resolve) => resolve(this.#take(bufsize)));
    }
    return this.#op.wait(() => this.#read(bufsize), state).then((chunk) => {
      if (chunk === null) {
        this.#eof = true;
        return EMPTY;
      }
      if (chunk.length <= bufsize) return chunk;
      this.#leftover = chunk.subarray(bufsize);
      return chunk.subarray(0, bufsize);
    });
  }

  /** Drops the in-flight read; call after closing. */
  discard(): void {
    this.#op.discard();
    this.#leftover = null;
  }

  #take(bufsize: number): Uint8Array {
    const leftover = this.#leftover;
    if (leftover === null) return EMPTY;
    if (leftover.length <= bufsize) {
      this.#leftover = null;
      return leftover;
    }
    this.#leftover = leftover.subarray(bufsize);
    return leftover.subarray(0, bufsize);
  }
}
