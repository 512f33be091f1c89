/**
 * Task groups: structured concurrency over a cancel scope.
 *
 * @module
 */

import { ScopeHandle } from "./scope_handle.ts";
import type { CancelScopeHandle } from "../abc/cancel_scope.ts";
import type { Task, TaskFunction, TaskGroup, TaskStatus } from "../abc/tasks.ts";
import { CancelledError, ClosedResourceError } from "../errors.ts";
import { CallbackWaiter, CancelScope, currentScope, currentScopeVar, Waiter } from "./cancel_scope.ts";
import { TaskCore } from "./task.ts";
import { assertFunction } from "../_util/validate.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A task group. It is also the waiter its owner registers on the group's scope
 * while it waits for the children at the group's end: nothing to cancel there,
 * but the task tree sees the owner waiting at `"task group"`.
 */
class TaskGroupCore extends Waiter implements TaskGroup {
  readonly #scope: CancelScope;
  #handle: ScopeHandle | undefined = undefined;
  #pending = 0;
  #errors: unknown[] = [];
  #closed = false;
  /** `true` once a child ended by a cancellation that its own scope did not catch. */
  cancellationReached = false;
  #idle: (() => void) | null = null;
  /** Tasks that have not called `started()` yet: their outcome goes to `start()`. */
  #starting: Map<TaskCore<unknown>, (task: TaskCore<unknown>) => void> | null = null;

  constructor(scope: CancelScope) {
    super();
    this.#scope = scope;
  }

  override get waitKind(): string {
    return "task group";
  }

  /** A cancellation reached the wait for the children: it goes on (it reaches them too), still in sight. */
  abort(): void {
    RESOLVED.then(() => {
      if (this.#idle !== null && this.waiterScope === null) this.#scope.addWaiter(this);
    });
  }

  get cancelScope(): CancelScopeHandle {
    return (this.#handle ??= new ScopeHandle(this.#scope));
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
    const caller = currentScope() ?? null;
    return new Promise<V>((resolve, reject) => {
      // Assigned right below; `started` and the waiter only run after that.
      // deno-lint-ignore prefer-const
      let task!: TaskCore<unknown>;
      let started = false;
      let callerCancelled: CancelledError | null = null;
      // The caller waits as a checkpoint: its cancellation cancels the child that
      // has not started yet; the call then settles when the child does.
      const waiter = new CallbackWaiter((error) => {
        callerCancelled = error;
        task.cancel();
      }, "task start");
      const status: TaskStatus<V> = {
        started: (value: V) => {
          if (started) throw new Error("started() was already called for this task");
          started = true;
          this.#starting?.delete(task);
          caller?.removeWaiter(waiter);
          if (callerCancelled !== null) reject(callerCancelled);
          else resolve(value);
        },
      };
      task = this.#spawn(fn as TaskFunction<unknown[], unknown>, [status, ...args]);
      (this.#starting ??= new Map()).set(task, (finished: TaskCore<unknown>) => {
        caller?.removeWaiter(waiter);
        const failure = finished.failure();
        if (failure !== undefined) reject(failure.error);
        else if (finished.cancelled()) reject(new CancelledError("The task was cancelled before it called started()"));
        else reject(new Error("The task returned without calling started()"));
      });
      if (caller === null) return;
      if (caller.isCancelled()) {
        // SPEC 2.1 rule 3: in a cancelled scope the child still runs until its
        // first checkpoint. Its synchronous start runs on the microtask queued by
        // #spawn; this one comes after it and cancels a child not started by then.
        RESOLVED.then(() => {
          if (!started) task.cancel();
        });
      } else {
        caller.addWaiter(waiter);
      }
    });
  }

  /** Resolves once every child has finished; the group is closed afterwards. */
  async drain(): Promise<void> {
    while (this.#pending > 0) {
      this.#scope.addWaiter(this);
      await new Promise<void>((resolve) => (this.#idle = resolve));
    }
    this.#scope.removeWaiter(this);
    this.#closed = true;
  }

  #assertOpen(method: string): void {
    if (this.#closed) throw new ClosedResourceError(`Cannot call ${method}(): the task group has exited`);
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
      } else if (task.cancellationEscaped()) {
        this.cancellationReached = true;
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
 * The group's scope decides the outcome once every child has finished: the
 * errors of the body and children if any; otherwise, when a cancellation reached
 * the scope (the body or a child ended by a cancellation that is not the child's
 * own, or the scope is cancelled when the group is left: leaving is a
 * checkpoint), the scope catches it by SPEC 2.1 rule 1 or the group rejects with
 * `CancelledError`, which carries an enclosing scope's cancellation out.
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
  const all = failed && !(bodyError instanceof CancelledError) ? [bodyError, ...group.errors] : group.errors;
  // The body rethrowing a child's error (`await task.join()`) is still one error.
  const errors = [...new Set(all)];
  if (errors.length > 0) {
    scope.exit();
    if (errors.length === 1) throw errors[0];
    throw new AggregateError(errors, `${errors.length} tasks of the task group failed`);
  }
  if (foreign) {
    scope.exit();
    throw bodyError;
  }
  if (failed || group.cancellationReached || scope.isCancelledNow()) {
    const error = failed ? bodyError : scope.cancelledError();
    const caught = scope.catches(error);
    scope.exit();
    if (caught) return failed ? undefined : value;
    throw error;
  }
  scope.exit();
  return value;
}
