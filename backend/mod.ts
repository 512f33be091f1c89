/**
 * The backend contracts and errors: `AsyncBackend`, its tasks, scopes,
 * primitives, socket adapters and thread types, and `CancelledError`,
 * `ClosedResourceError`, `BusyResourceError`.
 *
 * @example Catch a timeout
 * ```ts
 * import type { AsyncBackend } from "@easynetwork/async-backend/backend";
 *
 * export async function slow(backend: AsyncBackend): Promise<string> {
 *   try {
 *     return await backend.timeout(10, () => backend.sleepForever());
 *   } catch (error) {
 *     if (error instanceof DOMException && error.name === "TimeoutError") return "timed out";
 *     throw error;
 *   }
 * }
 * ```
 *
 * @module
 */

export * from "./abc/mod.ts";
export * from "./errors.ts";
export { CoreBackend, type RuntimeHost } from "./common/core_backend.ts";
export type { TimerHost } from "./common/deadline_queue.ts";
export type { MacrotaskScheduler } from "./common/checkpoint.ts";
export { type ThreadFunctionRef, type ThreadModule, threadModule } from "./common/thread_module.ts";
export { isThreadCancelled, threadName, threadSignal, throwIfThreadCancelled } from "./common/thread_context.ts";
export { activeThreadWorkers } from "./common/worker_pool.ts";
