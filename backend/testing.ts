/**
 * Helpers for tests of code built on this library.
 *
 * @example Check that no worker thread is left running
 * ```ts
 * import { activeThreadWorkers } from "@easynetwork/async-backend/testing";
 *
 * console.log(activeThreadWorkers()); // 0
 * ```
 *
 * @example Test a long timeout in no time with a virtual clock
 * ```ts
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 * import { MockClock } from "@easynetwork/async-backend/testing";
 *
 * const backend = new DenoBackend();
 * const clock = new MockClock({ autojump: true });
 * await backend.bootstrap({ clock }, async () => {
 *   await backend.sleep(3_600_000);
 *   console.log(backend.currentTime()); // 3600000
 * });
 * ```
 *
 * @module
 */

export { activeThreadWorkers } from "./_threads/pool.ts";
export { MockClock } from "./_core/mock_clock.ts";
export type { MockClockOptions, RunnerOptions, VirtualClock } from "./abc/clock.ts";
