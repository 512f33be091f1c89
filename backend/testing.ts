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
 * @module
 */

export { activeThreadWorkers } from "./_threads/pool.ts";
export { MockClock } from "./_core/mock_clock.ts";
export type { MockClockOptions, RunnerOptions, VirtualClock } from "./abc/clock.ts";
