/**
 * Executors awaited as checkpoints: {@linkcode AsyncExecutor} over any object
 * with a `submit()`, and {@linkcode AsyncThreadPoolExecutor} over its own pool
 * of worker threads.
 *
 * @example
 * ```ts
 * import { threadModule } from "@easynetwork/async-backend";
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 * import { AsyncThreadPoolExecutor } from "@easynetwork/async-backend/futures";
 *
 * const work = threadModule<{ add(a: number, b: number): number }>(
 *   "data:text/javascript,export const add = (a, b) => a + b;",
 * );
 * const backend = new DenoBackend();
 * await backend.bootstrap(async () => {
 *   await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 1, threadNamePrefix: "adder" });
 *   console.log(await executor.run(work.add, 2, 3)); // 5
 * });
 * ```
 *
 * @module
 */

export {
  AsyncExecutor,
  type Executor,
  type ExecutorMapOptions,
  type ExecutorShutdownOptions,
} from "./async_executor.ts";
export { AsyncThreadPoolExecutor, type AsyncThreadPoolExecutorOptions } from "./async_thread_pool_executor.ts";
