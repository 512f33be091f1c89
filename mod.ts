/**
 * Structured concurrency and networking for Deno and Node: the `AsyncBackend`
 * of a Python library ported to TypeScript. Runners, tasks and task groups,
 * Trio-style cancel scopes with level-triggered cancellation, timeouts, locks,
 * events and conditions, and (as they land) TCP, TLS, UDP and worker threads.
 *
 * @example Cancel a slow operation after a deadline
 * ```ts
 * import { DenoBackend } from "@easynetwork/async-backend";
 *
 * const backend = new DenoBackend();
 * const value = await backend.bootstrap(async () => {
 *   return await backend.moveOnAfter(20, async () => {
 *     await backend.sleep(10_000);
 *     return "never";
 *   });
 * });
 * console.log(value); // undefined
 * ```
 *
 * @module
 */

export * from "./backend/mod.ts";
export { DenoBackend } from "./backend/deno/mod.ts";
export { SingleTaskRunner } from "./tasks/mod.ts";
