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
  asText,
  CALL_SLOTS,
  cloneError,
  fromText,
  type FromWorker,
  type FunctionSpec,
  type InitMessage,
  PORTAL_KEY,
  type PortalDescriptor,
  type PortMessage,
  type SerializedError,
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
  const schedule = host.schedule ?? ((callback: () => void) => callback());
  let slots: Int32Array | null = null;
  /** One view per call slot's cancel flag, for `threadState().flag`, made on the slot's first call. */
  const flags: Int32Array[] = [];
  /** The inbox: calls received, four items each, run in order. */
  let inbox: unknown[] = [];
  let head = 0;
  /** An asynchronous call (or the initializer, or a module load) is under way. */
  let busy = false;
  let pumping = false;
  /** Results not posted yet, three items each, and the function of each (for error messages). */
  let out: unknown[] = [];
  let outEntries: (FunctionEntry | undefined)[] = [];
  /** When the results not posted yet were first seen with more calls waiting; -1 when not. */
  let outSince = -1;

  const load = (url: string): Promise<Module> => {
    let promise = loading.get(url);
    if (promise === undefined) {
      promise = importModule(url);
      loading.set(url, promise);
      promise.catch(() => loading.delete(url));
    }
    return promise;
  };

  /** Posts one result; a value that cannot be cloned becomes an error naming the function. */
  const postOne = (id: number, ok: boolean, payload: unknown, entry: FunctionEntry | undefined): void => {
    try {
      host.post([id, ok, payload]);
    } catch (error) {
      const thrown = payload as SerializedError;
      if (!ok) {
        // A thrown value that is not an Error and cannot be cloned: say what it was.
        host.post([id, false, serializeUncloneable(thrown.value, "back from its worker thread", error)]);
        return;
      }
      // The result cannot be cloned: say so, naming the function; the pool frees this worker as usual.
      const what = entry === undefined ? "The result" : `The result of ${entry.name} (${entry.url})`;
      host.post([id, false, serializeError(cloneError(what, "back from its worker thread", error))]);
    }
  };

  /** Posts the results gathered so far, in one message (one by one when it cannot be cloned). */
  const flush = (): void => {
    if (out.length === 0) return;
    outSince = -1;
    const batch = out;
    const entries = outEntries;
    out = [];
    outEntries = [];
    try {
      host.post(batch);
    } catch {
      for (let i = 0; i < batch.length; i += 3) {
        postOne(batch[i] as number, batch[i + 1] as boolean, batch[i + 2], entries[i / 3]);
      }
    }
  };

  /** Records the outcome of call `id` of `entry`. */
  const finish = (id: number, ok: boolean, value: unknown, entry?: FunctionEntry): void => {
    if (state.callId === id) {
      state.callId = 0;
      state.controller = null;
    }
    // The initializer's failure becomes an error the pool wraps; a call's thrown value travels as itself.
    out.push(id, ok, ok ? value : serializeError(value, id !== 0));
    outEntries.push(entry);
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

  /** Keeps the portal channels of a call that will not run here: later calls name them by id. */
  const keepPortals = (args: unknown[]): void => {
    for (const arg of args) {
      if (arg !== null && typeof arg === "object" && (arg as PortalDescriptor).port !== undefined) revive(arg);
    }
  };

  /** Runs the inbox from the host's scheduler (on Deno, a worker out of memory is reported only from a tick). */
  const kick = (): void => {
    if (busy || pumping) return;
    pumping = true;
    schedule(pump);
  };

  const settled = (): void => {
    busy = false;
    kick();
  };

  const invoke = (id: number, entry: FunctionEntry, fn: (...args: unknown[]) => unknown, args: unknown[]): void => {
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
      busy = true;
      flush();
      (result as PromiseLike<unknown>).then(
        (value) => {
          finish(id, true, value, entry);
          settled();
        },
        (error) => {
          finish(id, false, error, entry);
          settled();
        },
      );
    } else {
      finish(id, true, result, entry);
    }
  };

  /** Starts call `id` (its slot claimed): at once when its function is loaded. */
  const start = (id: number, flag: Int32Array | null, entry: FunctionEntry, args: unknown[]): void => {
    state.callId = id;
    state.flag = flag;
    state.controller = null;
    if (entry.fn !== null) {
      invoke(id, entry, entry.fn, args);
      return;
    }
    busy = true;
    flush();
    load(entry.url).then((module) => {
      const fn = module[entry.name];
      if (typeof fn !== "function") {
        throw new TypeError(`The module ${entry.url} has no exported function named '${entry.name}'`);
      }
      entry.fn = fn as (...args: unknown[]) => unknown;
      schedule(() => {
        busy = false;
        state.callId = id;
        state.flag = flag;
        invoke(id, entry, entry.fn!, args);
        if (!busy) kick();
      });
    }).catch((error) => {
      finish(id, false, error, entry);
      settled();
    });
  };

  /**
   * Runs the inbox in order, one call at a time (an asynchronous call holds
   * the next ones until it settles). A call whose slot the loop took back is
   * skipped. Results go out together, or after 1 ms of calls.
   */
  const pump = (): void => {
    pumping = false;
    while (!busy && head < inbox.length) {
      const id = inbox[head] as number;
      const slot = inbox[head + 1] as number;
      const fn = inbox[head + 2] as number | FunctionSpec;
      const args = inbox[head + 3] as unknown[];
      inbox[head + 2] = inbox[head + 3] = undefined;
      head += 4;
      let entry: FunctionEntry | undefined;
      if (typeof fn === "number") {
        entry = functions.get(fn);
      } else {
        entry = { url: fn.url, name: fn.name, fn: null };
        functions.set(fn.key, entry);
      }
      if (Atomics.compareExchange(slots!, slot, id, -id) !== id) {
        keepPortals(args);
        continue;
      }
      if (entry === undefined) finish(id, false, new Error("This worker received an unknown function key"));
      else start(id, flags[slot] ??= new Int32Array(slots!.buffer, (CALL_SLOTS + slot) * 4, 1), entry, args);
      // The clock is read only while calls wait: a lone call's result goes out at once, below.
      if (out.length > 0 && head < inbox.length) {
        const now = performance.now();
        if (outSince < 0) outSince = now;
        else if (now - outSince >= 1) flush();
      }
    }
    if (head === inbox.length) {
      inbox = [];
      head = 0;
    }
    flush();
  };

  // A call that could not be deserialized here never starts: say so, or its caller waits forever.
  host.lost?.((error) => {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    host.post({ t: "lost", reason });
  });

  host.listen((message: ToWorker) => {
    if (Array.isArray(message)) {
      for (let i = 0; i < message.length; i++) inbox.push(message[i]);
      kick();
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
        slots = new Int32Array(init.flag);
        const initializer = init.initializer;
        if (initializer !== undefined) {
          start(0, null, { url: initializer.url, name: initializer.name, fn: null }, initializer.args);
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
  let channel = false;
  let onLost: ((error: unknown) => void) | undefined;
  return {
    // Over the channel, results that are JSON primitives travel as text (see asText).
    post: (message) => out.postMessage(channel ? asText(message) ?? message : message),
    listen: (handler) => {
      parent.on("message", (message) => {
        if (
          message !== null && typeof message === "object" && !Array.isArray(message) &&
          (message as PortMessage).t === "port"
        ) {
          const port = (message as PortMessage).port as MessagePort;
          port.onmessage = (event: MessageEvent<ToWorker | string>) => handler(fromText(event.data));
          port.onmessageerror = (event: MessageEvent) => onLost?.(event.data);
          out = port;
          channel = true;
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
