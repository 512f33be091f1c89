/**
 * `SingleTaskRunner`: run a function once, share its outcome.
 *
 * @module
 */

import type { AsyncBackend } from "../backend/abc/async_backend.ts";
import type { SystemTask, TaskFunction } from "../backend/abc/tasks.ts";
import { assertFunction, describe } from "../backend/_util/validate.ts";

/**
 * Runs `fn(...args)` once, as a system task started by the first `run()`; every
 * caller of `run()` gets its result or error. If the first caller is cancelled,
 * the task is cancelled; later callers' cancellation only stops their own wait.
 *
 * @example
 * ```ts
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 * import { SingleTaskRunner } from "@easynetwork/async-backend/tasks";
 *
 * const backend = new DenoBackend();
 * let calls = 0;
 * await backend.bootstrap(async () => {
 *   const runner = new SingleTaskRunner(backend, async () => ++calls);
 *   const results = await Promise.all([runner.run(), runner.run(), runner.run()]);
 *   console.log(results, calls); // [1, 1, 1] 1
 * });
 * ```
 */
// deno-lint-ignore no-explicit-any
export class SingleTaskRunner<T, A extends any[] = any[]> {
  #backend: AsyncBackend;
  #call: { fn: TaskFunction<A, T>; args: A } | null;
  #task: SystemTask<T> | null = null;

  /**
   * Prepares the runner; nothing runs until the first `run()`.
   *
   * @param backend The backend that runs the task.
   * @param fn The function to run once.
   * @param args Its arguments.
   */
  constructor(backend: AsyncBackend, fn: TaskFunction<A, T>, ...args: A) {
    if (backend === null || typeof backend !== "object" || typeof backend.spawnTask !== "function") {
      throw new TypeError(`The 'backend' argument must be an AsyncBackend, got ${describe(backend)}`);
    }
    assertFunction(fn, "fn");
    this.#backend = backend;
    this.#call = { fn, args };
  }

  /**
   * Starts the function on the first call and waits for its outcome.
   *
   * @returns The function's result; rejects with its error, or with
   *   `CancelledError` when it was cancelled.
   */
  async run(): Promise<T> {
    if (this.#task !== null) return this.#task.join();
    const call = this.#call;
    this.#call = null;
    if (call === null) {
      // Cancelled before it ever ran.
      this.#task = this.#backend.spawnTask(() => this.#backend.sleepForever());
      this.#task.cancel();
      return this.#task.join();
    }
    this.#task = this.#backend.spawnTask(call.fn, ...call.args);
    return this.#task.joinOrCancel();
  }

  /**
   * Cancels the task, or prevents it from ever running.
   *
   * @returns `false` if the task had already finished.
   */
  cancel(): boolean {
    this.#call = null;
    return this.#task === null ? true : this.#task.cancel();
  }
}
