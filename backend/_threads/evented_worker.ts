/**
 * How the pool drives a `node:worker_threads` worker, on Node and on Deno
 * (whose pooled workers run on Deno's `node:worker_threads`, see
 * `backend/deno/_host.ts`). Runtime-neutral: the worker is typed by the events
 * and methods used.
 *
 * @module
 */

import type { ThreadWorker, WorkerEvents } from "./pool_job.ts";
import type { FromWorker, ToWorker, TransferItem } from "./protocol.ts";

/** The part of a `node:worker_threads` `Worker` the pool uses. */
export interface EventedWorker {
  on(event: "message", listener: (message: FromWorker) => void): unknown;
  on(event: "error" | "messageerror", listener: (error: unknown) => void): unknown;
  on(event: "exit", listener: (code: number) => void): unknown;
  postMessage(message: ToWorker, transfer: TransferItem[]): void;
  terminate(): Promise<number>;
}

/**
 * Forwards `worker`'s events to the pool: a message, a message that could not
 * be deserialized here (`messageerror`, the worker goes on), and its death
 * (uncaught error, out of memory, exit), once.
 *
 * @param worker The started worker.
 * @param events The pool's handlers.
 */
export function watchWorker(worker: EventedWorker, events: WorkerEvents): ThreadWorker {
  let gone = false;
  const die = (reason: string, code?: string): void => {
    if (gone) return;
    gone = true;
    events.died(reason, code);
  };
  worker.on("message", (message: FromWorker) => {
    if (gone) return;
    // The worker said why it ends: the 'exit' event that follows is no news.
    if (!Array.isArray(message) && message.t === "exit") gone = true;
    events.message(message);
  });
  // Handled here: an uncaught error in a worker must not take the loop down.
  worker.on("error", (error: unknown) => {
    const code = (error as { code?: unknown } | null)?.code;
    die(error instanceof Error ? error.message : String(error), typeof code === "string" ? code : undefined);
  });
  worker.on("messageerror", (error: unknown) => {
    if (!gone) events.undeliverable(error);
  });
  worker.on("exit", (code: number) => die(`the worker exited with code ${code}`));
  return {
    postMessage(message: ToWorker, transfer: TransferItem[]): void {
      worker.postMessage(message, transfer);
    },
    terminate(): Promise<void> {
      gone = true;
      return worker.terminate().then(() => {}, () => {});
    },
  };
}
