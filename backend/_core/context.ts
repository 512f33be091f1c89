/**
 * The task context: a value carried across `await` for the current task.
 *
 * This is the one module of the shared core that imports a `node:` module:
 * `AsyncLocalStorage` exists on Deno, Node and Bun. Keep it the only place that
 * knows how the context is carried, so it can move to TC39 `AsyncContext`.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";

/** A variable whose value follows the asynchronous flow of control. */
export class ContextVariable<T> {
  #storage: AsyncLocalStorage<T> = new AsyncLocalStorage<T>();

  /** Returns the value of the current flow, `undefined` outside any `run()`. */
  get(): T | undefined {
    return this.#storage.getStore();
  }

  /**
   * Calls `fn` with the variable set to `value` for `fn` and everything it awaits.
   *
   * @param value The value seen by `fn`.
   * @param fn The function to call.
   */
  run<R>(value: T, fn: () => R): R {
    return this.#storage.run(value, fn);
  }

  /**
   * Calls `fn(arg)` with the variable set to `value`: no closure needed to pass `arg`.
   *
   * @param value The value seen by `fn`.
   * @param fn The function to call.
   * @param arg Its argument.
   */
  runWith<A, R>(value: T, fn: (arg: A) => R, arg: A): R {
    return this.#storage.run(value, fn, arg);
  }
}

/**
 * Returns `fn` bound to the caller's context: however it is called later, it
 * sees the values every {@linkcode ContextVariable} has now (what a runtime's
 * own timer does for its callback).
 *
 * @param fn The function to bind.
 */
export function bindToContext<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return AsyncLocalStorage.bind(fn);
}
