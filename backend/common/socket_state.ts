/**
 * The closed and busy state of a socket adapter.
 *
 * @module
 */

import { BusyResourceError, ClosedResourceError } from "../errors.ts";
import { suspend } from "./checkpoint.ts";

/** The operations that allow one task at a time. */
export type SocketSlot = "recv" | "send";

/**
 * Guards a socket adapter: one receiver and one sender at a time, and every call
 * after `close()` fails. Pending calls register a waker that `close()` calls.
 */
export class SocketState {
  #closing = false;
  #receiving = false;
  #sending = false;
  #wakers = new Set<(error: ClosedResourceError) => void>();
  #what: string;

  /** @param what What is guarded, for messages ("socket", "listener"). */
  constructor(what = "socket") {
    this.#what = what;
  }

  /** `true` once `close()` was called. */
  get closing(): boolean {
    return this.#closing;
  }

  /** The error of a call on the closed resource. */
  closedError(): ClosedResourceError {
    return new ClosedResourceError(`The ${this.#what} is closed`);
  }

  /** Throws `ClosedResourceError` once closed. */
  checkOpen(): void {
    if (this.#closing) throw this.closedError();
  }

  /** Takes a slot; throws `ClosedResourceError` when closed, `BusyResourceError` when taken. */
  acquire(slot: SocketSlot): void {
    if (this.#closing) throw this.closedError();
    if (slot === "recv") {
      if (this.#receiving) throw new BusyResourceError(`Another task is already receiving on this ${this.#what}`);
      this.#receiving = true;
    } else {
      if (this.#sending) throw new BusyResourceError(`Another task is already sending on this ${this.#what}`);
      this.#sending = true;
    }
  }

  /** Gives a slot back. */
  release(slot: SocketSlot): void {
    if (slot === "recv") this.#receiving = false;
    else this.#sending = false;
  }

  /** Registers a waker called with a `ClosedResourceError` by `close()`; returns its removal. */
  onClose(waker: (error: ClosedResourceError) => void): () => void {
    this.#wakers.add(waker);
    return () => void this.#wakers.delete(waker);
  }

  /** Marks the resource closed and wakes the pending calls. `true` the first time. */
  close(): boolean {
    if (this.#closing) return false;
    this.#closing = true;
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const wake of wakers) wake(this.closedError());
    return true;
  }
}

/** A checkpoint that does not wait: rejects with `CancelledError` in a cancelled scope, else resolves. */
export function checkpoint(): Promise<void> {
  return suspend<void>((resolve) => resolve());
}
