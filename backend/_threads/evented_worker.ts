/**
 * How the pool drives a `node:worker_threads` worker, on Node and on Deno
 * (whose pooled workers run on Deno's `node:worker_threads`, see
 * `backend/deno/_host.ts`). Runtime-neutral: the worker is typed by the events
 * and methods used.
 *
 * @module
 */

import type { ThreadWorker, WorkerEvents } from "./pool_job.ts";
import { asText, fromText, type FromWorker, type PortMessage, type ToWorker, type TransferItem } from "./protocol.ts";

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
 * @param viaChannel Carry the messages over a `MessageChannel` sent first
 *   ({@linkcode PortMessage}): on Deno, where the worker's own `postMessage`
 *   copies typed arrays at about 2 MiB/s.
 */
export function watchWorker(worker: EventedWorker, events: WorkerEvents, viaChannel = false): ThreadWorker {
  let gone = false;
  let channel: MessagePort | null = null;
  const die = (reason: string, code?: string): void => {
    if (gone) return;
    gone = true;
    events.died(reason, code);
  };
  const onMessage = (message: FromWorker): void => {
    if (gone) return;
    // The worker said why it ends: the 'exit' event that follows is no news.
    if (!Array.isArray(message) && message.t === "exit") gone = true;
    events.message(message);
  };
  const onUndeliverable = (error: unknown): void => {
    if (!gone) events.undeliverable(error);
  };
  worker.on("message", onMessage);
  worker.on("messageerror", onUndeliverable);
  // Handled here: an uncaught error in a worker must not take the loop down.
  worker.on("error", (error: unknown) => {
    const code = (error as { code?: unknown } | null)?.code;
    die(error instanceof Error ? error.message : String(error), typeof code === "string" ? code : undefined);
  });
  worker.on("exit", (code: number) => {
    channel?.close();
    die(`the worker exited with code ${code}`);
  });
  if (viaChannel) {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = (event: MessageEvent<FromWorker | string>) => onMessage(fromText(event.data));
    port1.onmessageerror = (event: MessageEvent) => onUndeliverable(event.data);
    worker.postMessage({ t: "port", port: port2 } satisfies PortMessage, [port2]);
    channel = port1;
  }
  const target = channel ?? worker;
  return {
    postMessage(message: ToWorker, transfer: TransferItem[]): void {
      // Over the channel, calls of JSON primitives travel as text (see asText).
      const text = channel === null || transfer.length > 0 ? undefined : asText(message);
      if (text === undefined) target.postMessage(message, transfer);
      else channel!.postMessage(text);
    },
    terminate(): Promise<void> {
      gone = true;
      channel?.close();
      return worker.terminate().then(() => {}, () => {});
    },
  };
}
