/**
 * The contracts of the asynchronous backend: the `AsyncBackend` abstract class
 * and every interface it uses.
 *
 * @example
 * ```ts
 * import type { AsyncBackend, TimeoutHandle } from "@easynetwork/async-backend/backend";
 *
 * async function fetchWithin(backend: AsyncBackend, url: string) {
 *   return await backend.moveOnAfter(5_000, (handle: TimeoutHandle) => fetch(url, { signal: handle.signal }));
 * }
 * ```
 *
 * @module
 */

export * from "./async_backend.ts";
export * from "./async_backend_core.ts";
export * from "./cancel_scope.ts";
export * from "./channel.ts";
export * from "./clock.ts";
export * from "./diagnostics.ts";
export * from "./serve.ts";
export * from "./signals.ts";
export * from "./socket.ts";
export * from "./sync.ts";
export * from "./tasks.ts";
export * from "./threads.ts";
export * from "./leaks.ts";
