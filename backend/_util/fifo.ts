/**
 * One O(1) first-in first-out queue for jobs, chunks, datagrams and sockets.
 *
 * `Array.prototype.shift()` moves every element on each call once an array is
 * past V8's small-array fast path, and a head index into an ever-growing array
 * keeps every shifted slot alive until a copy. This queue is undici's
 * `FixedQueue` idea: a singly linked list of fixed-size ring buffers. Items are
 * pushed at the tail buffer and shifted from the head one; a full tail gets a
 * new buffer linked after it, an emptied head buffer is dropped (or, when it is
 * the only one, reused). Every operation is O(1), no element is ever moved, and
 * a shifted slot is cleared at once so the queue holds no garbage.
 *
 * @module
 */

/** Slots per buffer: a power of two, so that wrapping is a mask. */
const CHUNK_SIZE = 2048;
const MASK = CHUNK_SIZE - 1;

class Chunk<T> {
  /** Grown by appends up to `CHUNK_SIZE` (a small queue stays small), then a ring. */
  readonly items: (T | undefined)[] = [];
  /** Index of the oldest item. */
  head = 0;
  /** Number of items. */
  length = 0;
  next: Chunk<T> | null = null;
}

/** A FIFO queue: `push`, `shift` and `peek` in O(1), iteration oldest first. */
export class Fifo<T> implements Iterable<T> {
  #head: Chunk<T> = new Chunk();
  #tail: Chunk<T> = this.#head;
  #size = 0;

  /** The number of queued items. */
  get size(): number {
    return this.#size;
  }

  /** Appends `item`. */
  push(item: T): void {
    let tail = this.#tail;
    if (tail.length === CHUNK_SIZE) {
      tail = tail.next = new Chunk();
      this.#tail = tail;
    }
    tail.items[(tail.head + tail.length) & MASK] = item;
    tail.length++;
    this.#size++;
  }

  /** Removes and returns the oldest item, or `undefined` when empty. */
  shift(): T | undefined {
    const head = this.#head;
    if (head.length === 0) return undefined;
    const index = head.head;
    const item = head.items[index];
    head.items[index] = undefined;
    head.head = (index + 1) & MASK;
    head.length--;
    this.#size--;
    if (head.length === 0 && head.next !== null) this.#head = head.next;
    return item;
  }

  /** Returns the oldest item without removing it, or `undefined` when empty. */
  peek(): T | undefined {
    const head = this.#head;
    return head.length === 0 ? undefined : head.items[head.head];
  }

  /** Removes every item. */
  clear(): void {
    this.#head = this.#tail = new Chunk();
    this.#size = 0;
  }

  /** Yields the items, oldest first, without removing them. */
  *[Symbol.iterator](): Iterator<T> {
    for (let chunk: Chunk<T> | null = this.#head; chunk !== null; chunk = chunk.next) {
      for (let i = 0; i < chunk.length; i++) yield chunk.items[(chunk.head + i) & MASK] as T;
    }
  }
}
