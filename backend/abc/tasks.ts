/**
 * Tasks, system tasks, task groups and runners.
 *
 * @module
 */

import type { CancelScopeHandle } from "./cancel_scope.ts";
import type { Instrument, TaskTree } from "./diagnostics.ts";
import type { ResourceLeak } from "./leaks.ts";

/** A function run as a task: it may be sync or async. */
// deno-lint-ignore no-explicit-any
export type TaskFunction<A extends any[], T> = (...args: A) => T | PromiseLike<T>;

/**
 * A concurrent "thread" of execution started by a task group.
 */
export interface Task<T> {
  /**
   * The task's name, for the task tree and instruments: the `name` of the
   * function it runs (give one with `named(name, fn)`), or `"<anonymous>"`.
   */
  readonly name: string;
  /** `true` once the task returned, threw, or was cancelled. */
  done(): boolean;
  /**
   * Requests the cancellation of the task: its next checkpoint rejects with
   * `CancelledError`.
   *
   * @returns `false` if the task is already done, `true` otherwise.
   */
  cancel(): boolean;
  /** `true` when the task ended by a `CancelledError`. */
  cancelled(): boolean;
  /** Waits for the task to finish without unwrapping its outcome. Cancelling the wait does not cancel the task. */
  wait(): Promise<void>;
  /**
   * Waits for the task and returns its result, rethrows its error, or rejects with
   * `CancelledError` if the task was cancelled. Cancelling the join does not cancel
   * the task.
   */
  join(): Promise<T>;
}

/** A task spawned with `spawnTask()`: it runs under the runner, outside the caller's scopes. */
export interface SystemTask<T> extends Task<T> {
  /**
   * Like {@linkcode Task.join}, except that if the caller is cancelled while waiting,
   * the task is cancelled too and waited for before the call rejects.
   */
  joinOrCancel(): Promise<T>;
}

/** Given to the function started by {@linkcode TaskGroup.start}. */
export interface TaskStatus<V> {
  /**
   * Signals that the task has started; `start()` then resolves with `value`.
   * Calling it twice throws.
   */
  readonly started: (value: V) => void;
}

/**
 * A group of tasks: the group's body callback returns only after every child
 * task has finished. A child's error (or the body's) cancels the others.
 */
export interface TaskGroup {
  /**
   * Starts `fn(...args)` as a child task, soon (not synchronously).
   *
   * @throws {ClosedResourceError} if the group has already exited.
   */
  // deno-lint-ignore no-explicit-any
  startSoon<A extends any[], T>(fn: TaskFunction<A, T>, ...args: A): Task<T>;
  /**
   * Starts `fn(status, ...args)` as a child task and waits until it calls
   * `status.started(value)`; resolves with that value. An error thrown before
   * `started()` rejects this call instead of failing the group.
   *
   * Called in a cancelled scope, it still starts the child, which runs until its
   * first checkpoint: if it calls `started(value)` before that, this call resolves
   * `value`; otherwise it rejects with `CancelledError`. Cancelling the caller
   * while it waits cancels a child that has not started yet.
   */
  // deno-lint-ignore no-explicit-any
  start<A extends any[], V = void>(
    fn: (status: TaskStatus<V>, ...args: A) => unknown,
    ...args: A
  ): Promise<V>;
  /** The cancel scope of the group: cancelling it cancels the body and every child. */
  readonly cancelScope: CancelScopeHandle;
}

/**
 * Runs async functions in one context: its system tasks and deadline timer are
 * shared by every `run()`.
 */
export interface Runner extends AsyncDisposable {
  /**
   * Runs `fn(...args)` as a task of this runner and returns its result.
   *
   * @throws {ClosedResourceError} if the runner is closed.
   */
  // deno-lint-ignore no-explicit-any
  run<A extends any[], T>(fn: TaskFunction<A, T>, ...args: A): Promise<T>;
  /**
   * Closes the runner: cancels leftover system tasks and running `run()` calls and
   * waits for them. Idempotent.
   */
  close(): Promise<void>;
  /**
   * Adds an instrument: its hooks are called as the runner's tasks start and
   * end and its scopes are cancelled. Adding the same object twice does nothing.
   *
   * @param instrument The hooks.
   */
  addInstrument(instrument: Instrument): void;
  /**
   * Removes an instrument added with {@linkcode Runner.addInstrument}.
   *
   * @param instrument The hooks.
   * @returns `false` when it was not installed.
   */
  removeInstrument(instrument: Instrument): boolean;
  /** A snapshot of the runner's live tasks, their scopes and where each waits (see `AsyncBackend.taskTree()`). */
  taskTree(): TaskTree;
  /**
   * The leak report: what the runner made that was still alive when it closed
   * (the tasks still running when `close()` began; the sockets, listeners,
   * channels, worker threads and timers still open when it had finished), each
   * with its creation stack in debug mode. Before `close()`, what is alive now.
   */
  leaks(): ResourceLeak[];
}
