/**
 * Memory channels (Trio's `open_memory_channel`, AnyIO's
 * `create_memory_object_stream`): a buffer of items between any number of send
 * ends and receive ends, on two wait queues.
 *
 * ## How it works
 *
 * One {@linkcode ChannelState} per channel holds the buffer (the one
 * {@linkcode Fifo}), the waiting senders and the waiting receivers (two
 * {@linkcode WaitQueue}s, so FIFO order, O(1) parking and cancellation come
 * from the one wait queue) and the counts of open ends. A waiting sender's node
 * carries its item and its end; a waiting receiver's node carries its end.
 *
 * - **A send** hands its item to the oldest waiting receiver (a receiver waits
 *   only when the buffer is empty), else appends it to the buffer if there is
 *   room, else parks with the item.
 * - **A receive** takes the oldest waiting sender's item first when there is
 *   one (a sender waits only when the buffer is full): that item goes to the
 *   buffer's tail and the sender is woken, so the order is the order of the
 *   sends; then it takes the buffer's head, else parks.
 * - **Cancellation.** A hand-off takes the other task's node out of its queue
 *   and out of its scope at once: a cancellation later in the tick finds
 *   nothing to cancel, so a sender whose item was taken completes, and a
 *   receiver that was handed an item gets it. A node cancelled first leaves its
 *   queue before it rejects: a cancelled sender enqueued nothing, a cancelled
 *   receiver was handed nothing.
 * - **Who resumes first.** On a buffered channel the woken node's promise
 *   resolves one microtask after the hand-off ({@linkcode wakeAfter}), so the
 *   task that made the hand-off resumes first. A producer and a consumer then
 *   alternate without waiting: after a hand-off to a waiting consumer, the
 *   producer's next item reaches the buffer before the consumer asks again (a
 *   consumer that resumed first would find the buffer empty and wait at every
 *   item, and so would a producer facing a full buffer). Measured with 200k
 *   items and a buffer of 64: about 40 waits instead of one per item. A
 *   rendezvous wakes at once: one side waits at every item there anyway.
 * - **Checkpoints.** Every `send()` and `receive()` rejects at once in a
 *   cancelled scope, also when it could complete without waiting (Trio's
 *   `checkpoint_if_cancelled`). A call that completes without waiting does not
 *   wait for the event loop either (that would cost a macrotask per item),
 *   except once a millisecond: a call made a millisecond or more after the
 *   channel last yielded yields first (the backend's `coroYield`), so a
 *   producer and a consumer passing items in a loop never hold timers and I/O
 *   back for much more than that (Trio yields at every call).
 *
 * @module
 */

import type { MemoryChannelStatistics, MemoryReceiveChannel, MemorySendChannel } from "../abc/channel.ts";
import { BrokenResourceError, ClosedResourceError, EndOfChannel, WouldBlock } from "../errors.ts";
import { Fifo } from "../_util/fifo.ts";
import { describe } from "../_util/validate.ts";
import { cancelledNow, coroYield, type MacrotaskScheduler } from "./checkpoint.ts";
import { type WaitNode, WaitQueue } from "./wait_queue.ts";
import { ChannelIterator } from "./channel_iterator.ts";
import { type LeakEntry, trackResource } from "./leaks.ts";

/** How often, at most, a run of calls that need no waiting goes without yielding to the loop, in ms. */
export const CHANNEL_YIELD_INTERVAL_MS = 1;

/** What a parked sender leaves in its node. */
interface ParkedSend<T> {
  readonly value: T;
  readonly owner: SendEnd<T>;
}

/** The state every clone of a channel shares. */
class ChannelState<T> {
  readonly buffer: Fifo<T> = new Fifo();
  readonly senders: WaitQueue<void, ParkedSend<T>> = new WaitQueue("channel send");
  readonly receivers: WaitQueue<T, ReceiveEnd<T>> = new WaitQueue("channel receive");
  readonly maxBufferSize: number;
  openSend = 1;
  openReceive = 1;
  /** The channel in its runner's leak report while an end is open. */
  readonly leak: LeakEntry | null = trackResource(
    "channel",
    () => `memory channel, open ends: ${this.openSend} send, ${this.openReceive} receive`,
  );
  readonly #schedule: MacrotaskScheduler;
  readonly #now: () => number;
  #lastYield: number;
  #calls = 0;

  constructor(maxBufferSize: number, schedule: MacrotaskScheduler, now: () => number) {
    this.maxBufferSize = maxBufferSize;
    this.#schedule = schedule;
    this.#now = now;
    this.#lastYield = now();
  }

  /**
   * The entry of a `send()` or `receive()` that can complete without waiting: a
   * rejection when the caller's scope is cancelled, a yield when one is due (see
   * the module comment), else `null`.
   */
  enter(): Promise<void> | null {
    const cancelled = cancelledNow();
    if (cancelled !== undefined) return Promise.reject(cancelled);
    // The clock costs more than a call (100 ns on Deno): it is read once in 64 calls.
    if ((++this.#calls & 63) !== 0) return null;
    const now = this.#now();
    if (now - this.#lastYield < CHANNEL_YIELD_INTERVAL_MS) return null;
    this.#lastYield = now;
    return coroYield(this.#schedule);
  }

  statistics(): MemoryChannelStatistics {
    return {
      currentBufferUsed: this.buffer.size,
      maxBufferSize: this.maxBufferSize,
      openSendChannels: this.openSend,
      openReceiveChannels: this.openReceive,
      tasksWaitingSend: this.senders.size,
      tasksWaitingReceive: this.receivers.size,
    };
  }
}

const RESOLVED: Promise<void> = Promise.resolve();
/** What {@linkcode ReceiveEnd.take} returns when there is nothing to take. */
const NOTHING: unique symbol = Symbol("nothing");

/**
 * Hands `value` to a waiter that has left its queue: it leaves its scope now
 * (a cancellation can no longer reach it) and resumes a microtask later, after
 * the waker's own continuation (see the module comment).
 */
function wakeAfter<V>(node: WaitNode<V, unknown>, value: V): void {
  node.waiterScope?.removeWaiter(node);
  pendingWakes.push(node, value);
  if (!flushScheduled) {
    flushScheduled = true;
    RESOLVED.then(flushWakes); // cheaper than queueMicrotask() on Deno
  }
}

// The wakes made since the last flush, node then value (no closure per wake).
// deno-lint-ignore no-explicit-any
const pendingWakes: any[] = [];
let flushScheduled = false;

function flushWakes(): void {
  flushScheduled = false;
  for (let i = 0; i < pendingWakes.length; i += 2) pendingWakes[i].wake(pendingWakes[i + 1]);
  pendingWakes.length = 0;
}

/** Rejects the nodes of `queue` parked by `owner` with `error`, oldest first. */
function failOwned<T, D>(queue: WaitQueue<T, D>, owned: (data: D) => boolean, error: () => unknown): void {
  const nodes: WaitNode<T, D>[] = [];
  for (const node of queue) if (owned(node.data)) nodes.push(node);
  for (const node of nodes) node.fail(error());
}

/**
 * What both ends share: `close()` is the one way to close; `aclose()` (never
 * rejects) and disposal call it.
 */
abstract class ChannelEnd {
  abstract close(): void;

  aclose(): Promise<void> {
    this.close();
    return RESOLVED;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.aclose();
  }
}

/** The send end shared by every backend. */
export class SendEnd<T> extends ChannelEnd implements MemorySendChannel<T> {
  readonly #state: ChannelState<T>;
  #closed = false;

  /** @param state The channel (the caller counted this end as open). */
  constructor(state: ChannelState<T>) {
    super();
    this.#state = state;
  }

  send(value: T): Promise<void> {
    const state = this.#state;
    const error = this.#sendError();
    if (error !== null) return rejectAtCheckpoint(error);
    // A sender waits only when no receiver does and the buffer is full (so
    // behind every sender already waiting); the wait queue checks cancellation.
    if (state.receivers.size === 0 && state.buffer.size >= state.maxBufferSize) {
      return state.senders.park({ value, owner: this });
    }
    const entered = state.enter();
    if (entered !== null) return entered.then(() => this.send(value));
    this.#deliver(value);
    return RESOLVED;
  }

  sendNowait(value: T): void {
    if (!this.#offer(value)) throw new WouldBlock("The channel is full: a send would wait");
  }

  clone(): MemorySendChannel<T> {
    this.#checkOpen();
    this.#state.openSend++;
    return new SendEnd(this.#state);
  }

  override close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const state = this.#state;
    failOwned(state.senders, (parked) => parked.owner === this, closedSend);
    if (--state.openSend === 0) state.receivers.abortAll(new EndOfChannel());
    if (state.openSend + state.openReceive === 0) state.leak?.release();
  }

  statistics(): MemoryChannelStatistics {
    return this.#state.statistics();
  }

  /** Why this end cannot send at all, or `null`. */
  #sendError(): Error | null {
    if (this.#closed) return closedSend();
    if (this.#state.openReceive === 0) return broken();
    return null;
  }

  /** Sends `value` if no waiting is needed; `false` if it is. */
  #offer(value: T): boolean {
    const error = this.#sendError();
    if (error !== null) throw error;
    const state = this.#state;
    if (state.receivers.size === 0 && state.buffer.size >= state.maxBufferSize) return false;
    this.#deliver(value);
    return true;
  }

  /** Hands `value` to the oldest waiting receiver, else buffers it (the caller checked there is room). */
  #deliver(value: T): void {
    const state = this.#state;
    const receiver = state.receivers.shift();
    if (receiver === null) state.buffer.push(value);
    else if (state.maxBufferSize === 0) receiver.wake(value);
    else wakeAfter(receiver, value);
  }

  #checkOpen(): void {
    if (this.#closed) throw closedSend();
  }
}

/**
 * The rejection of a call that cannot proceed: `CancelledError` first in a
 * cancelled scope (the call is a checkpoint, as in Trio), else `error`.
 */
function rejectAtCheckpoint(error: Error): Promise<never> {
  return Promise.reject(cancelledNow() ?? error);
}

function broken(): BrokenResourceError {
  return new BrokenResourceError("Every receive end of the channel is closed");
}

function closedSend(): ClosedResourceError {
  return new ClosedResourceError("This send end of the channel is closed");
}

function closedReceive(): ClosedResourceError {
  return new ClosedResourceError("This receive end of the channel is closed");
}

/** The receive end shared by every backend. */
export class ReceiveEnd<T> extends ChannelEnd implements MemoryReceiveChannel<T> {
  readonly #state: ChannelState<T>;
  #closed = false;

  /** @param state The channel (the caller counted this end as open). */
  constructor(state: ChannelState<T>) {
    super();
    this.#state = state;
  }

  receive(): Promise<T> {
    const state = this.#state;
    if (this.#closed) return rejectAtCheckpoint(closedReceive());
    // A receiver waits only when no sender does and the buffer is empty (so
    // behind every receiver already waiting); the wait queue checks cancellation.
    if (state.senders.size === 0 && state.buffer.size === 0) {
      if (state.openSend === 0) return rejectAtCheckpoint(new EndOfChannel());
      return state.receivers.park(this);
    }
    const entered = state.enter();
    if (entered !== null) return entered.then(() => this.receive());
    return Promise.resolve(this.#take() as T);
  }

  receiveNowait(): T {
    const item = this.#take();
    if (item === NOTHING) throw new WouldBlock("The channel is empty: a receive would wait");
    return item;
  }

  clone(): MemoryReceiveChannel<T> {
    this.#checkOpen();
    this.#state.openReceive++;
    return new ReceiveEnd(this.#state);
  }

  override close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const state = this.#state;
    failOwned(state.receivers, (owner) => owner === this, closedReceive);
    if (--state.openReceive === 0) {
      state.buffer.clear();
      state.senders.abortAll(broken());
    }
    if (state.openSend + state.openReceive === 0) state.leak?.release();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return new ChannelIterator(this);
  }

  statistics(): MemoryChannelStatistics {
    return this.#state.statistics();
  }

  /** Takes the oldest item if there is one, else {@linkcode NOTHING}. */
  #take(): T | typeof NOTHING {
    if (this.#closed) throw closedReceive();
    const state = this.#state;
    const buffer = state.buffer;
    const sender = state.senders.shift();
    if (sender !== null) {
      // The buffer is full (or a rendezvous): the sender's item goes behind it.
      const value = sender.data.value;
      if (state.maxBufferSize === 0) {
        sender.wake();
        return value;
      }
      wakeAfter(sender, undefined);
      buffer.push(value);
      return buffer.shift() as T;
    }
    if (buffer.size > 0) return buffer.shift() as T;
    if (state.openSend === 0) throw new EndOfChannel();
    return NOTHING;
  }

  #checkOpen(): void {
    if (this.#closed) throw closedReceive();
  }
}

/**
 * Creates a channel: its send end and its receive end.
 *
 * @param maxBufferSize How many items the channel holds without a receiver: a
 *   non-negative integer, `0` for a rendezvous, or `Infinity`.
 * @param schedule The backend's yield, for the yield a millisecond.
 * @param now The backend's clock, in ms.
 */
export function createMemoryChannel<T>(
  maxBufferSize: number,
  schedule: MacrotaskScheduler,
  now: () => number,
): [MemorySendChannel<T>, MemoryReceiveChannel<T>] {
  if (typeof maxBufferSize !== "number") {
    throw new TypeError(`The 'maxBufferSize' argument must be a number, got ${describe(maxBufferSize)}`);
  }
  if (!(maxBufferSize >= 0) || (maxBufferSize !== Infinity && !Number.isInteger(maxBufferSize))) {
    throw new RangeError(
      `The 'maxBufferSize' argument must be a non-negative integer or Infinity, got ${maxBufferSize}`,
    );
  }
  const state = new ChannelState<T>(maxBufferSize, schedule, now);
  return [new SendEnd(state), new ReceiveEnd(state)];
}
