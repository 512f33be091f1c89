/**
 * synckit's worker in `thread_pool_bench.ts`: the blocking call it answers.
 *
 * @module
 */

import { runAsWorker } from "synckit";

runAsWorker((n: number) => Promise.resolve(n));
