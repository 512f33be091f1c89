/**
 * Node's workers for the shared pool: `node:worker_threads` running `_worker.ts`.
 *
 * @module
 */

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { SpawnWorker, ThreadWorker } from "../_threads/pool.ts";
import type { FromWorker, ToWorker, TransferItem } from "../_threads/protocol.ts";

/** The file of a bundler's CommonJS output, which has no `import.meta.url`; undeclared in ES modules. */
declare const __filename: string | undefined;

let entry: URL | undefined;

/**
 * The pool's worker entry: `_worker` beside this module. When a bundler has moved
 * this module (no such file beside the bundle, or no `import.meta.url` in its
 * CommonJS output), the entry of the installed package is used instead, found
 * from the bundle through `node_modules` by the package's `./backend/node`
 * export. With neither, an error says what to do.
 */
function workerEntry(): URL {
  if (entry !== undefined) return entry;
  if (typeof import.meta.url === "string") {
    // A literal `new URL("./x.ts", import.meta.url)`: the npm build makes it `./x.js`.
    const beside = new URL("./_worker.ts", import.meta.url);
    if (beside.protocol !== "file:" || existsSync(fileURLToPath(beside))) return entry = beside;
  }
  const door = packageDoor();
  return entry = new URL(`./_worker${door.slice(door.lastIndexOf("."))}`, door);
}

/** The URL of the installed package's `./backend/node` entry, resolved from this (bundled) module. */
function packageDoor(): string {
  try {
    // Literal specifiers, for the tools that analyze them.
    if (typeof import.meta.resolve === "function") {
      return import.meta.resolve("@easynetwork/async-backend/backend/node");
    }
    if (typeof __filename === "string") {
      return pathToFileURL(createRequire(__filename).resolve("@easynetwork/async-backend/backend/node")).href;
    }
  } catch {
    // Not installed beside the bundle: said below.
  }
  const where = typeof import.meta.url === "string"
    ? import.meta.url
    : typeof __filename === "string"
    ? __filename
    : "?";
  throw new Error(
    `The worker entry of @easynetwork/async-backend is not beside ${where}, and the package does not resolve ` +
      "from there: when bundling an app that runs code in worker threads, install @easynetwork/async-backend " +
      "beside the bundle (in its node_modules) or mark it as external",
  );
}

/** Starts a worker thread running the pool's entry script. */
export const nodeSpawnWorker: SpawnWorker = (name, events): ThreadWorker => {
  const worker = new Worker(workerEntry(), { name, workerData: { name } } as ConstructorParameters<typeof Worker>[1]);
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
    postMessage(message: ToWorker, transfer: TransferItem[]): void {
      worker.postMessage(message, transfer as never);
    },
    terminate(): Promise<void> {
      gone = true;
      return worker.terminate().then(() => {}, () => {});
    },
  };
};
