/**
 * Buffered reads over a stream's receive side: `receiveExactly(n)` and
 * `receiveUntil(delimiter, maxBytes)`, written once for every stream adapter
 * (AnyIO's `BufferedByteReceiveStream`, asyncio's `readexactly`/`readuntil`).
 *
 * Why it looks like this: the bytes read past what a call returns must reach
 * the next receive, whichever it is, so the buffer sits in front of the
 * runtime reader and `recv`/`recvInto` drain it first; while it is empty they
 * go straight to the runtime reader (no cost on their hot path). The buffer is
 * filled with the reader's own `recvInto`, which takes no byte when it is
 * cancelled, so a cancelled `receiveUntil` leaves every byte it read buffered.
 * A call answered from the buffer is still a checkpoint (it rejects in a
 * cancelled scope), but allocates no promise chain: the common case of a
 * line parser (the next line is already buffered) costs a search, a view and
 * a resolved promise.
 *
 * On a pull-model connection (Deno) the runtime read goes straight into the
 * buffer's free room (`StreamReader.fill`): a cancelled fill's read may still
 * write there, which is safe because that room is never handed out before a
 * later read claims those bytes.
 *
 * The buffer is append-only: a region handed out as a view is never written
 * again (a buffer that runs out of room is replaced, the unread bytes copied),
 * so results stay valid for good. `receiveExactly` and `receiveUntil` return
 * views of it, which pin the buffer (64 KiB, or what the call needed) while
 * they live: a fresh small `Uint8Array` costs about a microsecond in V8 on
 * Deno, more than the rest of a `receiveUntil` answered from the buffer, and
 * a line parser keeps few of its lines. `recv` copies a result from it that
 * is less than 1/16 of the buffer, as the pull reader does.
 *
 * @module
 */

import { cancelledNow } from "../_core/checkpoint.ts";
import { describe } from "../_util/validate.ts";
import { DelimiterNotFound, IncompleteReadError } from "../errors.ts";
import type { StreamReader } from "./stream_socket.ts";

const EMPTY = new Uint8Array(0);
const NOOP = (): void => {};

/** The size of a fresh buffer (more when a call needs more). */
const CHUNK = 64 * 1024;

/** A fill asks for at least this much room (a buffer with less left is replaced). */
const MIN_READ = 4096;

/** A result that is a view of a buffer is copied when the buffer is more than this many times its size. */
const MAX_PIN_RATIO = 16;

/** The default `maxBytes` of `receiveUntil` (asyncio's default limit). */
export const DEFAULT_MAX_BYTES = 65536;

/** Throws unless `value` is a non-negative safe integer (`n`, `maxBytes`). */
export function assertCount(value: unknown, name: string): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`The '${name}' argument must be a number, got ${describe(value)}`);
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`The '${name}' argument must be a non-negative integer, got ${value}`);
  }
}

/** Throws unless `value` is a delimiter: a non-empty `Uint8Array` or string. */
export function assertDelimiter(value: unknown): asserts value is Uint8Array | string {
  if (typeof value !== "string" && !(value instanceof Uint8Array)) {
    throw new TypeError(`The 'delimiter' argument must be a Uint8Array or a string, got ${describe(value)}`);
  }
  if (value.length === 0) throw new RangeError("The 'delimiter' argument must not be empty");
}

/** The index of `delimiter` in `data` at or after `from`, or `-1`. */
function find(data: Uint8Array, delimiter: Uint8Array, from: number): number {
  const first = delimiter[0];
  const length = delimiter.length;
  if (length === 1) return data.indexOf(first, from);
  const last = data.length - length;
  for (let i = data.indexOf(first, from); i !== -1 && i <= last; i = data.indexOf(first, i + 1)) {
    let j = 1;
    while (j < length && data[i + j] === delimiter[j]) j++;
    if (j === length) return i;
  }
  return -1;
}

/**
 * The receive buffer of a stream adapter, in front of its {@linkcode StreamReader}.
 * The adapter holds the receive slot around every call (`release` gives it back).
 */
export class BufferedReader {
  #reader: StreamReader;
  /** The buffer's filled part: bytes `#start` to the end are unread. */
  #data: Uint8Array = EMPTY;
  /** The whole buffer (`#data` is its first `#data.length` bytes). */
  #buffer: Uint8Array = EMPTY;
  #start = 0;
  /** Whether a view of `#buffer` was handed out (then its read part is never reused). */
  #lent = false;
  #eof = false;
  #delimiterText = "";
  #delimiterBytes: Uint8Array = EMPTY;
  /** The buffer and offset of the read in flight. */
  #fillBuffer: Uint8Array = EMPTY;
  #fillEnd = 0;

  /** @param reader The runtime reader. */
  constructor(reader: StreamReader) {
    this.#reader = reader;
  }

  /** The number of unread buffered bytes. */
  get buffered(): number {
    return this.#data.length - this.#start;
  }

  /**
   * Puts `bytes` back in front of the unread ones (copied): for a Web Stream
   * read that finished just as its stream was cancelled.
   */
  unread(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const unread = this.buffered;
    const fresh = new Uint8Array(Math.max(CHUNK, bytes.length + unread));
    fresh.set(bytes);
    fresh.set(new Uint8Array(this.#data.buffer, this.#data.byteOffset + this.#start, unread), bytes.length);
    this.#buffer = fresh;
    this.#data = new Uint8Array(fresh.buffer, 0, bytes.length + unread);
    this.#start = 0;
    this.#lent = false;
  }

  /** Drops the buffered bytes (on close). */
  clear(): void {
    this.#data = this.#buffer = EMPTY;
    this.#start = 0;
  }

  /** `recv`: from the buffer when it holds bytes, else from the reader. */
  recv(bufsize: number, release: () => void): Promise<Uint8Array> {
    if (this.#start === this.#data.length) return this.#reader.recv(bufsize, release);
    release();
    const cancelled = cancelledNow();
    if (cancelled !== undefined) return Promise.reject(cancelled);
    const n = Math.min(bufsize, this.buffered);
    return Promise.resolve(this.#take(n, n * MAX_PIN_RATIO < this.#buffer.length));
  }

  /** `recvInto`: from the buffer when it holds bytes, else from the reader. */
  recvInto(target: Uint8Array, release: () => void): Promise<number> {
    if (this.#start === this.#data.length) return this.#reader.recvInto(target, release);
    release();
    const cancelled = cancelledNow();
    if (cancelled !== undefined) return Promise.reject(cancelled);
    const n = Math.min(target.length, this.buffered);
    target.set(new Uint8Array(this.#data.buffer, this.#data.byteOffset + this.#start, n));
    this.#advance(n);
    return Promise.resolve(n);
  }

  /**
   * Receives exactly `n` bytes (see `StreamSocket.receiveExactly`).
   *
   * @param n How many bytes (checked by the caller).
   * @param release Gives the receive slot back when the call ends.
   */
  receiveExactly(n: number, release: () => void): Promise<Uint8Array> {
    if (this.buffered >= n) {
      release();
      const cancelled = cancelledNow();
      if (cancelled !== undefined) return Promise.reject(cancelled);
      return Promise.resolve(this.#take(n));
    }
    return this.#exactlySlow(n, release);
  }

  async #exactlySlow(n: number, release: () => void): Promise<Uint8Array> {
    try {
      while (this.buffered < n) {
        if (!this.#filled(await this.#read(n - this.buffered))) {
          throw new IncompleteReadError(this.#take(this.buffered, true), n);
        }
      }
      return this.#take(n);
    } finally {
      release();
    }
  }

  /**
   * Receives the bytes before `delimiter`, consuming the delimiter (see
   * `StreamSocket.receiveUntil`).
   *
   * @param delimiter The delimiter (checked by the caller, not empty).
   * @param maxBytes The most bytes before the delimiter (checked by the caller).
   * @param release Gives the receive slot back when the call ends.
   */
  receiveUntil(delimiter: Uint8Array | string, maxBytes: number, release: () => void): Promise<Uint8Array> {
    const bytes = this.#delimiter(delimiter);
    const data = this.#data;
    const start = this.#start;
    if (start < data.length) {
      // The hot path of a line parser: the line is buffered.
      const index = bytes.length === 1 ? data.indexOf(bytes[0], start) : find(data, bytes, start);
      if (index !== -1 && index - start <= maxBytes) {
        release();
        const cancelled = cancelledNow();
        if (cancelled !== undefined) return Promise.reject(cancelled);
        this.#start = index + bytes.length;
        if (index === start) return Promise.resolve(EMPTY);
        this.#lent = true;
        return Promise.resolve(new Uint8Array(data.buffer, data.byteOffset + start, index - start));
      }
    }
    return this.#untilSlow(bytes, maxBytes, release);
  }

  async #untilSlow(delimiter: Uint8Array, maxBytes: number, release: () => void): Promise<Uint8Array> {
    try {
      // Where the search goes on, relative to the first unread byte.
      let from = 0;
      for (;;) {
        const index = find(this.#data, delimiter, this.#start + from);
        if (index !== -1) {
          if (index - this.#start > maxBytes) throw new DelimiterNotFound(maxBytes);
          const line = this.#take(index - this.#start);
          this.#advance(delimiter.length);
          return line;
        }
        const buffered = this.buffered;
        if (buffered >= maxBytes + delimiter.length) throw new DelimiterNotFound(maxBytes);
        from = Math.max(0, buffered - delimiter.length + 1);
        if (!this.#filled(await this.#read(MIN_READ))) throw new IncompleteReadError(this.#take(buffered, true));
      }
    } finally {
      release();
    }
  }

  /** The bytes of `delimiter` (the last string's encoding is kept: a parser passes the same one each time). */
  #delimiter(delimiter: Uint8Array | string): Uint8Array {
    if (typeof delimiter !== "string") return delimiter;
    if (delimiter !== this.#delimiterText) {
      this.#delimiterBytes = new TextEncoder().encode(delimiter);
      this.#delimiterText = delimiter;
    }
    return this.#delimiterBytes;
  }

  /**
   * Starts a read into the buffer (a checkpoint: cancelled, it takes no byte),
   * with room for at least `room` more bytes; resolves the count, `0` at end of
   * stream, which {@linkcode #filled} takes in. Not an async function: the slow
   * paths await it directly, one async frame per call.
   */
  #read(room: number): Promise<number> {
    if (this.#eof) {
      // A checkpoint all the same.
      const cancelled = cancelledNow();
      return cancelled !== undefined ? Promise.reject(cancelled) : Promise.resolve(0);
    }
    this.#reserve(Math.max(room, MIN_READ));
    const end = this.#data.length;
    const buffer = this.#buffer;
    this.#fillBuffer = buffer;
    this.#fillEnd = end;
    const view = new Uint8Array(buffer.buffer, buffer.byteOffset + end, buffer.length - end);
    // Straight into the buffer where the reader can (it is never handed out past `#data`).
    const reader = this.#reader;
    return reader.fill !== undefined ? reader.fill(view, NOOP) : reader.recvInto(view, NOOP);
  }

  /** Takes in a read of `n` bytes started by {@linkcode #read}; `false` at end of stream. */
  #filled(n: number): boolean {
    if (n === 0) {
      this.#eof = true;
      return false;
    }
    // The buffer cannot have changed meanwhile: the caller holds the receive slot.
    const buffer = this.#fillBuffer;
    this.#data = new Uint8Array(buffer.buffer, buffer.byteOffset, this.#fillEnd + n);
    return true;
  }

  /** Makes room for `room` more bytes after the unread ones. */
  #reserve(room: number): void {
    const unread = this.buffered;
    if (unread === 0 && !this.#lent) {
      this.#start = 0;
      this.#data = new Uint8Array(this.#buffer.buffer, this.#buffer.byteOffset, 0);
    }
    if (this.#buffer.length - this.#data.length >= room) return;
    // Twice the unread bytes at least: a long line read 4 KiB at a time is copied O(log n) times, not O(n).
    const fresh = new Uint8Array(Math.max(CHUNK, unread + room, 2 * unread));
    fresh.set(new Uint8Array(this.#data.buffer, this.#data.byteOffset + this.#start, unread));
    this.#buffer = fresh;
    this.#data = new Uint8Array(fresh.buffer, 0, unread);
    this.#start = 0;
    this.#lent = false;
  }

  /**
   * Takes `n` unread bytes as a view of the buffer, which is then lent (never
   * written again); `copy` asks for a copy instead, and `recv` gets one for a
   * small result (see the module doc).
   */
  #take(n: number, copy = false): Uint8Array {
    if (n === 0) return EMPTY;
    const data = this.#data;
    let result = new Uint8Array(data.buffer, data.byteOffset + this.#start, n);
    // Decided before advancing: a lent buffer is never reused.
    if (copy) result = result.slice();
    else this.#lent = true;
    this.#advance(n);
    return result;
  }

  #advance(n: number): void {
    // A buffer whose bytes are all read and none lent is reused from its start by #reserve.
    this.#start += n;
  }
}
