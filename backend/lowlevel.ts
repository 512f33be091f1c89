/**
 * The door for backend and executor authors (Trio's `lowlevel`): the base class
 * every backend extends and the runtime hooks it takes, the checkpoint
 * primitive that every wait of the library is built on, and the worker pool
 * under `runInThread()`. Applications use a backend instead.
 *
 * @example A wait that is a checkpoint
 * ```ts
 * import { suspend } from "@easynetwork/async-backend/lowlevel";
 *
 * // Resolves after `ms`; when the caller's scope is cancelled, clears the timer and rejects.
 * function delay(ms: number): Promise<void> {
 *   return suspend<void>((resolve) => {
 *     const id = setTimeout(resolve, ms);
 *     return () => clearTimeout(id);
 *   });
 * }
 * await delay(1);
 * ```
 *
 * @module
 */

export * from "./mod.ts";
export { BaseAsyncBackend, type RuntimeHost } from "./base_backend.ts";
export type { TimerHost } from "./_core/timers.ts";
export type { SignalHost } from "./_core/signal_receiver.ts";
export type { DiagnosticsChannel, DiagnosticsChannels } from "./_core/instruments.ts";
export { type Cleanup, type MacrotaskScheduler, suspend, throwIfCancelled } from "./_core/checkpoint.ts";
export { assertThreadFunction } from "./_threads/run_in_thread.ts";
export {
  createThreadPool,
  type ThreadPool,
  type ThreadPoolJob,
  type ThreadPoolOptions,
} from "./_threads/thread_pool.ts";
