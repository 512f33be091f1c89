/**
 * The backend contracts and errors: `AsyncBackend`, its tasks, scopes,
 * primitives, socket adapters and thread types, `threadModule`, and every
 * error class: `CancelledError`, `ClosedResourceError`, `BusyResourceError`,
 * `EndOfChannel`, `BrokenResourceError`, `WouldBlock`, `IncompleteReadError`
 * and `DelimiterNotFound`. Concrete backends live in `./backend/deno` and
 * `./backend/node`; what backend authors need, in `./lowlevel`; what worker
 * modules import, in `./worker`.
 *
 * @example Catch a timeout
 * ```ts
 * import type { AsyncBackend } from "@easynetwork/async-backend/backend";
 *
 * export async function slow(backend: AsyncBackend): Promise<string> {
 *   try {
 *     return await backend.timeout(10, () => backend.sleepForever());
 *   } catch (error) {
 *     if (error instanceof DOMException && error.name === "TimeoutError") return "timed out";
 *     throw error;
 *   }
 * }
 * ```
 *
 * @module
 */

export * from "./abc/mod.ts";
export * from "./errors.ts";
export { type ThreadFunctionRef, type ThreadModule, threadModule } from "./thread_module.ts";
export { named } from "./named.ts";
