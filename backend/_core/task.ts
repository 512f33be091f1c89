/**
 * Tasks: a function run in its own cancel scope, observable and joinable.
 *
 * ## Why a task is what it is
 *
 * Spawn+join of 100k trivial tasks spent 64–82% of its time in garbage
 * collection (`scripts/bench/core_bench.ts`), and what a pending task holds is
 * what the collector copies: 552 bytes per spawned task on Deno (a task object,
 * a scope object, a closure, a derived promise), against 56 for a context run and
 * a promise. Now 344: the task is its own cancel scope, the scope's booleans and
 * cause are one `#flags` field and the task's outcome bits one `#state`; the start
 * is a reaction on one settled promise shared by every start, calling a module
 * function (no closure) that takes the oldest task from a queue of tasks not yet
 * started; the reaction is queued in the spawner's context (shared by all its
 * tasks, so nothing per task: the task's own context is made when it starts, by a
 * run that passes the task without a closure). Tasks start as before: one microtask each,
 * in spawn order, after the spawner's synchronous code, in its async context.
 * (Starting a tick's tasks from one microtask would be cheaper still, but every
 * task would then run in the first spawner's context: a caller's own
 * `AsyncLocalStorage` values would not follow; `tests/contract/core_tasks.ts`
 * checks they do.) The body runs without an async method around it: its result
 * gets one reaction whose handlers are module functions bound to the task, and
 * the task keeps its function's name, not the function, once it has called it.
 * A task sleeping in a group held 1,319 heap bytes on Node 20 with the async
 * method and two closures, 900 now (`scripts/bench/memory_bench.ts`).
 *
 * @module
 */

import type { SystemTask } from "../abc/tasks.ts";
import { CancelledError } from "../errors.ts";
import { CancelScope, currentScope, currentScopeVar, type ScopeRunState } from "./cancel_scope.ts";
import { suspend } from "./checkpoint.ts";
import { WaitQueue } from "./wait_queue.ts";

/** The last task id given (ids are given when a task is first inspected). */
let lastTaskId = 0;
/** Task ids, given on first use (diagnostics only: no field on every task). */
const taskIds: WeakMap<object, number> = new WeakMap();
/** Where each task was started, in debug mode; the stacks are formatted only when read. */
const startSites: WeakMap<object, Error> = new WeakMap();

/**
 * Tasks spawned and not yet started, oldest first from `startHead`: each start
 * reaction (see {@linkcode TaskCore.start}) starts the oldest. Reactions on one
 * settled promise run in the order they were added, one per task, so the k-th
 * reaction starts the k-th task, in the context its spawner had.
 */
const starting: (TaskCore<unknown> | undefined)[] = [];
let startHead = 0;
/** The settled promise every start reaction is added to. */
const settled: Promise<void> = Promise.resolve();

/** A start reaction: starts the oldest task not yet started. */
function startNext(): void {
  const task = starting[startHead]!;
  starting[startHead++] = undefined;
  if (startHead === starting.length) {
    starting.length = 0;
    startHead = 0;
  } else if (startHead >= 4096 && startHead * 2 >= starting.length) {
    // Spawns that keep coming while tasks start: drop the started half (amortized O(1)).
    starting.copyWithin(0, startHead);
    starting.length -= startHead;
    startHead = 0;
  }
  TaskCore.begin(task);
}

/** Calls the task's function: a module function, so that the context run needs no closure. */
function callTask(task: TaskCore<unknown>): unknown {
  return TaskCore.invoke(task);
}

/** The body's promise fulfilled: `this` is the task. */
function fulfilled(this: TaskCore<unknown>, value: unknown): void {
  TaskCore.finish(this, value, false);
}

/** The body's promise rejected: `this` is the task. */
function rejected(this: TaskCore<unknown>, error: unknown): void {
  TaskCore.finish(this, error, true);
}

const enum State {
  Pending,
  Fulfilled,
  Rejected,
  Cancelled,
  /** The bits of the outcome. */
  Outcome = 3,
  /** It ended by a cancellation of an enclosing scope that its own scope did not catch. */
  Escaped = 4,
  /** Someone called `wait()`, `join()` or `joinOrCancel()`: the task's outcome has a taker. */
  Joined = 8,
}

/** Called once when a task finishes. */
export type TaskObserver = (task: TaskCore<unknown>) => void;

/**
 * The task implementation shared by task groups, system tasks and runners. The
 * task is its own cancel scope (see the module comment): cancelling it cancels the task.
 */
export class TaskCore<T> extends CancelScope implements SystemTask<T> {
  /** The outcome (`State`), plus the `Escaped` and `Joined` bits (one field: a smaller task). */
  #state: number = State.Pending;
  /** The value, or the error, the task ended with. */
  #result: unknown = undefined;
  #observer: TaskObserver | null;
  /** Who waits for the task to finish (`wait()`, `join()`, `settled()`); made on first use. */
  #waiters: WaitQueue | null = null;
  /** The function the task runs until it is called, then its name (the task does not keep it alive). */
  // deno-lint-ignore no-explicit-any
  #fn: ((...args: any[]) => unknown) | string | null = null;
  /** Its arguments, until it starts. */
  #args: unknown[] | null = null;

  /**
   * @param parent The scope the task runs under.
   * @param loop The runner.
   * @param observer Told when the task finishes.
   */
  constructor(parent: CancelScope | null, loop: ScopeRunState | null, observer: TaskObserver | null) {
    super(parent, null, false, loop);
    this.task = this;
    this.#observer = observer;
    if (loop?.debug === true) startSites.set(this, new Error("Task started"));
  }

  /** The task's own scope: the task itself. */
  get scope(): CancelScope {
    return this;
  }

  /** Where the task was started, in debug mode. */
  get stack(): string | undefined {
    return startSites.get(this)?.stack;
  }

  /** The name of the task's function (see `named()`), or `"<anonymous>"`. */
  get name(): string {
    const fn = this.#fn;
    return (typeof fn === "string" ? fn : fn?.name) || "<anonymous>";
  }

  /** A number that identifies the task, given on first use (diagnostics only). */
  get id(): number {
    let id = taskIds.get(this);
    if (id === undefined) taskIds.set(this, id = ++lastTaskId);
    return id;
  }

  /** Runs `fn(...args)` on a microtask (in the caller's async context). */
  // deno-lint-ignore no-explicit-any
  start(fn: (...args: any[]) => T | PromiseLike<T>, args: unknown[]): void {
    this.#fn = fn;
    this.#args = args;
    const instruments = this.loop?.instruments;
    if (instruments != null) instruments.taskSpawned(this as TaskCore<unknown>);
    // A reaction on a settled promise, not queueMicrotask(): Node wraps every
    // queueMicrotask() callback in an AsyncResource, and Deno's costs twice this.
    // It runs in the caller's context. One promise shared by every start and a
    // module function that takes the oldest task from a queue: no closure, and
    // no promise per task but the reaction's own.
    starting.push(this as TaskCore<unknown>);
    settled.then(startNext);
  }

  /** Starts `task`'s body (from its start reaction): its function in its scope, then {@linkcode #finish}. */
  static begin(task: TaskCore<unknown>): void {
    task.enter();
    let result: unknown;
    try {
      result = currentScopeVar.runWith(task, callTask, task);
    } catch (error) {
      task.#finish(error, true);
      return;
    }
    // What `await result` in an async method did, without the method's frame and
    // promise: one reaction on the result (a promise made for a plain value).
    // Bound module functions: smaller than two closures and their context.
    Promise.resolve(result).then(fulfilled.bind(task), rejected.bind(task));
  }

  /** The end of the task's body: `this` is the task (see {@linkcode begin}). */
  static finish(task: TaskCore<unknown>, outcome: unknown, failed: boolean): void {
    task.#finish(outcome, failed);
  }

  /** Calls the task's function (in the task's context: see {@linkcode callTask}). */
  static invoke(task: TaskCore<unknown>): unknown {
    const fn = task.#fn as (...args: unknown[]) => unknown;
    const args = task.#args!;
    task.#args = null;
    task.#fn = fn.name;
    return args.length === 0 ? fn() : fn(...args);
  }

  /** Records the outcome, leaves the scope, wakes the joiners and tells the observer. */
  #finish(outcome: unknown, failed: boolean): void {
    this.#result = outcome;
    if (!failed) {
      this.#state |= State.Fulfilled;
    } else if (outcome instanceof CancelledError) {
      // The task's own scope catches its own cancellation (`task.cancel()`); a
      // cancellation of the group or an enclosing scope goes on to the group.
      const escaped = !this.catches(outcome) && this.parent !== null && this.parent.isCancelledNow();
      this.#state |= escaped ? State.Cancelled | State.Escaped : State.Cancelled;
    } else {
      this.#state |= State.Rejected;
    }
    this.exit();
    const waiters = this.#waiters;
    this.#waiters = null;
    if (waiters !== null) waiters.unparkAll();
    const instruments = this.loop?.instruments;
    if (instruments != null) instruments.taskExited(this as TaskCore<unknown>);
    this.#observer?.(this as TaskCore<unknown>);
  }

  /** The error the task failed with, when it failed with something other than a cancellation. */
  failure(): { error: unknown } | undefined {
    return (this.#state & State.Outcome) === State.Rejected ? { error: this.#result } : undefined;
  }

  /**
   * `true` when the task ended by a cancellation of an enclosing scope (its group's
   * or one around the group), which its own scope did not catch: the group must
   * carry it out (SPEC 2.1 rule 2).
   */
  cancellationEscaped(): boolean {
    return (this.#state & State.Escaped) !== 0;
  }

  /** `true` once `wait()`, `join()` or `joinOrCancel()` was called: someone takes the task's outcome. */
  joined(): boolean {
    return (this.#state & State.Joined) !== 0;
  }

  /** Waits for the task without being a checkpoint. */
  settled(): Promise<void> {
    if ((this.#state & State.Outcome) !== State.Pending) return Promise.resolve();
    return (this.#waiters ??= new WaitQueue()).parkUncancellable();
  }

  /** Returns the result of a finished task, or throws its error. */
  unwrap(): T {
    switch (this.#state & State.Outcome) {
      case State.Fulfilled:
        return this.#result as T;
      case State.Rejected:
        throw this.#result;
      case State.Cancelled:
        throw new CancelledError("The task was cancelled");
      default:
        throw new Error("The task is not done");
    }
  }

  done(): boolean {
    return (this.#state & State.Outcome) !== State.Pending;
  }

  /** Cancels the task (its scope) while it runs; `false` once it has finished. */
  override cancel(reason?: unknown): boolean {
    if ((this.#state & State.Outcome) !== State.Pending) return false;
    super.cancel(reason);
    return true;
  }

  cancelled(): boolean {
    return (this.#state & State.Outcome) === State.Cancelled;
  }

  wait(): Promise<void> {
    this.#state |= State.Joined;
    if ((this.#state & State.Outcome) !== State.Pending) return suspend<void>((resolve) => resolve());
    if (currentScope()?.task === this) {
      return Promise.reject(new Error("A task cannot wait for or join itself: it would wait forever"));
    }
    return (this.#waiters ??= new WaitQueue("join")).park();
  }

  async join(): Promise<T> {
    await this.wait();
    return this.unwrap();
  }

  async joinOrCancel(): Promise<T> {
    try {
      await this.wait();
    } catch (error) {
      if (!(error instanceof CancelledError)) throw error;
      this.cancel();
      await this.settled();
    }
    return this.unwrap();
  }
}
