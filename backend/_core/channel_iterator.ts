/**
 * Async iteration over a memory channel's receive end: `for await` takes items
 * until `EndOfChannel`, which ends the loop cleanly.
 *
 * @module
 */

import { EndOfChannel } from "../errors.ts";

/** What the iterator needs of a receive end. */
export interface Receiver<T> {
  /** Takes the next item; rejects with `EndOfChannel` once every sender closed and the buffer is empty. */
  receive(): Promise<T>;
}

/** `for await` over a receive end: each step a `receive()`, `EndOfChannel` the end. */
export class ChannelIterator<T> implements AsyncIterator<T> {
  readonly #channel: Receiver<T>;

  constructor(channel: Receiver<T>) {
    this.#channel = channel;
  }

  next(): Promise<IteratorResult<T>> {
    return this.#channel.receive().then(iteratorResult, endOfIteration) as Promise<IteratorResult<T>>;
  }
}

function iteratorResult<T>(value: T): IteratorResult<T> {
  return { done: false, value };
}

function endOfIteration(error: unknown): IteratorResult<never> {
  if (error instanceof EndOfChannel) return { done: true, value: undefined };
  throw error;
}
