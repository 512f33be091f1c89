/**
 * The Node backend: runs on Node 20 and later, and on Deno and Bun through
 * their `node:` modules.
 *
 * @example
 * ```ts
 * import { NodeBackend } from "@easynetwork/async-backend/backend/node";
 *
 * const backend = new NodeBackend();
 * await backend.bootstrap(() => backend.sleep(1));
 * ```
 *
 * @module
 */

export { NodeBackend } from "./backend.ts";
