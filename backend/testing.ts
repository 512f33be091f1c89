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
 * @example Fail a test that leaves a socket, a channel or a task behind
 * ```ts
 * import { assertNoLeaks } from "@easynetwork/async-backend/testing";
 * import { AsyncBackendFactory } from "@easynetwork/async-backend/factory";
 *
 * const backend = AsyncBackendFactory.new();
 *
 * await assertNoLeaks(backend, async () => {
 *   const [send, receive] = backend.createMemoryChannel<number>(1);
 *   await send.send(1);
 *   send.close();
 *   receive.close();
 * });
 * ```
 *
 * @module
 */

import type { AsyncBackend } from "./abc/async_backend.ts";
import type { TaskFunction } from "./abc/tasks.ts";

export { activeThreadWorkers } from "./_threads/pool.ts";
export { MockClock } from "./_core/mock_clock.ts";
export type { MockClockOptions, VirtualClock } from "./abc/clock.ts";

/**
 * Runs `fn(...args)` in a new runner of `backend` in debug and strict mode
 * (`newRunner({ debug: true, strict: true })`), closes the runner and returns
 * `fn`'s result. Throws `ResourceLeakError` when the runner closed with
 * something it made still alive (a task, a socket, a listener, a channel, a
 * worker thread, a timer), listing each with the stack where it was made.
 * Works the same on every runtime, Node included, where no test sanitizer
 * exists. When `fn` throws, its error is thrown and the leaks are not.
 *
 * @example A leaked listener fails the check
 * ```ts
 * import { assertNoLeaks } from "@easynetwork/async-backend/testing";
 * import { ResourceLeakError } from "@easynetwork/async-backend/backend";
 * import { AsyncBackendFactory } from "@easynetwork/async-backend/factory";
 *
 * const backend = AsyncBackendFactory.new();
 *
 * let leaked;
 * try {
 *   await assertNoLeaks(backend, async () => {
 *     [leaked] = await backend.createTcpListeners("127.0.0.1", 0, 8);
 *   });
 * } catch (error) {
 *   console.assert(error instanceof ResourceLeakError);
 *   console.assert((error as ResourceLeakError).leaks[0].kind === "listener");
 * }
 * await leaked!.aclose();
 * ```
 *
 * @param backend The backend under test.
 * @param fn The test body.
 * @param args Its arguments.
 * @throws {ResourceLeakError} when the runner closed with leaks.
 */
// deno-lint-ignore no-explicit-any
export async function assertNoLeaks<A extends any[], T>(
  backend: AsyncBackend,
  fn: TaskFunction<A, T>,
  ...args: A
): Promise<T> {
  const runner = backend.newRunner({ debug: true, strict: true });
  let result: T;
  try {
    result = await runner.run(fn, ...args);
  } catch (error) {
    // The body's error first: leaks are often its consequence.
    await runner.close().catch(() => {});
    throw error;
  }
  await runner.close();
  return result;
}
