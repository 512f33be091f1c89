/**
 * `recv` over a pull-model byte source (such as `Deno.Conn.read`), losing no
 * bytes when a receiver is cancelled.
 *
 * @module
 */

import { suspend } from "./checkpoint.ts";
import { InflightOperation } from "./inflight.ts";
import type { SocketState } from "./socket_state.ts";

/** A pull-model byte source. */
export interface ByteSource {
  /** Reads into `view`; resolves the count, `null` at end of stream. */
  read(view: Uint8Array): Promise<number | null>;
  /** The error a failed read rejects the receiver with (a POSIX code, or `ClosedResourceError` once closed). */
  mapError(error: unknown): unknown;
}

const EMPTY = new Uint8Array(0);

/** Largest read slab: reads of a streaming connection share slabs up to this size. */
const MAX_SLAB = 1024 * 1024;

/**
 * Receives from a pull-model source. The runtime read started by a cancelled
 * call stays in flight and its bytes go to the next call; bytes beyond that
 * call's size are kept for the following ones. End of stream is sticky.
 *
 * Where the bytes land: `recv` reads into slabs, each read filling the next free
 * part of the current slab and returning a view of it, so it neither copies nor
 * allocates a fresh buffer per call (a fresh 64 KiB `Uint8Array` per read costs
 * more than the read in V8). Slabs grow to 1 MiB only while reads come back
 * full (streaming); otherwise a slab is just the requested size. `recvInto`
 * reads into one scratch buffer and copies into the caller's: a read started by
 * a cancelled call goes on, and must not write into a buffer its caller has
 * taken back.
 */
export class PullReader {
  #source: ByteSource;
  #op: InflightOperation<number | null>;
  /** The view the read in flight (or its unclaimed result) fills. */
  #opView: Uint8Array = EMPTY;
  /** Whether that view is in the scratch buffer. */
  #opScratch = false;
  #leftover: Uint8Array | null = null;
  /** Whether the leftover bytes live in the scratch buffer. */
  #leftoverScratch = false;
  #eof = false;
  #slab: Uint8Array = EMPTY;
  #slabOffset = 0;
  #streaming = false;
  #scratch: Uint8Array = EMPTY;

  /** @param source The runtime's read and error mapping. */
  constructor(source: ByteSource) {
    this.#source = source;
    this.#op = new InflightOperation<number | null>(source.mapError);
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
    return this.#op.wait(() => this.#start(bufsize, false), state, (n) => {
      const chunk = this.#claim(n);
      if (chunk === null) return EMPTY;
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
    return this.#op.wait(() => this.#start(buffer.length, true), state, (n) => {
      const chunk = this.#claim(n);
      if (chunk === null) return 0;
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

  /** Starts a runtime read of up to `size` bytes into the scratch buffer or the slab. */
  #start(size: number, scratch: boolean): Promise<number | null> {
    let view: Uint8Array;
    if (scratch) {
      if (this.#scratch.length < size) this.#scratch = new Uint8Array(size);
      view = this.#scratch.length === size ? this.#scratch : this.#scratch.subarray(0, size);
    } else {
      if (this.#slab.length - this.#slabOffset < size) {
        this.#slab = new Uint8Array(this.#streaming ? Math.max(size, Math.min(16 * size, MAX_SLAB)) : size);
        this.#slabOffset = 0;
      }
      view = this.#slab.subarray(this.#slabOffset, this.#slabOffset + size);
    }
    this.#opView = view;
    this.#opScratch = scratch;
    return this.#source.read(view);
  }

  /**
   * Takes in the result of the read (when a call claims it; no other read starts
   * before): `null` at end of stream, else the bytes, with the slab advanced.
   */
  #claim(n: number | null): Uint8Array | null {
    const view = this.#opView;
    this.#opView = EMPTY;
    if (n === null) {
      this.#eof = true;
      return null;
    }
    if (!this.#opScratch) {
      this.#streaming = n === view.length;
      this.#slabOffset += n;
    }
    this.#leftoverScratch = this.#opScratch;
    return n === view.length ? view : view.subarray(0, n);
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
