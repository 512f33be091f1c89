/**
 * The entry script of Node's pooled workers (`node:worker_threads`).
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

// An uncaught error ends the worker: say why first. Node would report it with an
// 'error' event anyway, but Deno's node:worker_threads lets it take the whole
// process down, so the worker handles it the same way on every runtime.
process.on("uncaughtException", (error: unknown) => {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  messaging.post({ t: "exit", reason: `uncaught error: ${reason}` } satisfies FromWorker);
  process.exit(1);
});

startWorkerRuntime({
  ...messaging,
  // On Deno a worker out of memory is reported only if it ran out in a tick or macrotask callback.
  schedule: process.versions.deno !== undefined ? (callback) => process.nextTick(callback) : undefined,
  receiveMessageOnPort: (messagePort) => receiveMessageOnPort(messagePort as never) as { message: unknown } | undefined,
});
