/**
 * The entry script of Deno's pooled workers, which run on Deno's
 * `node:worker_threads` (why, with the figures: `_host.ts`).
 *
 * Every call starts from a `process.nextTick` callback: Deno 2.9 reports a
 * worker that reaches its heap limit (`ERR_WORKER_OUT_OF_MEMORY`) only when
 * the limit is hit in a macrotask or tick callback; hit in a promise
 * continuation or straight in a message listener, the worker stops without a
 * word and its caller would wait forever.
 *
 * @module
 */

import process from "node:process";
import { parentPort, receiveMessageOnPort } from "node:worker_threads";
import { parentPortMessaging, startWorkerRuntime } from "../_threads/worker_main.ts";
import type { FromWorker } from "../_threads/protocol.ts";

if (parentPort === null) throw new Error("The worker entry (_worker.ts) must run in a worker thread");
const port = parentPort;
const messaging = parentPortMessaging(port as never);

// An uncaught error ends the worker: say why first (the 'error' event that follows is no news).
process.on("uncaughtException", (error: unknown) => {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  messaging.post({ t: "exit", reason: `uncaught error: ${reason}` } satisfies FromWorker);
  process.exit(1);
});

startWorkerRuntime({
  ...messaging,
  receiveMessageOnPort: (messagePort) => receiveMessageOnPort(messagePort as never) as { message: unknown } | undefined,
  schedule: (callback) => process.nextTick(callback),
});
