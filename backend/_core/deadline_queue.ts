/**
 * One timer per runner for every scope deadline: a binary min-heap of scopes.
 *
 * @module
 */

import type { Instruments } from "./instruments.ts";
import { clampDelay, type TimerHost, webTimers } from "./timers.ts";

// The timer facility moved to the one timer module; re-exported for the modules
// that import it from here.
export type { TimerHost } from "./timers.ts";

/** What the queue needs of an entry. */
export interface DeadlineEntry {
  /** Absolute deadline, finite while queued. */
  readonly deadlineValue: number;
  /** Position in the heap, -1 when not queued; owned by the queue. */
  heapIndex: number;
  /** Called once the deadline has passed. */
  deadlineReached(): void;
}

/**
 * A min-heap of deadlines served by a single timer.
 *
 * With `lazy` set, the timer is left armed (but unreferenced, so it keeps no
 * process alive) when the queue empties: entering and leaving a scope then costs
 * no timer call. {@linkcode DeadlineQueue.close} clears it and makes the queue
 * eager: without `lazy`, the timer is cleared as soon as the queue is empty.
 */
export class DeadlineQueue {
  #heap: DeadlineEntry[] = [];
  #host: TimerHost;
  #lazy: boolean;
  #timer: unknown = undefined;
  #timerAt = Infinity;
  #timerRef = true;

  /**
   * @param host The runtime's timers.
   * @param lazy Leave the timer armed when the queue empties.
   */
  constructor(host: TimerHost, lazy: boolean) {
    this.#host = host;
    this.#lazy = lazy;
  }

  /** The clock of the queue's timer host, in ms. */
  now(): number {
    return this.#host.now();
  }

  /** The queue's timer host: the clock of its runner. */
  get timers(): TimerHost {
    return this.#host;
  }

  /** Number of queued entries. */
  get size(): number {
    return this.#heap.length;
  }

  /** Adds `entry`, or moves it after its deadline changed. */
  update(entry: DeadlineEntry): void {
    const heap = this.#heap;
    let i = entry.heapIndex;
    if (i < 0) {
      i = heap.length;
      heap.push(entry);
      entry.heapIndex = i;
    }
    this.#siftUp(i);
    this.#siftDown(entry.heapIndex);
    this.#arm();
  }

  /** Removes `entry` if queued. */
  remove(entry: DeadlineEntry): void {
    if (entry.heapIndex < 0) return;
    this.#detach(entry);
    if (this.#heap.length === 0) this.#arm();
  }

  /** Clears the timer; from now on the queue clears it whenever it empties. */
  close(): void {
    this.#lazy = false;
    this.#clear();
  }

  #detach(entry: DeadlineEntry): void {
    const i = entry.heapIndex;
    const heap = this.#heap;
    const last = heap.pop()!;
    entry.heapIndex = -1;
    if (last !== entry) {
      heap[i] = last;
      last.heapIndex = i;
      this.#siftUp(i);
      this.#siftDown(last.heapIndex);
    }
  }

  #clear(): void {
    if (this.#timer !== undefined) {
      this.#host.clearTimer(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Infinity;
    }
  }

  #arm(): void {
    const heap = this.#heap;
    if (heap.length === 0) {
      if (!this.#lazy) this.#clear();
      else if (this.#timer !== undefined && this.#timerRef) {
        this.#host.refTimer(this.#timer, false);
        this.#timerRef = false;
      }
      return;
    }
    const at = heap[0].deadlineValue;
    // An armed timer that fires no later than needed is kept: it re-arms itself.
    if (this.#timer !== undefined && this.#timerAt <= at) {
      if (!this.#timerRef) {
        this.#host.refTimer(this.#timer, true);
        this.#timerRef = true;
      }
      return;
    }
    this.#clear();
    this.#timerAt = at;
    this.#timerRef = true;
    this.#timer = this.#host.setTimer(this.#fire, clampDelay(at - this.#host.now()));
  }

  #fire = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const heap = this.#heap;
    const now = this.#host.now();
    while (heap.length > 0 && heap[0].deadlineValue <= now) {
      const entry = heap[0];
      this.#detach(entry);
      entry.deadlineReached();
    }
    this.#arm();
  };

  #siftUp(i: number): void {
    const heap = this.#heap;
    const entry = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p];
      if (parent.deadlineValue <= entry.deadlineValue) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = entry;
    entry.heapIndex = i;
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const entry = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r].deadlineValue < heap[l].deadlineValue ? r : l;
      if (heap[c].deadlineValue >= entry.deadlineValue) break;
      heap[i] = heap[c];
      heap[i].heapIndex = i;
      i = c;
    }
    heap[i] = entry;
    entry.heapIndex = i;
  }
}

/** What a scope knows about the runner it belongs to. */
export interface ScopeRunState {
  /** The runner's deadline queue (its `timers` are the runner's clock). */
  readonly deadlines: DeadlineQueue;
  /** The runner's instruments, `null` when nothing listens. */
  readonly instruments?: Instruments | null;
  /** Debug mode: tasks record where they were started. */
  readonly debug?: boolean;
  /** Bumped by every checkpoint that starts a wait or a yield: what a mock clock's idle check reads. */
  activity: number;
}

// Scopes created outside any runner run on the web platform's timers (timers.ts).
let fallbackDeadlines: DeadlineQueue | undefined;

/** The deadline queue of a scope: its runner's, or an eager one outside runners. */
export function queueOf(scope: { readonly loop: ScopeRunState | null }): DeadlineQueue {
  return scope.loop?.deadlines ?? (fallbackDeadlines ??= new DeadlineQueue(webTimers, false));
}
