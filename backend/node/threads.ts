/**
 * `runInThread` and `createThreadsPortal` for Node.
 *
 * @module
 */

import type { AnyFunction, ThreadFunction } from "../abc/threads.ts";
import { registerThreadHost as register, runInThread as runInThreadOn } from "../_threads/run_in_thread.ts";
import { nodeThreadHost } from "./_host.ts";

export { createThreadsPortal } from "../_threads/run_in_thread.ts";

export { nodeThreadHost };

/** Runs `fn(...args)` in the caller's runner's pool of worker threads. */
export function runInThread<F extends AnyFunction>(
  fn: ThreadFunction<F>,
  args: Parameters<F>,
): Promise<Awaited<ReturnType<F>>> {
  return runInThreadOn(nodeThreadHost, fn, args);
}

/** Lets executors of `backendClass` (and subclasses) start Node workers. */
export function registerThreadHost(backendClass: abstract new (...args: never[]) => unknown): void {
  register(backendClass, nodeThreadHost);
}
