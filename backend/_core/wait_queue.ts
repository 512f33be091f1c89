/**
 * The fair wait queue under every primitive that makes tasks wait for one
 * another (Trio's `ParkingLot`): Lock, Event, Condition, task join and the
 * close wake-ups of resources.
 *
 * ## Why one queue, and why this shape
 *
 * - **One place for the hard part.** A primitive only decides *when* to wake
 *   whom; parking, cancellation and removal are written once here. A parked
 *   waiter is a checkpoint like any other: it is registered on the caller's
 *   cancel scope, and a cancellation unlinks it from the queue before it
 *   rejects with `CancelledError`, so a cancelled waiter is never woken (a
 *   cancelled `acquire()` takes no lock) and a woken one is never cancelled (the
 *   wake-up unregisters it from its scope in the same step).
 * - **FIFO fairness.** Waiters are woken in the order they parked; a primitive
 *   that hands something over (a lock) gives it to the head of the queue, and
 *   newcomers queue behind (no barging).
 * - **O(1) everything.** The queue is an intrusive doubly linked list of
 *   {@linkcode WaitNode}s: parking appends, waking takes the head, and a
 *   cancelled waiter unlinks itself, each in constant time, whatever the number
 *   of waiters. (A `Set` is not enough: V8 keeps a deleted entry's slot until
 *   the table is rebuilt, so taking the first entry again and again skips every
 *   entry already removed: 24 µs per lock hand-off at 200k waiters.)
 * - **One object per park.** The node is both the queue entry and the scope's
 *   {@linkcode Waiter} (the scope's own intrusive list), and its promise is made
 *   with a shared executor: a park allocates the node and its promise, nothing
 *   else.
 * - **No lost hand-off.** Waking is synchronous: the node leaves the queue and
 *   its scope and its promise is resolved before `unpark` returns, so a
 *   cancellation that arrives later in the same tick finds nothing to cancel;
 *   the waiter resumes with what it was given (a lock's guard) and its next
 *   checkpoint raises. A cancellation that arrives first removes the node, and
 *   the hand-off goes to the next one.
 *
 * @module
 */

import type { CancelledError } from "../errors.ts";
import { type CancelScope, currentScope, Waiter } from "./cancel_scope.ts";

/** What {@linkcode WaitQueue.statistics} reports. */
export interface WaitQueueStatistics {
  /** The number of parked waiters. */
  readonly tasksWaiting: number;
}

/**
 * One parked waiter: the entry in its {@linkcode WaitQueue} and, while the
 * caller runs in a scope, the checkpoint registered on that scope.
 */
export class WaitNode<T = void, D = unknown> extends Waiter {
  /** What the parker attached (a lock waiter's owner, say). */
  readonly data: D;
  /** The queue holding this node, `null` once it left. */
  queue: WaitQueue<T, D> | null = null;
  /** The previous node in the queue. */
  prev: WaitNode<T, D> | null = null;
  /** The next node in the queue. */
  next: WaitNode<T, D> | null = null;
  #resolve: ((value: T) => void) | null = null;
  #reject: ((error: unknown) => void) | null = null;

  /** @param data What the parker attaches to the node. */
  constructor(data: D) {
    super();
    this.data = data;
  }

  /** What the node's queue is for (the task tree's "waiting at"). */
  override get waitKind(): string {
    return this.queue?.kind ?? "checkpoint";
  }

  /** Creates the node's promise and registers the node on `scope`. */
  start(scope: CancelScope | null): Promise<T> {
    pendingNode = this;
    const promise = new Promise<T>(captureSettlers);
    if (scope !== null) {
      scope.addWaiter(this);
      const loop = scope.loop;
      if (loop !== null) loop.activity++;
    }
    return promise;
  }

  /** Called by the shared executor. */
  setSettlers(resolve: (value: T) => void, reject: (error: unknown) => void): void {
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /** `true` until the node is woken, aborted or cancelled. */
  get pending(): boolean {
    return this.#resolve !== null;
  }

  /** Resolves the waiter with `value`, taking it out of its queue and scope; once only. */
  wake(value: T): void {
    const resolve = this.#resolve;
    if (resolve === null) return;
    this.#end();
    resolve(value);
  }

  /** Rejects the waiter with `error`, taking it out of its queue and scope; once only. */
  fail(error: unknown): void {
    const reject = this.#reject;
    if (reject === null) return;
    this.#end();
    reject(error);
  }

  /** The scope was cancelled: leave the queue and reject. */
  abort(error: CancelledError): void {
    const reject = this.#reject;
    if (reject === null) return;
    this.queue?.remove(this);
    this.#resolve = null;
    this.#reject = null;
    reject(error);
  }

  /** Leaves the queue (if a waker took it without {@linkcode WaitQueue.remove}) and the scope. */
  #end(): void {
    this.queue?.remove(this);
    this.waiterScope?.removeWaiter(this);
    this.#resolve = null;
    this.#reject = null;
  }
}

// The executor shared by every node's promise: the Promise constructor calls it
// synchronously, so a module variable carries the node (no closure per park).
// deno-lint-ignore no-explicit-any
let pendingNode: WaitNode<any, any> | null = null;
// deno-lint-ignore no-explicit-any
const captureSettlers = (resolve: (value: any) => void, reject: (error: unknown) => void): void => {
  const node = pendingNode!;
  pendingNode = null;
  node.setSettlers(resolve, reject);
};

/**
 * A fair FIFO queue of parked waiters.
 *
 * @typeParam T What a waiter is woken with.
 * @typeParam D What a parker attaches to its node.
 */
export class WaitQueue<T = void, D = undefined> {
  #head: WaitNode<T, D> | null = null;
  #tail: WaitNode<T, D> | null = null;
  #size = 0;
  /** What its waiters wait for, as the task tree shows it (`"lock"`, `"join"`...). */
  readonly kind: string;

  /** @param kind What its waiters wait for, as the task tree shows it. */
  constructor(kind = "checkpoint") {
    this.kind = kind;
  }

  /** The number of parked waiters. */
  get size(): number {
    return this.#size;
  }

  /** Statistics, as Trio's `ParkingLot.statistics()`. */
  statistics(): WaitQueueStatistics {
    return { tasksWaiting: this.#size };
  }

  /**
   * Parks the caller until it is woken (a checkpoint): rejects at once with
   * `CancelledError` when the caller's scope is cancelled, and when the scope is
   * cancelled while it waits (the waiter then leaves the queue).
   *
   * @param data Attached to the node, for the waker ({@linkcode peek}, {@linkcode shift}).
   */
  park(data: D): Promise<T>;
  park(this: WaitQueue<T, undefined>): Promise<T>;
  park(data?: D): Promise<T> {
    const scope = currentScope();
    if (scope !== undefined && scope.isCancelled()) return Promise.reject(scope.cancelledError());
    const node = new WaitNode<T, D>(data as D);
    this.#append(node);
    return node.start(scope ?? null);
  }

  /**
   * Parks the caller until it is woken, out of reach of cancellation (no
   * checkpoint): for waits that must not be cut short, such as a task group
   * waiting for a child it cancelled.
   *
   * @param data Attached to the node.
   */
  parkUncancellable(data: D): Promise<T>;
  parkUncancellable(this: WaitQueue<T, undefined>): Promise<T>;
  parkUncancellable(data?: D): Promise<T> {
    const node = new WaitNode<T, D>(data as D);
    this.#append(node);
    return node.start(null);
  }

  /** The oldest waiter, left in the queue, or `null`. */
  peek(): WaitNode<T, D> | null {
    return this.#head;
  }

  /** Takes the oldest waiter out of the queue, or `null`; the caller wakes it. */
  shift(): WaitNode<T, D> | null {
    const node = this.#head;
    if (node !== null) this.remove(node);
    return node;
  }

  /**
   * Wakes the `n` oldest waiters with `value`, oldest first.
   *
   * @returns How many were woken.
   */
  unpark(n: number, value: T): number;
  unpark(this: WaitQueue<void, D>, n?: number): number;
  unpark(n = 1, value?: T): number {
    let woken = 0;
    while (woken < n) {
      const node = this.#head;
      if (node === null) break;
      this.remove(node);
      node.wake(value as T);
      woken++;
    }
    return woken;
  }

  /**
   * Wakes every parked waiter with `value`, oldest first (not those that park
   * while it runs).
   *
   * @returns How many were woken.
   */
  unparkAll(value: T): number;
  unparkAll(this: WaitQueue<void, D>): number;
  unparkAll(value?: T): number {
    let node = this.#detachAll();
    let woken = 0;
    while (node !== null) {
      const next = node.next;
      node.next = null;
      node.wake(value as T);
      woken++;
      node = next;
    }
    return woken;
  }

  /**
   * Rejects every parked waiter with `error`, oldest first: the wake-up of a
   * resource being closed under its waiters.
   *
   * @returns How many were rejected.
   */
  abortAll(error: unknown): number {
    let node = this.#detachAll();
    let aborted = 0;
    while (node !== null) {
      const next = node.next;
      node.next = null;
      node.fail(error);
      aborted++;
      node = next;
    }
    return aborted;
  }

  /** Unlinks `node` if it is in this queue (O(1)). */
  remove(node: WaitNode<T, D>): void {
    if (node.queue !== this) return;
    const prev = node.prev;
    const next = node.next;
    if (prev === null) this.#head = next;
    else prev.next = next;
    if (next === null) this.#tail = prev;
    else next.prev = prev;
    node.queue = null;
    node.prev = null;
    node.next = null;
    this.#size--;
  }

  /** Yields the parked nodes, oldest first (do not park or wake while iterating). */
  *[Symbol.iterator](): Iterator<WaitNode<T, D>> {
    for (let node = this.#head; node !== null; node = node.next) yield node;
  }

  #append(node: WaitNode<T, D>): void {
    const tail = this.#tail;
    node.queue = this;
    node.prev = tail;
    if (tail === null) this.#head = node;
    else tail.next = node;
    this.#tail = node;
    this.#size++;
  }

  /** Empties the queue and returns its old head; the nodes stay chained by `next`. */
  #detachAll(): WaitNode<T, D> | null {
    const head = this.#head;
    for (let node = head; node !== null; node = node.next) {
      node.queue = null;
      node.prev = null;
    }
    this.#head = this.#tail = null;
    this.#size = 0;
    return head;
  }
}
