/**
 * The Deno backend.
 *
 * @example
 * ```ts
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 *
 * const backend = new DenoBackend();
 * await backend.bootstrap(() => backend.sleep(1));
 * ```
 *
 * @module
 */

export { DenoBackend } from "./backend.ts";
