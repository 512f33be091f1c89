/**
 * Task groups: structured concurrency over a cancel scope.
 *
 * @module
 */

import type { CancelScopeHandle } from "../abc/cancel_scope.ts";
import type { Task, TaskFunction, TaskGroup, TaskStatus } from "../abc/tasks.ts";
import { CancelledError } from "../errors.ts";
import { CancelScope, currentScope, currentScopeVar } from "./cancel_scope.ts";
import { suspend } from "./checkpoint.ts";
import { TaskCore } from "./task.ts";
import { assertFunction } from "./validate.ts";

class TaskGroupCore implements TaskGroup {
  readonly #scope: CancelScope;
  #pending = 0;
  #errors: unknown[] = [];
  #closed = false;
  #idle: (() => void) | null = null;
  /** Tasks that have not called `started()` yet: their outcome goes to `start()`. */
  #starting: Map<TaskCore<unknown>, (task: TaskCore<unknown>) => void> | null = null;

  constructor(scope: CancelScope) {
    this.#scope = scope;
  }

  get cancelScope(): CancelScopeHandle {
    return this.#scope;
  }

  get errors(): unknown[] {
    return this.#errors;
  }

  // deno-lint-ignore no-explicit-any
  startSoon<A extends any[], T>(fn: TaskFunction<A, T>, ...args: A): Task<T> {
    this.#assertOpen("startSoon");
    assertFunction(fn, "fn");
    return this.#spawn(fn, args);
  }

  // deno-lint-ignore no-explicit-any
  start<A extends any[], V = void>(fn: (status: TaskStatus<V>, ...args: A) => unknown, ...args: A): Promise<V> {
    try {
      this.#assertOpen("start");
      assertFunction(fn, "fn");
    } catch (error) {
      // An async method rejects on bad input rather than throwing.
      return Promise.reject(error);
    }
    return suspend<V>((resolve, reject) => {
      // Assigned right below; `started` and the cleanup only run after that.
      // deno-lint-ignore prefer-const
      let task!: TaskCore<unknown>;
      let started = false;
      const status: TaskStatus<V> = {
        started: (value: V) => {
          if (started) throw new Error("started() was already called for this task");
          started = true;
          this.#starting?.delete(task);
          resolve(value);
        },
      };
      task = this.#spawn(fn as TaskFunction<unknown[], unknown>, [status, ...args]);
      (this.#starting ??= new Map()).set(task, (finished: TaskCore<unknown>) => {
        const failure = finished.failure();
        if (failure !== undefined) reject(failure.error);
        else if (finished.cancelled()) reject(new CancelledError("The task was cancelled before it called started()"));
        else reject(new Error("The task returned without calling started()"));
      });
      return () => {
        task.cancel();
      };
    });
  }

  /** Resolves once every child has finished; the group is closed afterwards. */
  async drain(): Promise<void> {
    while (this.#pending > 0) {
      await new Promise<void>((resolve) => (this.#idle = resolve));
    }
    this.#closed = true;
  }

  #assertOpen(method: string): void {
    if (this.#closed) throw new Error(`Cannot call ${method}(): the task group has exited`);
  }

  // deno-lint-ignore no-explicit-any
  #spawn<T>(fn: (...args: any[]) => T | PromiseLike<T>, args: unknown[]): TaskCore<T> {
    const task = new TaskCore<T>(this.#scope, this.#scope.loop, this.#onChildDone);
    this.#pending++;
    task.start(fn, args);
    return task;
  }

  #onChildDone = (task: TaskCore<unknown>): void => {
    const starting = this.#starting?.get(task);
    if (starting !== undefined) {
      this.#starting!.delete(task);
      starting(task);
    } else {
      const failure = task.failure();
      if (failure !== undefined) {
        this.#errors.push(failure.error);
        this.#scope.cancel();
      }
    }
    if (--this.#pending === 0 && this.#idle !== null) {
      const idle = this.#idle;
      this.#idle = null;
      idle();
    }
  };
}

/**
 * Runs `body(tg)` in a new task group and waits for its children.
 *
 * @param body The group's body.
 */
export async function runTaskGroup<T>(body: (tg: TaskGroup) => T | PromiseLike<T>): Promise<T | undefined> {
  assertFunction(body, "body");
  const scope = new CancelScope(currentScope() ?? null);
  const group = new TaskGroupCore(scope);
  scope.enter();
  let value: T | undefined = undefined;
  let failed = false;
  let bodyError: unknown = undefined;
  // A CancelledError raised while no scope around the body is cancelled (from
  // joining a cancelled task, say) is an ordinary body error: it cancels the
  // children, and the group's scope must not catch it.
  let foreign = false;
  try {
    value = await currentScopeVar.run(scope, () => body(group));
  } catch (error) {
    failed = true;
    bodyError = error;
    if (!(error instanceof CancelledError)) scope.cancel();
    else if (!scope.isCancelled()) {
      foreign = true;
      scope.cancel();
    }
  }
  await group.drain();
  scope.exit();
  const all = failed && !(bodyError instanceof CancelledError) ? [bodyError, ...group.errors] : group.errors;
  // The body rethrowing a child's error (`await task.join()`) is still one error.
  const errors = [...new Set(all)];
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} tasks of the task group failed`);
  if (failed) {
    if (!foreign && scope.catches(bodyError)) return undefined;
    throw bodyError;
  }
  return value;
}
