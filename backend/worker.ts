/**
 * What a worker module imports: the state of the `runInThread()` call it is
 * running (Trio's `from_thread`). The cancel flag is cooperative: a worker
 * function checks it where it can stop.
 *
 * @example Stop a long loop when the caller is cancelled
 * ```ts
 * import { throwIfThreadCancelled } from "@easynetwork/async-backend/worker";
 *
 * export function sum(n: number): number {
 *   let total = 0;
 *   for (let i = 0; i < n; i++) {
 *     if (i % 1_000_000 === 0) throwIfThreadCancelled();
 *     total += i;
 *   }
 *   return total;
 * }
 * ```
 *
 * @module
 */

export { isThreadCancelled, threadName, threadSignal, throwIfThreadCancelled } from "./_threads/thread_state.ts";
