/**
 * The Deno backend.
 *
 * @module
 */

import { BaseAsyncBackend } from "../base_backend.ts";
import { denoHost } from "./_host.ts";

/**
 * The backend for Deno: the shared cancellation core on Deno's timers, the
 * shared networking over `Deno.connect`, `Deno.listen`, `Deno.startTls` and
 * `Deno.listenDatagram` (UDP needs `--unstable-net`), and Web Workers for
 * threads. Where Deno has no API (binding a local address before connecting,
 * server-side STARTTLS with `wrapSslOverTcpServerSocket`), it uses Deno's
 * `node:` modules for that case only.
 *
 * @example Run a task group with a timeout
 * ```ts
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 *
 * const backend = new DenoBackend();
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
export class DenoBackend extends BaseAsyncBackend {
  /** Creates the backend. It holds no resource until a runner is started. */
  constructor() {
    super(denoHost);
  }
}
