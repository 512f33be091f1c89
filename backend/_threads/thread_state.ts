/**
 * Worker-side helpers: what a function run by `runInThread` can ask about its
 * call (cancelled? a signal, the worker's name). Runtime-neutral.
 *
 * Cancellation reaches a worker in three ways: the flag ({@linkcode isThreadCancelled},
 * {@linkcode throwIfThreadCancelled}), the signal ({@linkcode threadSignal}), and
 * the threads portal: a `runCoroutine()`, `call()` or `runSync()` made during a
 * call runs on the loop inside the cancel scope of that call's caller (SPEC 2.1
 * rule 5). When the caller is cancelled, a portal call waiting at a checkpoint
 * on the loop (or reaching one later) throws `CancelledError` in the worker:
 * the class exported by this library (a worker module that loads another copy
 * of the library sees an error whose `name` is `"CancelledError"`). Let it
 * propagate: the caller's `runInThread()` then rejects with `CancelledError`
 * as soon as the function returns.
 *
 * The state lives on `globalThis` under a registered symbol, so that a worker
 * module importing these helpers through another path or copy of the library
 * still sees the state of the worker runtime.
 *
 * @module
 */

import { CancelledError } from "../errors.ts";

/** The worker runtime's state, shared through `globalThis`. */
export interface ThreadState {
  /** The worker's name, `undefined` outside a pooled worker. */
  name: string | undefined;
  /** The cancel flag of the running call (one `Int32Array` slot). */
  flag: Int32Array | null;
  /** The id of the running call, `0` when none. */
  callId: number;
  /** The running call's controller, made on demand by {@linkcode threadSignal}. */
  controller: AbortController | null;
}

const STATE_KEY = Symbol.for("@easynetwork/async-backend/thread-state");

/** Returns the worker runtime's state (created empty on first use). */
export function threadState(): ThreadState {
  const holder = globalThis as unknown as Record<symbol, ThreadState | undefined>;
  return holder[STATE_KEY] ??= { name: undefined, flag: null, callId: 0, controller: null };
}

/**
 * Inside a function run by `runInThread`: `true` once its caller was cancelled.
 * Reads a shared flag, so it works in synchronous, CPU-bound code. Always
 * `false` outside a pooled worker.
 *
 * @example Stop a long loop when the caller is cancelled
 * ```ts
 * import { isThreadCancelled } from "@easynetwork/async-backend/worker";
 *
 * export function count(limit: number): number {
 *   let n = 0;
 *   while (n < limit && !isThreadCancelled()) n++;
 *   return n;
 * }
 * console.log(count(10)); // 10 (outside a worker the flag is never set)
 * ```
 */
export function isThreadCancelled(): boolean {
  const state = threadState();
  return state.callId !== 0 && state.flag !== null && Atomics.load(state.flag, 0) !== 0;
}

/**
 * Inside a function run by `runInThread`: throws `CancelledError` once its
 * caller was cancelled (see {@linkcode isThreadCancelled}).
 *
 * @example
 * ```ts
 * import { throwIfThreadCancelled } from "@easynetwork/async-backend/worker";
 *
 * export function work(items: number[]): number {
 *   let sum = 0;
 *   for (const item of items) {
 *     throwIfThreadCancelled();
 *     sum += item;
 *   }
 *   return sum;
 * }
 * console.log(work([1, 2, 3])); // 6
 * ```
 */
export function throwIfThreadCancelled(): void {
  if (isThreadCancelled()) throw new CancelledError("The caller of this thread function was cancelled");
}

/**
 * Inside an async function run by `runInThread`: an `AbortSignal` aborted when
 * its caller is cancelled, for `fetch` and other APIs that take a signal. The
 * worker's event loop must be free to see the abort (use
 * {@linkcode isThreadCancelled} in synchronous code). Outside a pooled worker
 * it returns a signal that never aborts.
 *
 * @example
 * ```ts
 * import { threadSignal } from "@easynetwork/async-backend/worker";
 *
 * export async function download(url: string): Promise<number> {
 *   const response = await fetch(url, { signal: threadSignal() });
 *   return (await response.arrayBuffer()).byteLength;
 * }
 * console.log(threadSignal().aborted); // false
 * ```
 */
export function threadSignal(): AbortSignal {
  const state = threadState();
  if (state.callId === 0) return new AbortController().signal;
  if (state.controller === null) {
    state.controller = new AbortController();
    if (isThreadCancelled()) state.controller.abort(new CancelledError());
  }
  return state.controller.signal;
}

/**
 * The name of the pooled worker running the caller (an executor's workers are
 * named after its `threadNamePrefix`), `undefined` outside a pooled worker.
 *
 * @example
 * ```ts
 * import { threadName } from "@easynetwork/async-backend/worker";
 *
 * console.log(threadName()); // undefined on the loop's thread
 * ```
 */
export function threadName(): string | undefined {
  return threadState().name;
}
