/**
 * Runners: the root of a scope tree, its deadline timer and its system tasks.
 *
 * @module
 */

import type { Runner, SystemTask, TaskFunction } from "../abc/tasks.ts";
import { CancelScope, currentScope, type ScopeRunState } from "./cancel_scope.ts";
import { DeadlineQueue } from "./deadline_queue.ts";
import type { MacrotaskScheduler, TimerHost } from "./timers.ts";
import type { RunnerOptions } from "../abc/clock.ts";
import { attachClock, detachClock, type MockClock } from "./mock_clock.ts";
import { TaskCore } from "./task.ts";
import { ClosedResourceError } from "../errors.ts";
import { assertFunction } from "../_util/validate.ts";

/** The state shared by everything that runs under one runner. */
export class RunState implements ScopeRunState {
  readonly deadlines: DeadlineQueue;
  readonly root: CancelScope;
  activity = 0;
  #tasks: Set<TaskCore<unknown>> = new Set();
  #resources: Map<unknown, { value: unknown; close: (value: never) => void | Promise<void> }> = new Map();
  #closed = false;
  #resourcesClosed = false;

  /** @param timers The runtime's timers. */
  constructor(timers: TimerHost) {
    this.deadlines = new DeadlineQueue(timers, true);
    this.root = new CancelScope(null, null, false, this);
    this.root.enter();
  }

  /** `true` once the runner started closing. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Starts a task directly under the root scope.
   *
   * @param system A system task: its error is reported when nobody joined it
   *   (see {@linkcode reportUnjoinedError}); the main task's goes to `run()`'s caller.
   */
  // deno-lint-ignore no-explicit-any
  spawn<T>(fn: (...args: any[]) => T | PromiseLike<T>, args: unknown[], system = false): TaskCore<T> {
    const task = new TaskCore<T>(this.root, this, system ? this.#onSystemTaskDone : this.#onTaskDone);
    this.#tasks.add(task as TaskCore<unknown>);
    task.start(fn, args);
    return task;
  }

  /**
   * Returns the runner-wide resource stored under `key` (a worker pool, a
   * portal), creating it on first use. `Runner.close()` closes every resource
   * after every task ended. Throws once the resources were closed.
   *
   * @param key Identifies the resource.
   * @param create Makes it.
   * @param close Releases it; must not hang.
   */
  resource<T>(key: unknown, create: () => T, close: (value: T) => void | Promise<void>): T {
    const entry = this.#resources.get(key);
    if (entry !== undefined) return entry.value as T;
    if (this.#resourcesClosed) throw new ClosedResourceError("The runner is closed");
    const value = create();
    this.#resources.set(key, { value, close: close as (value: never) => void | Promise<void> });
    return value;
  }

  #onTaskDone = (task: TaskCore<unknown>): void => {
    this.#tasks.delete(task);
  };

  #onSystemTaskDone = (task: TaskCore<unknown>): void => {
    this.#tasks.delete(task);
    if (task.joined()) return;
    const failure = task.failure();
    if (failure !== undefined) reportUnjoinedError(failure.error);
  };

  /** Cancels everything under the root and waits for every task. */
  async close(): Promise<void> {
    this.#closed = true;
    this.root.cancel();
    while (this.#tasks.size > 0) {
      await Promise.all(Array.from(this.#tasks, (task) => task.settled()));
    }
    this.#resourcesClosed = true;
    const resources = Array.from(this.#resources.values());
    this.#resources.clear();
    await Promise.all(resources.map((entry) => entry.close(entry.value as never)));
    this.root.exit();
    this.deadlines.close();
  }
}

/** The runner implementation shared by every backend. */
export class RunnerCore implements Runner {
  #loop: RunState;
  #closing: Promise<void> | null = null;
  #clock: MockClock | null = null;

  /**
   * @param timers The runtime's timers.
   * @param options The runner's options (its clock).
   * @param turn A full turn of the event loop, for a mock clock's idle check.
   */
  constructor(timers: TimerHost, options: RunnerOptions | undefined, turn: MacrotaskScheduler) {
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw new TypeError(
        `The 'options' argument must be an object, got ${options === null ? "null" : typeof options}`,
      );
    }
    const clock = options?.clock;
    if (clock !== undefined) {
      timers = attachClock(clock, timers, turn, () => this.#loop.activity);
      this.#clock = clock as MockClock;
    }
    this.#loop = new RunState(timers);
  }

  // deno-lint-ignore no-explicit-any
  async run<A extends any[], T>(fn: TaskFunction<A, T>, ...args: A): Promise<T> {
    assertFunction(fn, "fn");
    if (this.#closing !== null) throw new ClosedResourceError("Cannot call run(): the runner is closed");
    const task = this.#loop.spawn(fn, args);
    await task.settled();
    return task.unwrap();
  }

  close(): Promise<void> {
    const clock = this.#clock;
    return (this.#closing ??= clock === null
      ? this.#loop.close()
      : this.#loop.close().finally(() => detachClock(clock)));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Reports the error of a system task that ended with nobody joining it, the
 * way each runtime reports a lost asynchronous error: as an unhandled promise
 * rejection whose reason is the error itself. Node emits `'unhandledRejection'`
 * (by default the process exits with the error, since Node 15), Deno, Bun and
 * browsers dispatch `unhandledrejection` on `globalThis` (Deno exits unless a
 * listener calls `preventDefault()`). Just what an `async` function called
 * without `await` would have done: the error is never silent.
 */
function reportUnjoinedError(error: unknown): void {
  void Promise.reject(error);
}

/**
 * Starts a system task in the caller's runner.
 *
 * @param fn The task function.
 * @param args Its arguments.
 */
// deno-lint-ignore no-explicit-any
export function spawnSystemTask<A extends any[], T>(fn: TaskFunction<A, T>, args: A): SystemTask<T> {
  assertFunction(fn, "fn");
  const loop = currentScope()?.loop;
  if (!(loop instanceof RunState)) throw new Error("spawnTask() must be called from code run by a runner");
  if (loop.closed) throw new ClosedResourceError("Cannot call spawnTask(): the runner is closed");
  return loop.spawn(fn, args, true);
}
