/**
 * Deno's workers for the shared pool: Web Workers running `worker_entry.ts`.
 *
 * @module
 */

import type { SpawnWorker, ThreadWorker } from "../_threads/pool.ts";
import type { FromWorker, ToWorker, TransferItem } from "../_threads/protocol.ts";

// A literal `new URL("./x.ts", import.meta.url)`: the npm build rewrites `.ts` to `.js`.
const ENTRY = new URL("./_worker.ts", import.meta.url);

/** Starts a Web Worker running the pool's entry script. */
export const denoSpawnWorker: SpawnWorker = (name, events): ThreadWorker => {
  const worker = new Worker(ENTRY, { type: "module", name });
  let gone = false;
  const die = (reason: string): void => {
    if (gone) return;
    gone = true;
    events.died(reason);
  };
  worker.onmessage = (event: MessageEvent<FromWorker>) => {
    if (!gone) events.message(event.data);
  };
  worker.onerror = (event: ErrorEvent) => {
    // Handled here: an uncaught error in a worker must not take the loop down.
    event.preventDefault();
    die(event.message || "uncaught error");
  };
  worker.onmessageerror = () => die("a message from the worker could not be deserialized");
  return {
    postMessage(message: ToWorker, transfer: TransferItem[]): void {
      worker.postMessage(message, transfer);
    },
    terminate(): void {
      gone = true;
      worker.terminate();
    },
  };
};
