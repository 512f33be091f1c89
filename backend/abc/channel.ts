/**
 * Channels: passing objects between tasks, with backpressure (Trio's memory
 * channels, AnyIO's memory object streams).
 *
 * A channel has two ends. Items sent on the send end are received on the
 * receive end, in the order they were sent. Each end can be cloned: every
 * clone shares the same buffer, and the channel ends for the other side only
 * when every clone of an end is closed.
 *
 * @example A producer and a consumer
 * ```ts
 * import { AsyncBackendFactory } from "@easynetwork/async-backend/factory";
 *
 * const backend = AsyncBackendFactory.new();
 * const received: number[] = await backend.bootstrap(async () => {
 *   const [send, receive] = backend.createMemoryChannel<number>(2);
 *   const items: number[] = [];
 *   await backend.createTaskGroup((tg) => {
 *     tg.startSoon(async () => {
 *       using _send = send; // closed when the producer is done: the consumer's loop ends
 *       for (let i = 0; i < 5; i++) await send.send(i);
 *     });
 *     tg.startSoon(async () => {
 *       using _receive = receive;
 *       for await (const item of receive) items.push(item);
 *     });
 *   });
 *   return items;
 * });
 * console.log(received); // [0, 1, 2, 3, 4]
 * ```
 *
 * @module
 */

/** What {@linkcode MemorySendChannel.statistics} and {@linkcode MemoryReceiveChannel.statistics} report. */
export interface MemoryChannelStatistics {
  /** The number of items in the buffer. */
  readonly currentBufferUsed: number;
  /** The buffer's capacity: `0` for a rendezvous channel, `Infinity` for an unbounded one. */
  readonly maxBufferSize: number;
  /** The number of send ends (clones included) not closed yet. */
  readonly openSendChannels: number;
  /** The number of receive ends (clones included) not closed yet. */
  readonly openReceiveChannels: number;
  /** The number of tasks waiting in `send()`, on every clone. */
  readonly tasksWaitingSend: number;
  /** The number of tasks waiting in `receive()`, on every clone. */
  readonly tasksWaitingReceive: number;
}

/** The sending half of a channel of `T` items. */
export interface SendChannel<T> extends AsyncDisposable {
  /**
   * Sends `value`, waiting until the channel can take it (a checkpoint).
   *
   * @param value The item.
   */
  send(value: T): Promise<void>;
  /** Closes this end; never rejects. */
  aclose(): Promise<void>;
}

/** The receiving half of a channel of `T` items; `for await` receives until the channel ends. */
export interface ReceiveChannel<T> extends AsyncDisposable, AsyncIterable<T> {
  /**
   * Receives the next item, waiting until there is one (a checkpoint).
   *
   * @throws {EndOfChannel} once every send end is closed and every item received.
   */
  receive(): Promise<T>;
  /** Closes this end; never rejects. */
  aclose(): Promise<void>;
}

/**
 * The send end of a memory channel (`backend.createMemoryChannel()`).
 *
 * Every call on a closed end throws (or rejects with) `ClosedResourceError`;
 * once every receive end is closed, sends throw `BrokenResourceError`.
 */
export interface MemorySendChannel<T> extends SendChannel<T>, Disposable {
  /**
   * Sends `value`: hands it to the longest-waiting receiver, or puts it in the
   * buffer when there is room, or waits, first in, first out with the other
   * waiting senders, until a receiver takes it (on a rendezvous channel, a
   * buffer of 0, the call always waits for a receiver to take the item).
   *
   * A checkpoint, also when the item goes at once: in a cancelled scope it
   * rejects with `CancelledError` and sends nothing. A send cancelled while it
   * waits sends nothing, unless a receiver already took its item in the same
   * tick: then the send completes and the cancellation arrives at the next
   * checkpoint (as in Trio: an item is never both delivered and reported lost).
   *
   * @param value The item.
   * @throws {ClosedResourceError} if this end is closed, also when it is closed
   *   while the call waits.
   * @throws {BrokenResourceError} if every receive end is closed, also when the
   *   last one closes while the call waits.
   */
  send(value: T): Promise<void>;
  /**
   * Sends `value` if that needs no waiting (a receiver waits, or the buffer has
   * room); not a checkpoint.
   *
   * @param value The item.
   * @throws {WouldBlock} if the send would have to wait.
   * @throws {ClosedResourceError} if this end is closed.
   * @throws {BrokenResourceError} if every receive end is closed.
   */
  sendNowait(value: T): void;
  /**
   * Returns a new send end of the same channel, to close independently: the
   * receivers see the end of the channel once every clone is closed.
   *
   * @throws {ClosedResourceError} if this end is closed.
   */
  clone(): MemorySendChannel<T>;
  /**
   * Closes this end (idempotent). Its waiting sends reject with
   * `ClosedResourceError`; when it was the last open send end, the waiting
   * receivers reject with `EndOfChannel`, and later receives do once the buffer
   * is drained.
   */
  close(): void;
  /** Calls {@linkcode MemorySendChannel.close}; resolves at once and never rejects (safe in `await using`). */
  aclose(): Promise<void>;
  /** Calls {@linkcode MemorySendChannel.close}. */
  [Symbol.dispose](): void;
  /** Calls {@linkcode MemorySendChannel.aclose}. */
  [Symbol.asyncDispose](): Promise<void>;
  /** The channel's state, shared by every clone. */
  statistics(): MemoryChannelStatistics;
}

/**
 * The receive end of a memory channel (`backend.createMemoryChannel()`).
 *
 * Every call on a closed end throws (or rejects with) `ClosedResourceError`.
 */
export interface MemoryReceiveChannel<T> extends ReceiveChannel<T>, Disposable {
  /**
   * Receives the oldest item, waiting, first in, first out with the other
   * waiting receivers, until there is one.
   *
   * A checkpoint, also when an item is ready: in a cancelled scope it rejects
   * with `CancelledError` and takes nothing. A receive cancelled while it waits
   * loses no item: the item goes to the next receiver.
   *
   * @throws {EndOfChannel} once every send end is closed and the buffer is empty.
   * @throws {ClosedResourceError} if this end is closed, also when it is closed
   *   while the call waits.
   */
  receive(): Promise<T>;
  /**
   * Receives the oldest item if there is one; not a checkpoint.
   *
   * @throws {WouldBlock} if there is none yet.
   * @throws {EndOfChannel} once every send end is closed and the buffer is empty.
   * @throws {ClosedResourceError} if this end is closed.
   */
  receiveNowait(): T;
  /**
   * Returns a new receive end of the same channel, to close independently: the
   * senders see a broken channel once every clone is closed. Clones share the
   * items: each item goes to one receiver.
   *
   * @throws {ClosedResourceError} if this end is closed.
   */
  clone(): MemoryReceiveChannel<T>;
  /**
   * Closes this end (idempotent). Its waiting receives reject with
   * `ClosedResourceError`; when it was the last open receive end, the buffered
   * items are dropped and the waiting and later sends reject with
   * `BrokenResourceError`.
   */
  close(): void;
  /** Calls {@linkcode MemoryReceiveChannel.close}; resolves at once and never rejects (safe in `await using`). */
  aclose(): Promise<void>;
  /** Calls {@linkcode MemoryReceiveChannel.close}. */
  [Symbol.dispose](): void;
  /** Calls {@linkcode MemoryReceiveChannel.aclose}. */
  [Symbol.asyncDispose](): Promise<void>;
  /**
   * Receives items until the channel ends (`EndOfChannel` ends the loop
   * cleanly; any other error is thrown). Leaving the loop early does not close
   * the end.
   */
  [Symbol.asyncIterator](): AsyncIterator<T>;
  /** The channel's state, shared by every clone. */
  statistics(): MemoryChannelStatistics;
}
