/**
 * The Node backend.
 *
 * @module
 */

import { BaseAsyncBackend } from "../base_backend.ts";
import { nodeHost } from "./_host.ts";

/**
 * The backend for Node (20 and later): the shared cancellation core on Node's
 * timers, the shared networking over `node:net`, `node:tls` and `node:dgram`,
 * and `node:worker_threads` for threads. It also runs on Deno and Bun, through their
 * `node:` modules.
 *
 * @example Run a task group with a timeout
 * ```ts
 * import { NodeBackend } from "@easynetwork/async-backend/backend/node";
 *
 * const backend = new NodeBackend();
 * const result = await backend.bootstrap(async () => {
 *   return await backend.moveOnAfter(50, async () => {
 *     await backend.createTaskGroup(async (tg) => {
 *       tg.startSoon(() => backend.sleep(10));
 *     });
 *     return "done";
 *   });
 * });
 * console.log(result); // "done"
 * ```
 */
export class NodeBackend extends BaseAsyncBackend {
  /** Creates the backend. It holds no resource until a runner is started. */
  constructor() {
    super(nodeHost);
  }
}
