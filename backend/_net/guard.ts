/**
 * The closed and busy state of a socket adapter.
 *
 * Why it looks like this: every adapter call must fail the same way on every
 * runtime (a second receiver or sender gets `BusyResourceError`, anything after
 * `aclose()` gets `ClosedResourceError`, and `aclose()` wakes the calls already
 * waiting), and it sits on the hot path of every `recv` and `sendall`. So the
 * slots are two booleans with pre-bound release hooks (a call passes the hook
 * as its settle callback and allocates nothing for it), and the close wakers
 * are an intrusive list (register and unregister cost no hashing). A call
 * takes its slot before it waits and gives it back however it ends, so a
 * cancelled call never leaves the adapter busy.
 *
 * @module
 */

import { BusyResourceError, ClosedResourceError } from "../errors.ts";
import { suspend } from "../_core/checkpoint.ts";

/** The operations that allow one task at a time. */
export type SocketSlot = "recv" | "send";

/**
 * Guards a socket adapter: one receiver and one sender at a time, and every call
 * after `close()` fails. Pending calls register a waker that `close()` calls.
 */
export class ResourceGuard {
  #closing = false;
  #receiving = false;
  #sending = false;
  // Pending calls' wakers: an intrusive list, so that the register and
  // unregister of every call cost no hashing.
  #firstWaker: WakerNode | null = null;
  #what: string;

  /** Gives the receive slot back (pre-bound, to pass as a settle hook). */
  readonly releaseRecv: () => void = () => {
    this.#receiving = false;
  };

  /** Gives the send slot back (pre-bound, to pass as a settle hook). */
  readonly releaseSend: () => void = () => {
    this.#sending = false;
  };

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
    const node: WakerNode = { waker, prev: null, next: this.#firstWaker, linked: true };
    if (node.next !== null) node.next.prev = node;
    this.#firstWaker = node;
    return () => {
      if (!node.linked) return;
      node.linked = false;
      if (node.prev === null) this.#firstWaker = node.next;
      else node.prev.next = node.next;
      if (node.next !== null) node.next.prev = node.prev;
    };
  }

  /** Marks the resource closed and wakes the pending calls. `true` the first time. */
  close(): boolean {
    if (this.#closing) return false;
    this.#closing = true;
    let node = this.#firstWaker;
    this.#firstWaker = null;
    while (node !== null) {
      node.linked = false;
      const next = node.next;
      node.waker(this.closedError());
      node = next;
    }
    return true;
  }
}

interface WakerNode {
  waker: (error: ClosedResourceError) => void;
  prev: WakerNode | null;
  next: WakerNode | null;
  linked: boolean;
}

/** A checkpoint that does not wait: rejects with `CancelledError` in a cancelled scope, else resolves. */
export function checkpoint(): Promise<void> {
  return suspend<void>((resolve) => resolve());
}
