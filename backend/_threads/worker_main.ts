/**
 * The worker side of the pool, runtime-neutral: receives calls, imports
 * modules by URL (cached per worker), runs the functions and posts results.
 * Each backend's `_worker.ts` gives it a {@linkcode WorkerHost}.
 *
 * @module
 */

import { threadState } from "./thread_state.ts";
import { type ReceiveMessageOnPort, WorkerPortal } from "./portal_worker.ts";
import { CancelledError } from "../errors.ts";
import {
  type CallMessage,
  cloneError,
  type FromWorker,
  type InitMessage,
  PORTAL_KEY,
  type PortalDescriptor,
  type PortMessage,
  serializeError,
  serializeUncloneable,
  type ToWorker,
} from "./protocol.ts";

/** What the runtime needs from the worker's environment. */
export interface WorkerHost {
  /** Posts a message to the loop. */
  post(message: FromWorker): void;
  /** Calls `handler` with every message from the loop. */
  listen(handler: (message: ToWorker) => void): void;
  /** Reads one queued message from a port synchronously. */
  receiveMessageOnPort: ReceiveMessageOnPort;
  /** Calls `handler` when a message from the loop could not be deserialized (`messageerror`). */
  lost?(handler: (error: unknown) => void): void;
  /** Where a call's function starts; default at once. */
  schedule?(callback: () => void): void;
  /** Imports a module by URL; default `import(url)`. */
  importModule?(url: string): Promise<Record<string, unknown>>;
}

type Module = Record<string, unknown>;

/** A function this worker was told about: loaded on first use. */
interface FunctionEntry {
  url: string;
  name: string;
  fn: ((...args: unknown[]) => unknown) | null;
}

/** Starts serving calls from the loop. */
export function startWorkerRuntime(host: WorkerHost): void {
  const state = threadState();
  const loading = new Map<string, Promise<Module>>();
  const functions = new Map<number, FunctionEntry>();
  const portals = new Map<number, WorkerPortal<Record<string, never>>>();
  const importModule = host.importModule ?? ((url: string) => import(url) as Promise<Module>);

  const load = (url: string): Promise<Module> => {
    let promise = loading.get(url);
    if (promise === undefined) {
      promise = importModule(url);
      loading.set(url, promise);
      promise.catch(() => loading.delete(url));
    }
    return promise;
  };

  /** Posts the outcome of call `id` of `entry` to the loop. */
  const finish = (id: number, ok: boolean, value: unknown, entry?: FunctionEntry): void => {
    if (state.callId === id) {
      state.callId = 0;
      state.controller = null;
    }
    try {
      // The initializer's failure becomes an error the pool wraps; a call's thrown value travels as itself.
      host.post(ok ? [id, true, value] : [id, false, serializeError(value, id !== 0)]);
    } catch (error) {
      if (!ok) {
        // A thrown value that is not an Error and cannot be cloned: say what it was.
        host.post([id, false, serializeUncloneable(value, "back from its worker thread", error)]);
        return;
      }
      // The result cannot be cloned: say so, naming the function; the pool frees this worker as usual.
      const what = entry === undefined ? "The result" : `The result of ${entry.name} (${entry.url})`;
      host.post([id, false, serializeError(cloneError(what, "back from its worker thread", error))]);
    }
  };

  const revive = (arg: unknown): unknown => {
    if (arg === null || typeof arg !== "object" || !(PORTAL_KEY in arg)) return arg;
    const descriptor = arg as PortalDescriptor;
    const id = descriptor[PORTAL_KEY];
    if (descriptor.port !== undefined && descriptor.state !== undefined) {
      portals.set(id, new WorkerPortal(descriptor.port, descriptor.state, host.receiveMessageOnPort));
    }
    const portal = portals.get(id);
    if (portal === undefined) throw new Error("This worker received an unknown threads portal");
    return portal;
  };

  const invoke = (id: number, entry: FunctionEntry, fn: (...args: unknown[]) => unknown, args: unknown[]): void => {
    state.callId = id;
    state.controller = null;
    let result: unknown;
    try {
      for (let i = 0; i < args.length; i++) {
        const arg = args[i];
        if (arg !== null && typeof arg === "object" && PORTAL_KEY in arg) args[i] = revive(arg);
      }
      result = fn(...args);
    } catch (error) {
      finish(id, false, error, entry);
      return;
    }
    if (result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function") {
      (result as PromiseLike<unknown>).then(
        (value) => finish(id, true, value, entry),
        (error) => finish(id, false, error, entry),
      );
    } else {
      finish(id, true, result, entry);
    }
  };

  const schedule = host.schedule;
  const start = schedule === undefined
    ? invoke
    : (id: number, entry: FunctionEntry, fn: (...args: unknown[]) => unknown, args: unknown[]) =>
      schedule(() => invoke(id, entry, fn, args));

  const run = (id: number, entry: FunctionEntry, args: unknown[]): void => {
    if (entry.fn !== null) {
      start(id, entry, entry.fn, args);
      return;
    }
    load(entry.url).then((module) => {
      const fn = module[entry.name];
      if (typeof fn !== "function") {
        throw new TypeError(`The module ${entry.url} has no exported function named '${entry.name}'`);
      }
      entry.fn = fn as (...args: unknown[]) => unknown;
      start(id, entry, entry.fn, args);
    }).catch((error) => finish(id, false, error, entry));
  };

  // A call that could not be deserialized here never starts: say so, or its caller waits forever.
  host.lost?.((error) => {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    host.post({ t: "lost", reason });
  });

  host.listen((message: ToWorker) => {
    if (Array.isArray(message)) {
      const [id, fn, args] = message as CallMessage;
      let entry: FunctionEntry | undefined;
      if (typeof fn === "number") {
        entry = functions.get(fn);
      } else {
        entry = { url: fn.url, name: fn.name, fn: null };
        functions.set(fn.key, entry);
      }
      if (entry === undefined) finish(id, false, new Error("This worker received an unknown function key"));
      else run(id, entry, args);
      return;
    }
    switch (message.t) {
      case "cancel": {
        if (state.callId === message.id) state.controller?.abort(new CancelledError());
        return;
      }
      case "init": {
        const init = message as InitMessage;
        state.name = init.name;
        state.flag = new Int32Array(init.flag);
        const initializer = init.initializer;
        if (initializer !== undefined) {
          run(0, { url: initializer.url, name: initializer.name, fn: null }, initializer.args);
        }
        return;
      }
    }
  });
}

/** The part of a worker's `parentPort` (`node:worker_threads`) the runtime uses. */
export interface ParentPort {
  on(event: "message" | "messageerror", listener: (value: unknown) => void): unknown;
  postMessage(message: unknown): void;
}

/**
 * The messaging of a {@linkcode WorkerHost} over `parent`, moving to the
 * channel of a `PortMessage` when the loop sends one (on Deno).
 *
 * @param parent The worker's `parentPort`.
 */
export function parentPortMessaging(parent: ParentPort): Pick<WorkerHost, "post" | "listen" | "lost"> {
  let out: { postMessage(message: unknown): void } = parent;
  let onLost: ((error: unknown) => void) | undefined;
  return {
    post: (message) => out.postMessage(message),
    listen: (handler) => {
      parent.on("message", (message) => {
        if (
          message !== null && typeof message === "object" && !Array.isArray(message) &&
          (message as PortMessage).t === "port"
        ) {
          const port = (message as PortMessage).port as MessagePort;
          port.onmessage = (event: MessageEvent<ToWorker>) => handler(event.data);
          port.onmessageerror = (event: MessageEvent) => onLost?.(event.data);
          out = port;
          return;
        }
        handler(message as ToWorker);
      });
    },
    lost: (handler) => {
      onLost = handler;
      parent.on("messageerror", handler);
    },
  };
}
