/**
 * `recv` over a pull-model byte source (such as a Deno connection's `read`), losing no
 * bytes when a receiver is cancelled.
 *
 * Why it looks like this: a runtime read cannot be taken back once started, so
 * a cancelled `recv` leaves its read in flight and the next call claims the
 * bytes ({@linkcode PullOperation}); and since a read per call is slow when the
 * peer streams, reads grow while they come back full and land in shared slabs,
 * the surplus kept for the next calls (details on {@linkcode PullReader}).
 *
 * @module
 */

import { PullOperation } from "./pull.ts";
import type { ResourceGuard } from "./guard.ts";

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

/** Most bytes one runtime read asks for while the peer streams (the Node adapter buffers as much). */
const MAX_READ = 256 * 1024;

/**
 * Most bytes a read asks for, and the largest buffer the reader keeps, while
 * the peer does not stream: what an idle connection holds.
 */
const IDLE_READ = 64 * 1024;

/** A `recv` result that is a view of a slab is copied when the slab is more than this many times its size. */
const MAX_PIN_RATIO = 16;

/**
 * `length` bytes of `bytes` from `start`, as a view: what `subarray` does, for
 * the reader's own buffers, without its species lookup (this is the hot path).
 */
function part(bytes: Uint8Array, start: number, length: number): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset + start, length);
}

/** What the waiting call wants. */
const enum Mode {
  Recv,
  RecvInto,
}

/** Where a read's bytes land. */
const enum Where {
  /** The scratch buffer (reused by the next read). */
  Scratch,
  /** The current slab (never written again once read into). */
  Slab,
  /** The buffer of a {@linkcode PullReader.fill} call (its owner's: never handed out by this reader). */
  Direct,
}

/**
 * Receives from a pull-model source. The runtime read started by a cancelled
 * call stays in flight and its bytes go to the next call; bytes beyond that
 * call's size are kept for the following ones. End of stream is sticky.
 *
 * How much one read asks for: the caller's size (at most 64 KiB), and while
 * reads come back full (the peer streams) twice the last read, up to 256 KiB;
 * the bytes beyond the caller's size are kept for the next calls. A streaming
 * connection so makes one runtime read per several calls, which pays for the
 * copy below.
 *
 * Where the bytes land: while the peer streams, `recv` reads into slabs, each
 * read filling the next free part of the current slab and returning a view of
 * it, so it neither copies nor allocates a fresh buffer per call (a fresh 64 KiB
 * `Uint8Array` per read costs more than the read in V8); each slab is twice the last, from the
 * read's size up to 1 MiB.
 * A small result is copied out of a slab more than 16 times its size, so a kept
 * result never pins much more than itself. Otherwise (the peer does not
 * stream: the last read was not full) a read goes into one scratch buffer of at
 * most 64 KiB and `recv` copies out exactly the bytes it returns, or, when they
 * fill at least half the buffer, takes the buffer itself (no copy; the next read
 * gets a fresh one): a result never pins more than twice its bytes. `recvInto`
 * always reads into the scratch buffer and copies into the caller's: a read
 * started by a cancelled call goes on, and must not write into a buffer its
 * caller has taken back. Such a read fills as much of the scratch buffer as the
 * socket has (the buffer is never smaller than the read's size).
 * `fill` is `recvInto` for a buffer whose owner never hands it out while a
 * read may write into it (the buffered reader's free room): its read goes
 * straight into that buffer, and a cancelled fill's bytes, claimed by another
 * call, are copied out of it.
 *
 * What an idle connection keeps: a read that does not start while the peer
 * streams lets the slab go and a scratch buffer larger than 64 KiB with it, so
 * an idle connection (its read waits) holds at most 64 KiB.
 *
 * The hot path allocates nothing but the call's promise (see
 * {@linkcode PullOperation}).
 */
export class PullReader {
  #source: ByteSource;
  #release: () => void;
  /** The runtime read, outliving a cancelled call; resolves what the waiting call wants. */
  #op: PullOperation<number | null, unknown>;
  /** The view the read in flight (or its unclaimed result) fills. */
  #opView: Uint8Array = EMPTY;
  /** Where that view is. */
  #opWhere: Where = Where.Scratch;
  #leftover: Uint8Array | null = null;
  /** Where the leftover bytes live (never `Direct`: such bytes are copied out). */
  #leftoverWhere: Where = Where.Scratch;
  #eof = false;
  #slab: Uint8Array = EMPTY;
  #slabOffset = 0;
  /** The size of the next read beyond the caller's (`0`: just the caller's): grows while reads come back full. */
  #readAhead = 0;
  #scratch: Uint8Array = EMPTY;
  // The waiting call.
  #mode: Mode = Mode.Recv;
  #size = 0;
  #target: Uint8Array = EMPTY;
  /** Whether the waiting call is a {@linkcode fill}: its read goes straight into its buffer. */
  #direct = false;

  /**
   * @param source The runtime's read and error mapping.
   * @param state The adapter's guard: each call gives its receive slot back when it ends.
   */
  constructor(source: ByteSource, state: ResourceGuard) {
    this.#source = source;
    this.#release = state.releaseRecv;
    this.#op = new PullOperation<number | null, unknown>({
      start: () => this.#start(),
      deliver: (n) => this.#deliver(n),
      mapError: (error) => source.mapError(error),
      // The read goes on; its result waits for the next call.
      onAbort: () => this.#target = EMPTY,
    });
  }

  /** `true` when no runtime read is in flight and no byte is kept: the source can change hands. */
  get idle(): boolean {
    return !this.#op.pending && this.#leftover === null;
  }

  /** Bytes of buffer the reader itself holds for its reads (scratch buffer and slab): for tests and diagnostics. */
  get retainedBytes(): number {
    return this.#scratch.buffer.byteLength + this.#slab.buffer.byteLength;
  }

  /** `true` once end of stream was reached. */
  get eof(): boolean {
    return this.#eof && this.#leftover === null;
  }

  /**
   * Receives up to `bufsize` bytes (a checkpoint); an empty array at end of stream.
   * The caller holds the receive slot, given back when the call ends.
   *
   * @param bufsize The most bytes to return, a positive integer.
   * @param release Gives the receive slot back when the call ends (default: the guard's).
   */
  recv(bufsize: number, release: () => void = this.#release): Promise<Uint8Array> {
    const promise = this.#op.begin(release) as Promise<Uint8Array>;
    if (this.#op.waiting) {
      this.#mode = Mode.Recv;
      this.#size = bufsize;
      this.#direct = false;
      this.#serve();
    }
    return promise;
  }

  /**
   * Receives up to `buffer.length` bytes into `buffer` (a checkpoint), without
   * allocating: resolves the count, `0` at end of stream. The caller holds the
   * receive slot, given back when the call ends.
   *
   * @param buffer Where to put the bytes; not empty.
   * @param release Gives the receive slot back when the call ends (default: the guard's).
   */
  recvInto(buffer: Uint8Array, release: () => void = this.#release): Promise<number> {
    return this.#into(buffer, release, false);
  }

  /**
   * {@linkcode recvInto} for a buffer that its caller owns and hands to no one
   * else while a read may write into it (the buffered reader's free room): the
   * runtime read goes straight into `buffer`, with no copy. Cancelled, the call
   * takes no byte, but its read goes on and may still write into `buffer`; the
   * next call claims those bytes (copied into its own target unless that is
   * where they already are). Kept bytes, if any, are copied into `buffer`
   * first, as by `recvInto`.
   *
   * @param buffer Where to read; not empty, and not given out while a read may be in flight.
   * @param release Gives the receive slot back when the call ends (default: the guard's).
   */
  fill(buffer: Uint8Array, release: () => void = this.#release): Promise<number> {
    return this.#into(buffer, release, true);
  }

  /** `recvInto` (`direct` false) or `fill` (true): the runtime read goes straight into `buffer` only for a fill. */
  #into(buffer: Uint8Array, release: () => void, direct: boolean): Promise<number> {
    const promise = this.#op.begin(release) as Promise<number>;
    if (this.#op.waiting) {
      this.#mode = Mode.RecvInto;
      this.#size = buffer.length;
      this.#target = buffer;
      this.#direct = direct;
      this.#serve();
    }
    return promise;
  }

  /**
   * Stops for good (call on close): the waiting call rejects with `error`, a read
   * in flight is forgotten, kept bytes are dropped.
   *
   * @param error What the waiting call rejects with (the adapter's `ClosedResourceError`).
   */
  close(error: unknown): void {
    this.#leftover = null;
    this.#target = EMPTY;
    this.#op.close(error);
  }

  /** Answers the waiting call from kept bytes (or end of stream), else from the read. */
  #serve(): void {
    if (this.#leftover !== null || this.#eof) {
      const where = this.#leftoverWhere;
      this.#op.resolve(this.#answer(this.#take(this.#size), where));
    } else {
      this.#op.run();
    }
  }

  /** What the waiting call resolves for `chunk` (empty: end of stream). */
  #answer(chunk: Uint8Array, where: Where): unknown {
    if (this.#mode === Mode.RecvInto) {
      const target = this.#target;
      this.#target = EMPTY;
      // A fill's own read is where its bytes belong already.
      if (chunk.buffer !== target.buffer || chunk.byteOffset !== target.byteOffset) target.set(chunk);
      return chunk.length;
    }
    if (chunk.length === 0) return chunk;
    // A cancelled fill's bytes, in memory this reader does not own.
    if (where === Where.Direct) return chunk.slice();
    if (where === Where.Scratch) {
      if (2 * chunk.length < chunk.buffer.byteLength) return chunk.slice();
      // At least half the buffer: handed over as it is (no copy); the next read gets a fresh one.
      if (chunk.buffer === this.#scratch.buffer) this.#scratch = EMPTY;
      return chunk;
    }
    return chunk.length * MAX_PIN_RATIO < chunk.buffer.byteLength ? chunk.slice() : chunk;
  }

  /** What the waiting call resolves for a finished read of `n` bytes (`null`: end of stream). */
  #deliver(n: number | null): unknown {
    const where = this.#opWhere;
    if (where === Where.Direct && n !== null && this.#opView === this.#target) {
      // The hot path of a fill: its own read, already where the bytes belong (what #claim, #keep and
      // #answer do for it, without a view of the bytes).
      this.#readAhead = n === this.#target.length ? Math.min(2 * n, MAX_READ) : 0;
      this.#opView = this.#target = EMPTY;
      return n;
    }
    const chunk = this.#claim(n);
    if (chunk === null) return this.#answer(EMPTY, Where.Scratch);
    return this.#answer(this.#keep(chunk, this.#size, where), where);
  }

  /** Starts a runtime read of the waiting call's size or more, into the scratch buffer (`recvInto`) or the slab. */
  #start(): Promise<number | null> {
    const streaming = this.#readAhead > 0;
    if (this.#direct) {
      if (!streaming) this.#idleTrim();
      // The whole of the caller's buffer: the read never asks for more than it holds.
      this.#opView = this.#target;
      this.#opWhere = Where.Direct;
      return this.#source.read(this.#target);
    }
    let size = this.#size;
    if (!streaming) {
      if (size > IDLE_READ) size = IDLE_READ;
    } else {
      if (size < this.#readAhead) size = this.#readAhead;
      // recv(bufsize) reads into a slab it allocates: a huge bufsize (any safe integer is valid) reads at
      // most a slab's worth. (recvInto reads the size of the buffer the caller allocated.)
      if (size > MAX_SLAB && this.#mode !== Mode.RecvInto) size = MAX_SLAB;
    }
    const scratch = this.#mode === Mode.RecvInto || !streaming;
    let view: Uint8Array;
    if (scratch) {
      if (!streaming) this.#idleTrim();
      if (this.#scratch.length < size) this.#scratch = new Uint8Array(size);
      // The whole of it: a read never asks for less than the buffer it fills holds.
      view = this.#scratch;
    } else {
      if (this.#slab.length - this.#slabOffset < size) {
        // Each slab twice the last (the first just the read), up to 1 MiB: a short stream does not cost
        // 1 MiB per connection (thousands of them made V8 collect garbage nonstop).
        this.#slab = new Uint8Array(Math.max(size, Math.min(2 * this.#slab.length, MAX_SLAB)));
        this.#slabOffset = 0;
      }
      view = part(this.#slab, this.#slabOffset, size);
    }
    this.#opView = view;
    this.#opWhere = scratch ? Where.Scratch : Where.Slab;
    return this.#source.read(view);
  }

  /** The peer may have gone quiet: the read about to start may wait long, keep no more than 64 KiB meanwhile. */
  #idleTrim(): void {
    this.#slab = EMPTY;
    this.#slabOffset = 0;
    if (this.#scratch.length > IDLE_READ) this.#scratch = EMPTY;
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
    if (n === view.length) {
      this.#readAhead = Math.min(2 * n, MAX_READ);
    } else {
      this.#readAhead = 0;
    }
    if (this.#opWhere === Where.Slab) this.#slabOffset += n;
    this.#leftoverWhere = this.#opWhere;
    return n === view.length ? view : part(view, 0, n);
  }

  /**
   * Returns the first `size` bytes of a fresh chunk and keeps the rest (a copy
   * of them when the chunk is in a fill's buffer, which this reader does not own).
   */
  #keep(chunk: Uint8Array, size: number, where: Where): Uint8Array {
    if (chunk.length <= size) return chunk;
    if (where === Where.Direct) {
      this.#leftover = chunk.slice(size);
      this.#leftoverWhere = Where.Slab;
    } else {
      this.#leftover = part(chunk, size, chunk.length - size);
    }
    return part(chunk, 0, size);
  }

  #take(size: number): Uint8Array {
    const leftover = this.#leftover;
    if (leftover === null) return EMPTY;
    if (leftover.length <= size) {
      this.#leftover = null;
      return leftover;
    }
    this.#leftover = part(leftover, size, leftover.length - size);
    return part(leftover, 0, size);
  }
}
