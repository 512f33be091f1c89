/**
 * Task utilities.
 *
 * @example
 * ```ts
 * import { SingleTaskRunner } from "@easynetwork/async-backend/tasks";
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 *
 * const backend = new DenoBackend();
 * await backend.bootstrap(async () => {
 *   const once = new SingleTaskRunner(backend, () => "hello");
 *   console.log(await once.run()); // "hello"
 * });
 * ```
 *
 * @module
 */

export { SingleTaskRunner } from "./single_task_runner.ts";
