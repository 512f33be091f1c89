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
 * Entries with the same deadline fire in the order they were queued (or last
 * moved), as runtime timers of the same delay do: each slot of the heap keeps
 * its deadline and an insertion number in two arrays beside the entries (no
 * field on the entries, and no getter call while sifting).
 *
 * With `lazy` set, the timer is left armed (but unreferenced, so it keeps no
 * process alive) when the queue empties: entering and leaving a scope then costs
 * no timer call. {@linkcode DeadlineQueue.close} clears it and makes the queue
 * eager: without `lazy`, the timer is cleared as soon as the queue is empty.
 */
export class DeadlineQueue {
  #heap: DeadlineEntry[] = [];
  /** The deadline of the entry in the same slot. */
  #at: number[] = [];
  /** The insertion number of the entry in the same slot: the tie-break. */
  #seq: number[] = [];
  #nextSeq = 0;
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

  /** Adds `entry`, or moves it after its deadline changed (it then comes after the entries of the same deadline). */
  update(entry: DeadlineEntry): void {
    let i = entry.heapIndex;
    if (i < 0) {
      i = this.#heap.length;
      this.#heap.push(entry);
      this.#at.push(entry.deadlineValue);
      this.#seq.push(this.#nextSeq++);
      entry.heapIndex = i;
      this.#siftUp(i);
    } else {
      this.#at[i] = entry.deadlineValue;
      this.#seq[i] = this.#nextSeq++;
      this.#siftUp(i);
      this.#siftDown(entry.heapIndex);
    }
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
    const at = this.#at.pop()!;
    const seq = this.#seq.pop()!;
    entry.heapIndex = -1;
    if (last !== entry) {
      heap[i] = last;
      this.#at[i] = at;
      this.#seq[i] = seq;
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
    const at = this.#at[0];
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
    while (heap.length > 0 && this.#at[0] <= now) {
      const entry = heap[0];
      this.#detach(entry);
      entry.deadlineReached();
    }
    this.#arm();
  };

  /** Whether slot `a` comes before slot `b`. */
  #before(a: number, b: number): boolean {
    const at = this.#at;
    return at[a] < at[b] || (at[a] === at[b] && this.#seq[a] < this.#seq[b]);
  }

  #move(from: number, to: number): void {
    const entry = this.#heap[from];
    this.#heap[to] = entry;
    this.#at[to] = this.#at[from];
    this.#seq[to] = this.#seq[from];
    entry.heapIndex = to;
  }

  #siftUp(i: number): void {
    const heap = this.#heap;
    const entry = heap[i];
    const at = this.#at[i];
    const seq = this.#seq[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pAt = this.#at[p];
      if (pAt < at || (pAt === at && this.#seq[p] < seq)) break;
      this.#move(p, i);
      i = p;
    }
    this.#place(i, entry, at, seq);
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const entry = heap[i];
    const at = this.#at[i];
    const seq = this.#seq[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.#before(r, l) ? r : l;
      const cAt = this.#at[c];
      if (cAt > at || (cAt === at && this.#seq[c] > seq)) break;
      this.#move(c, i);
      i = c;
    }
    this.#place(i, entry, at, seq);
  }

  /** Puts `entry` (due `at`, queued `seq`-th) at heap position `i`. */
  #place(i: number, entry: DeadlineEntry, at: number, seq: number): void {
    this.#heap[i] = entry;
    this.#at[i] = at;
    this.#seq[i] = seq;
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
