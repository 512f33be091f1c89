/**
 * Runners: the root of a scope tree, its deadline timer and its system tasks.
 *
 * @module
 */

import type { Instrument, TaskTree } from "../abc/diagnostics.ts";
import type { ResourceLeak, RunnerOptions } from "../abc/leaks.ts";
import type { Runner, SystemTask, TaskFunction } from "../abc/tasks.ts";
import { CancelScope, currentScope, type ScopeRunState } from "./cancel_scope.ts";
import { DeadlineQueue } from "./deadline_queue.ts";
import type { MacrotaskScheduler, TimerHost } from "./timers.ts";
import { attachClock, detachClock, type MockClock } from "./mock_clock.ts";
import { type DiagnosticsChannels, Instruments } from "./instruments.ts";
import { TaskCore } from "./task.ts";
import { collectTaskTree } from "./task_tree.ts";
import { ClosedResourceError, ResourceLeakError } from "../errors.ts";
import { assertFunction, describe } from "../_util/validate.ts";
import { CreationSite, LeakRegistry } from "./leaks.ts";

/** What the leak report says of a task of the runner. */
interface TaskRecord {
  readonly system: boolean;
  readonly name: string;
  readonly site: CreationSite | undefined;
}

/** The state shared by everything that runs under one runner. */
export class RunState implements ScopeRunState {
  readonly deadlines: DeadlineQueue;
  readonly root: CancelScope;
  /** What the runner made that is still alive, for the leak report (see `leaks.ts`). */
  readonly leaks: LeakRegistry;
  /** Bumped by every checkpoint that starts a wait or a yield (a mock clock's idle check). */
  activity = 0;
  #tasks: Map<TaskCore<unknown>, TaskRecord> = new Map();
  #strict: boolean;
  #report: ResourceLeak[] | null = null;
  #resources: Map<unknown, { value: unknown; close: (value: never) => void | Promise<void> }> = new Map();
  #closed = false;
  #resourcesClosed = false;
  /** The instruments and diagnostics channels; `null` while nothing listens (see `instruments.ts`). */
  instruments: Instruments | null;
  readonly #channels: DiagnosticsChannels | null;
  /** Debug mode: tasks record where they were started. */
  readonly debug: boolean;

  /**
   * @param timers The runtime's timers.
   * @param options Debug mode (creation stacks) and strict mode (`close()` rejects on leaks).
   * @param channels The runtime's diagnostics channels, if it has them.
   */
  constructor(timers: TimerHost, options: RunnerOptions = {}, channels: DiagnosticsChannels | null = null) {
    this.debug = options.debug === true;
    this.#channels = channels;
    this.instruments = channels === null ? null : new Instruments(channels);
    this.leaks = new LeakRegistry(this.debug);
    this.#strict = options.strict === true;
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
    const site = this.leaks.debug ? new CreationSite() : undefined;
    this.#tasks.set(task as TaskCore<unknown>, { system, name: fn.name, site });
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

  /** Adds an instrument (see `Runner.addInstrument`). */
  addInstrument(instrument: Instrument): void {
    (this.instruments ??= new Instruments(this.#channels)).add(instrument);
  }

  /** Removes an instrument; `false` when it was not installed. */
  removeInstrument(instrument: Instrument): boolean {
    const instruments = this.instruments;
    if (instruments === null || !instruments.remove(instrument)) return false;
    if (instruments.empty) this.instruments = null;
    return true;
  }

  /** A snapshot of the live tasks (see `AsyncBackend.taskTree()`). */
  taskTree(): TaskTree {
    return collectTaskTree(this.root, this.deadlines.now());
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

  /**
   * The leak report: what `close()` found alive (the tasks still running when
   * it began, then what was still open once it had finished), or, before it
   * was called, what is alive now.
   */
  leakReport(): ResourceLeak[] {
    return this.#report ?? this.#liveTasks().concat(this.leaks.snapshot());
  }

  #liveTasks(): ResourceLeak[] {
    return Array.from(this.#tasks.values(), (task) => ({
      kind: task.system ? "system task" as const : "task" as const,
      description: `${task.system ? "system task" : "task"} ${task.name || "(anonymous function)"}`,
      stack: task.site?.stack,
    }));
  }

  /**
   * Cancels everything under the root and waits for every task, closes the
   * run's resources, then makes the leak report: rejects with
   * `ResourceLeakError` in strict mode, warns in debug mode.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const tasks = this.#tasks.size === 0 ? [] : this.#liveTasks();
    this.root.cancel();
    while (this.#tasks.size > 0) {
      await Promise.all(Array.from(this.#tasks.keys(), (task) => task.settled()));
    }
    this.#resourcesClosed = true;
    const resources = Array.from(this.#resources.values());
    this.#resources.clear();
    await Promise.all(resources.map((entry) => entry.close(entry.value as never)));
    this.root.exit();
    this.deadlines.close();
    const leaks = this.#report = tasks.concat(this.leaks.snapshot());
    if (leaks.length === 0) return;
    if (this.#strict) throw new ResourceLeakError(leaks);
    if (this.leaks.debug) console.warn(new ResourceLeakError(leaks).message);
  }
}

/** The runner implementation shared by every backend. */
export class RunnerCore implements Runner {
  #loop: RunState;
  #closing: Promise<void> | null = null;
  #clock: MockClock | null = null;

  /**
   * @param timers The runtime's timers.
   * @param options Debug mode and strict mode of the leak report; the clock.
   * @param channels The runtime's diagnostics channels, if it has them.
   * @param turn A full turn of the event loop, for a mock clock's idle check.
   */
  constructor(
    timers: TimerHost,
    options?: RunnerOptions,
    channels: DiagnosticsChannels | null = null,
    turn?: MacrotaskScheduler,
  ) {
    const clock = options?.clock;
    if (clock !== undefined) {
      if (turn === undefined) throw new TypeError("A runner on a mock clock needs the runtime's loop turn");
      timers = attachClock(clock, timers, turn, () => this.#loop.activity);
      this.#clock = clock as MockClock;
    }
    this.#loop = new RunState(timers, options, channels);
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

  addInstrument(instrument: Instrument): void {
    this.#loop.addInstrument(instrument);
  }

  removeInstrument(instrument: Instrument): boolean {
    return this.#loop.removeInstrument(instrument);
  }

  taskTree(): TaskTree {
    return this.#loop.taskTree();
  }

  leaks(): ResourceLeak[] {
    return this.#loop.leakReport();
  }
}

/** The environment variable that turns the debug mode of every new runner on (`1` or `true`). */
export const DEBUG_ENV_VARIABLE = "ASYNC_BACKEND_DEBUG";

/**
 * `true` when {@linkcode DEBUG_ENV_VARIABLE} is `1` or `true`.
 *
 * @param env Reads an environment variable (the runtime host's), if any.
 */
export function debugFromEnv(env: ((name: string) => string | undefined) | undefined): boolean {
  const value = env?.(DEBUG_ENV_VARIABLE)?.trim().toLowerCase();
  return value === "1" || value === "true";
}

/**
 * Checks the options of `newRunner()`.
 *
 * @param options The options.
 * @throws {TypeError} when `options` is not an object or `debug`/`strict` is not a boolean.
 */
export function checkRunnerOptions(options: RunnerOptions | undefined): void {
  if (options === undefined) return;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`The 'options' argument must be an object, got ${describe(options)}`);
  }
  for (const name of ["debug", "strict"] as const) {
    const value = options[name];
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(`The 'options.${name}' argument must be a boolean, got ${describe(value)}`);
    }
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
 * The caller's runner.
 *
 * @param method The public method called, for the error outside a runner.
 */
export function callerRunState(method: string): RunState {
  const loop = currentScope()?.loop;
  if (!(loop instanceof RunState)) throw new Error(`${method}() must be called from code run by a runner`);
  return loop;
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
