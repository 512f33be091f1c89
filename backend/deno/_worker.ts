/**
 * The entry script of Deno's pooled workers.
 *
 * `receiveMessageOnPort` comes from Deno's `node:worker_threads`: Deno has no
 * other way to read a `MessagePort` synchronously, which a worker blocked in a
 * portal call (`Atomics.wait`) must do. It works on Web `MessagePort`s.
 *
 * @module
 */

import { receiveMessageOnPort } from "node:worker_threads";
import { startWorkerRuntime } from "../_threads/worker_main.ts";
import type { FromWorker, ToWorker } from "../_threads/protocol.ts";

interface WorkerScope {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;

// Deno tells the loop nothing when a worker closes itself: say it first.
const close = scope.close.bind(scope);
scope.close = () => {
  scope.postMessage({ t: "exit", reason: "the worker called self.close()" } satisfies FromWorker);
  close();
};
const exit = Deno.exit;
(Deno as { exit: (code?: number) => never }).exit = (code?: number): never => {
  scope.postMessage({ t: "exit", reason: `the worker called Deno.exit(${code ?? ""})` } satisfies FromWorker);
  close();
  return exit(code);
};

startWorkerRuntime({
  post: (message) => scope.postMessage(message),
  listen: (handler) => {
    scope.onmessage = (event: MessageEvent<ToWorker>) => handler(event.data);
  },
  receiveMessageOnPort: (port) => receiveMessageOnPort(port as never) as { message: unknown } | undefined,
});
