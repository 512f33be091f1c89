/**
 * The backend factory: pick, extend and instantiate backends by name, with a
 * default that follows the runtime (`"deno"` on Deno, `"node"` on Node and Bun).
 *
 * @example
 * ```ts
 * import { AsyncBackendFactory } from "@easynetwork/async-backend/factory";
 *
 * const backend = AsyncBackendFactory.ensure(undefined);
 * await backend.bootstrap(async () => {
 *   await backend.sleep(1);
 * });
 * console.log(AsyncBackendFactory.getAvailableBackends().has("node")); // true
 * ```
 *
 * @module
 */

export { AsyncBackendFactory, type AsyncBackendOptions } from "./async_backend_factory.ts";
export type { AsyncBackendClass, BuiltinBackendName } from "./types.ts";
