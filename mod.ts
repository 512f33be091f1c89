/**
 * Structured concurrency and networking for Deno and Node: the `AsyncBackend`
 * of a Python library ported to TypeScript. Runners, tasks and task groups,
 * Trio-style cancel scopes with level-triggered cancellation, timeouts, locks,
 * events and conditions, TCP, TLS and UDP, and worker threads.
 *
 * This module is the same on JSR and npm: the contract types, the errors,
 * `threadModule`, the backend factory, `SingleTaskRunner` and the executors.
 * The factory gives the backend of the runtime; the concrete backends are
 * `@easynetwork/async-backend/backend/deno` and `.../backend/node`.
 *
 * @example Cancel a slow operation after a deadline
 * ```ts
 * import { AsyncBackendFactory } from "@easynetwork/async-backend";
 *
 * const backend = AsyncBackendFactory.new();
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
export * from "./factory/mod.ts";
export * from "./tasks/mod.ts";
export * from "./futures/mod.ts";
