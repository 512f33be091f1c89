/**
 * The worker side of the pool, runtime-neutral: receives calls, imports
 * modules by URL (cached per worker), runs the functions and posts results.
 * Each backend's `worker_entry.ts` gives it a {@linkcode WorkerHost}.
 *
 * @module
 */

import { threadState } from "./thread_context.ts";
import { type ReceiveMessageOnPort, WorkerPortal } from "./worker_portal.ts";
import { CancelledError } from "../errors.ts";
import {
  type CallMessage,
  type DoneMessage,
  type FromWorker,
  type InitMessage,
  PORTAL_KEY,
  type PortalDescriptor,
  serializeError,
  type ToWorker,
} from "./worker_protocol.ts";

/** What the runtime needs from the worker's environment. */
export interface WorkerHost {
  /** Posts a message to the loop. */
  post(message: FromWorker): void;
  /** Calls `handler` with every message from the loop. */
  listen(handler: (message: ToWorker) => void): void;
  /** Reads one queued message from a port synchronously. */
  receiveMessageOnPort: ReceiveMessageOnPort;
  /** Imports a module by URL; default `import(url)`. */
  importModule?(url: string): Promise<Record<string, unknown>>;
}

type Module = Record<string, unknown>;

/** Starts serving calls from the loop. */
export function startWorkerRuntime(host: WorkerHost): void {
  const state = threadState();
  const modules = new Map<string, Module>();
  const loading = new Map<string, Promise<Module>>();
  const portals = new Map<number, WorkerPortal<Record<string, never>>>();
  const importModule = host.importModule ?? ((url: string) => import(url) as Promise<Module>);

  const load = (url: string): Promise<Module> => {
    let promise = loading.get(url);
    if (promise === undefined) {
      promise = importModule(url).then((module) => {
        modules.set(url, module);
        return module;
      });
      loading.set(url, promise);
      promise.catch(() => loading.delete(url));
    }
    return promise;
  };

  const finish = (id: number, ok: boolean, value: unknown): void => {
    if (state.callId === id) {
      state.callId = 0;
      state.controller = null;
    }
    let message: DoneMessage = ok ? { t: "done", id, ok, value } : { t: "done", id, ok, error: serializeError(value) };
    try {
      host.post(message);
    } catch (error) {
      // The result cannot be cloned: report why.
      message = { t: "done", id, ok: false, error: serializeError(error) };
      host.post(message);
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

  const invoke = (id: number, module: Module, url: string, name: string, args: unknown[]): void => {
    state.callId = id;
    state.controller = null;
    let result: unknown;
    try {
      const fn = module[name];
      if (typeof fn !== "function") throw new TypeError(`The module ${url} has no exported function named '${name}'`);
      result = fn(...args.map(revive));
    } catch (error) {
      finish(id, false, error);
      return;
    }
    if (result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function") {
      (result as PromiseLike<unknown>).then((value) => finish(id, true, value), (error) => finish(id, false, error));
    } else {
      finish(id, true, result);
    }
  };

  const run = (id: number, url: string, name: string, args: unknown[]): void => {
    const module = modules.get(url);
    if (module !== undefined) {
      invoke(id, module, url, name, args);
      return;
    }
    load(url).then((loaded) => invoke(id, loaded, url, name, args), (error) => finish(id, false, error));
  };

  host.listen((message: ToWorker) => {
    switch (message.t) {
      case "call": {
        const call = message as CallMessage;
        run(call.id, call.url, call.name, call.args);
        return;
      }
      case "cancel": {
        if (state.callId === message.id) state.controller?.abort(new CancelledError());
        return;
      }
      case "init": {
        const init = message as InitMessage;
        state.name = init.name;
        state.flag = new Int32Array(init.flag);
        if (init.initializer !== undefined) run(0, init.initializer.url, init.initializer.name, init.initializer.args);
        return;
      }
    }
  });
}
