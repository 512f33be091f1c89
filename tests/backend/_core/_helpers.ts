/**
 * Helpers of the `_core` unit tests: scopes made by hand, a settled-state
 * probe for promises, and a fake timer host (no test here waits on time).
 *
 * @module
 */

import { CancelScope, currentScopeVar } from "../../../backend/_core/cancel_scope.ts";
import { DeadlineQueue, type TimerHost } from "../../../backend/_core/deadline_queue.ts";

/** Makes and enters a scope under `parent`, run by the task identity `task`. */
export function entered(parent: CancelScope | null = null, task: object = {}): CancelScope {
  const scope = new CancelScope(parent, task);
  scope.enter();
  return scope;
}

/** Calls `fn` with `scope` as the current scope. */
export function inScope<R>(scope: CancelScope, fn: () => R): R {
  return currentScopeVar.run(scope, fn);
}

/** How a promise settled, once {@linkcode flush} ran. */
export interface Probe<T> {
  readonly settled: boolean;
  readonly value: T | undefined;
  readonly error: unknown;
}

/** Records how `promise` settles. */
export function probe<T>(promise: Promise<T>): Probe<T> {
  const state = { settled: false, value: undefined as T | undefined, error: undefined as unknown };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

/** Lets every pending promise reaction run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A timer host driven by the test: `advance(ms)` moves the clock and fires what is due. */
export class FakeTimers implements TimerHost {
  time = 0;
  readonly timers: Map<number, { cb: () => void; at: number; ref: boolean }> = new Map();
  calls = { set: 0, clear: 0 };
  #next = 1;

  now(): number {
    return this.time;
  }

  setTimer(cb: () => void, ms: number): unknown {
    const id = this.#next++;
    this.calls.set++;
    this.timers.set(id, { cb, at: this.time + ms, ref: true });
    return id;
  }

  clearTimer(id: unknown): void {
    this.calls.clear++;
    this.timers.delete(id as number);
  }

  refTimer(id: unknown, ref: boolean): void {
    const timer = this.timers.get(id as number);
    if (timer !== undefined) timer.ref = ref;
  }

  /** The one armed timer, if any. */
  armed(): { at: number; ref: boolean } | undefined {
    assertAtMostOne(this.timers.size);
    const timer = this.timers.values().next().value;
    return timer === undefined ? undefined : { at: timer.at, ref: timer.ref };
  }

  advance(ms: number): void {
    this.time += ms;
    for (const [id, timer] of [...this.timers]) {
      if (timer.at <= this.time) {
        this.timers.delete(id);
        timer.cb();
      }
    }
  }
}

function assertAtMostOne(n: number): void {
  if (n > 1) throw new Error(`expected at most one armed timer, found ${n}`);
}

/** A scope run state over fake timers, for scopes with deadlines. */
export function fakeLoop(
  timers: FakeTimers = new FakeTimers(),
): { deadlines: DeadlineQueue; timers: FakeTimers; activity: number } {
  return { deadlines: new DeadlineQueue(timers, false), timers, activity: 0 };
}

/** An entered root scope of a fake runner (a `fakeLoop()`), as a runner's task would be. */
export function runScope(): { loop: ReturnType<typeof fakeLoop>; scope: CancelScope; timers: FakeTimers } {
  const loop = fakeLoop();
  const scope = new CancelScope(null, {}, false, loop);
  scope.enter();
  return { loop, scope, timers: loop.timers };
}
