/**
 * `runInThread` and `createThreadsPortal` for Deno.
 *
 * @module
 */

import type { AnyFunction, ThreadFunction } from "../abc/threads.ts";
import { registerThreadHost as register, runInThread as runInThreadOn } from "../_threads/run_in_thread.ts";
import { denoThreadHost } from "./_host.ts";

export { createThreadsPortal } from "../_threads/run_in_thread.ts";

export { denoThreadHost };

/** Runs `fn(...args)` in the caller's runner's pool of Web Workers. */
export function runInThread<F extends AnyFunction>(
  fn: ThreadFunction<F>,
  args: Parameters<F>,
): Promise<Awaited<ReturnType<F>>> {
  return runInThreadOn(denoThreadHost, fn, args);
}

/** Lets executors of `backendClass` (and subclasses) start Deno workers. */
export function registerThreadHost(backendClass: abstract new (...args: never[]) => unknown): void {
  register(backendClass, denoThreadHost);
}
