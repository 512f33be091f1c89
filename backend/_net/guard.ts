/**
 * The closed and busy state of a socket adapter.
 *
 * Why it looks like this: every adapter call must fail the same way on every
 * runtime (a second receiver or sender gets `BusyResourceError`, anything after
 * `aclose()` gets `ClosedResourceError`, and `aclose()` wakes the calls already
 * waiting), and it sits on the hot path of every `recv` and `sendall`. So the
 * slots are two booleans with pre-bound release hooks (a call passes the hook
 * as its settle callback and allocates nothing for it); the hooks and the wait
 * queue are made on first use, as thousands of idle connections each holding
 * them cost RSS (`scripts/bench/memory_bench.ts`). A call takes its slot
 * before it waits and gives it back however it ends, so a cancelled call never
 * leaves the adapter busy.
 *
 * A call that waits for a runtime operation the adapter cannot cancel (a UDP
 * send, the end of the write side) parks on the guard's one
 * {@linkcode WaitQueue}, the fair queue under every primitive of the core, so
 * that cancellation and the close wake-up are the queue's: `close()` rejects
 * every parked call with `ClosedResourceError` (`abortAll`), a cancelled call
 * leaves the queue in O(1) and rejects with `CancelledError`, and the
 * operation's result, when it comes, wakes the call's own node (once only:
 * a node already woken, aborted or cancelled ignores it). The operation itself
 * goes on: what it sends is sent, as a cancelled send on a socket would.
 *
 * @module
 */

import { BusyResourceError, ClosedResourceError } from "../errors.ts";
import { suspend } from "../_core/checkpoint.ts";
import { type WaitNode, WaitQueue } from "../_core/wait_queue.ts";
import { type LeakDescription, type LeakEntry, trackResource } from "../_core/leaks.ts";

/** The operations that allow one task at a time. */
export type SocketSlot = "recv" | "send";

/**
 * A parked call, as {@linkcode ResourceGuard.wait} gives it to the operation:
 * `wake(value)` resolves the call, `fail(error)` rejects it; either does
 * nothing once the call was settled, closed or cancelled.
 */
export type GuardCall<T> = Pick<WaitNode<T, undefined>, "wake" | "fail" | "pending">;

/** The guard's state bits (one field, not three: thousands of idle connections each hold a guard). */
const CLOSING = 1;
const RECEIVING = 2;
const SENDING = 4;

/**
 * Guards a socket adapter: one receiver and one sender at a time, and every call
 * after `close()` fails. Calls that wait park on the guard's wait queue, which
 * `close()` empties with `ClosedResourceError`.
 */
export class ResourceGuard {
  /** {@linkcode CLOSING}, {@linkcode RECEIVING}, {@linkcode SENDING}. */
  #flags = 0;
  // The calls waiting for an operation: woken by it, by close() or by cancellation. Made by the first
  // wait (most sockets never park a call here: an idle connection holds no queue).
  #waiters: WaitQueue<unknown> | null = null;
  #what: string;
  // The entry in the leak report of the runner that made the resource, released by close().
  #leak: LeakEntry | null;
  // The release hooks, made on first use (an idle connection holds none).
  #releaseRecv: (() => void) | null = null;
  #releaseSend: (() => void) | null = null;

  /** Gives the receive slot back (pre-bound, to pass as a settle hook; the same function each time). */
  get releaseRecv(): () => void {
    return this.#releaseRecv ??= () => {
      this.#flags &= ~RECEIVING;
    };
  }

  /** Gives the send slot back (pre-bound, to pass as a settle hook; the same function each time). */
  get releaseSend(): () => void {
    return this.#releaseSend ??= () => {
      this.#flags &= ~SENDING;
    };
  }

  /**
   * Registers the resource with the caller's runner, for its leak report,
   * until {@linkcode ResourceGuard.close}.
   *
   * @param what What is guarded, for messages ("socket", "listener").
   * @param description Which one, for the leak report (a function or a describing object, called when a
   *   report is made).
   */
  constructor(what = "socket", description: LeakDescription = what) {
    this.#what = what;
    this.#leak = trackResource(what === "listener" ? "listener" : "socket", description);
  }

  /** `true` once `close()` was called. */
  get closing(): boolean {
    return (this.#flags & CLOSING) !== 0;
  }

  /** The error of a call on the closed resource. */
  closedError(): ClosedResourceError {
    return new ClosedResourceError(`The ${this.#what} is closed`);
  }

  /** Throws `ClosedResourceError` once closed. */
  checkOpen(): void {
    if ((this.#flags & CLOSING) !== 0) throw this.closedError();
  }

  /** Takes a slot; throws `ClosedResourceError` when closed, `BusyResourceError` when taken. */
  acquire(slot: SocketSlot): void {
    const flags = this.#flags;
    if ((flags & CLOSING) !== 0) throw this.closedError();
    if (slot === "recv") {
      if ((flags & RECEIVING) !== 0) {
        throw new BusyResourceError(`Another task is already receiving on this ${this.#what}`);
      }
      this.#flags = flags | RECEIVING;
    } else {
      if ((flags & SENDING) !== 0) throw new BusyResourceError(`Another task is already sending on this ${this.#what}`);
      this.#flags = flags | SENDING;
    }
  }

  /** Gives a slot back. */
  release(slot: SocketSlot): void {
    this.#flags &= slot === "recv" ? ~RECEIVING : ~SENDING;
  }

  /** The number of calls parked by {@linkcode ResourceGuard.wait}. */
  get waiting(): number {
    return this.#waiters?.size ?? 0;
  }

  /**
   * Waits for an operation (a checkpoint): parks the caller on the guard's
   * wait queue, then calls `start(call)`, which begins the operation and
   * settles `call` when it ends. Rejects with `ClosedResourceError` once
   * closed (at once, or when `close()` comes first), with `CancelledError` when
   * the caller's scope is cancelled (at once, without calling `start`, or while
   * it waits; the operation then goes on, its result dropped), and with what
   * `start` throws.
   *
   * @param start Begins the operation; must not park.
   */
  wait<T>(start: (call: GuardCall<T>) => void): Promise<T> {
    if ((this.#flags & CLOSING) !== 0) return Promise.reject(this.closedError());
    const waiters = (this.#waiters ??= new WaitQueue("resource")) as WaitQueue<T>;
    const before = waiters.size;
    const promise = waiters.park();
    // Not parked: the caller's scope is cancelled, and the promise says so.
    if (waiters.size === before) return promise;
    // The new node is the queue's tail: at most one call per slot is parked,
    // so this walk is one or two steps.
    let node = waiters.peek()!;
    while (node.next !== null) node = node.next;
    try {
      start(node);
    } catch (error) {
      node.fail(error);
    }
    return promise;
  }

  /** Marks the resource closed and rejects the parked calls with `ClosedResourceError`. `true` the first time. */
  close(): boolean {
    if ((this.#flags & CLOSING) !== 0) return false;
    this.#flags |= CLOSING;
    this.#leak?.release();
    if (this.#waiters !== null && this.#waiters.size > 0) this.#waiters.abortAll(this.closedError());
    return true;
  }
}

/** A checkpoint that does not wait: rejects with `CancelledError` in a cancelled scope, else resolves. */
export function checkpoint(): Promise<void> {
  return suspend<void>((resolve) => resolve());
}

/**
 * An address as `host:port` (`[host]:port` for IPv6), for the leak report;
 * `"?"` when it cannot be read.
 *
 * @param read Reads the address.
 */
export function describeAddress(read: () => { hostname: string; port: number } | null): string {
  try {
    const address = read();
    if (address === null) return "unconnected";
    return address.hostname.includes(":")
      ? `[${address.hostname}]:${address.port}`
      : `${address.hostname}:${address.port}`;
  } catch {
    return "?";
  }
}
