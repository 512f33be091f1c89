/**
 * Node's workers for the shared pool: `node:worker_threads` running `worker_entry.ts`.
 *
 * @module
 */

import { clearTimeout, setTimeout } from "node:timers";
import { Worker } from "node:worker_threads";
import type { TimerHost } from "../_core/deadline_queue.ts";
import type { SpawnWorker, ThreadWorker } from "../_threads/pool.ts";
import type { FromWorker, ToWorker } from "../_threads/protocol.ts";

// A literal `new URL("./x.ts", import.meta.url)`: the npm build rewrites `.ts` to `.js`.
const ENTRY = new URL("./_worker.ts", import.meta.url);

type NodeTimeout = ReturnType<typeof setTimeout>;

/** Starts a worker thread running the pool's entry script. */
export const nodeSpawnWorker: SpawnWorker = (name, events): ThreadWorker => {
  const worker = new Worker(ENTRY, { name, workerData: { name } } as ConstructorParameters<typeof Worker>[1]);
  let gone = false;
  const die = (reason: string): void => {
    if (gone) return;
    gone = true;
    events.died(reason);
  };
  worker.on("message", (message: FromWorker) => {
    if (gone) return;
    // The worker said why it ends: the 'exit' event that follows is no news.
    if (message.t === "exit") gone = true;
    events.message(message);
  });
  // Handled here: an uncaught error in a worker must not take the loop down.
  worker.on("error", (error: unknown) => die(error instanceof Error ? error.message : String(error)));
  worker.on("messageerror", () => die("a message from the worker could not be deserialized"));
  worker.on("exit", (code: number) => die(`the worker exited with code ${code}`));
  return {
    postMessage(message: ToWorker, transfer: Transferable[]): void {
      worker.postMessage(message, transfer as never);
    },
    terminate(): Promise<void> {
      gone = true;
      return worker.terminate().then(() => {}, () => {});
    },
  };
};

/** Node's timers, for idle retirement. */
export const nodePoolTimers: TimerHost = {
  now: () => performance.now(),
  setTimer: (callback, ms) => setTimeout(callback, ms),
  clearTimer: (id) => clearTimeout(id as NodeTimeout),
  refTimer: (id, ref) => ref ? (id as NodeTimeout).ref() : (id as NodeTimeout).unref(),
};
