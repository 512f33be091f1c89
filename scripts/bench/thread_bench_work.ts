/**
 * Worker functions of `thread_pool_bench.ts` and `node_bench.ts`, run by the pool.
 *
 * @module
 */

import type { ThreadsPortal } from "../../backend/mod.ts";

/** The tiniest call. */
export function tiny(n: number): number {
  return n + 1;
}

/** Calls `portal.runSync("noop", i)` `count` times in a row. */
export function portalCalls(portal: ThreadsPortal<{ noop(n: number): number }>, count: number): number {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += portal.runSync("noop", i);
  return sum;
}
