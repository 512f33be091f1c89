/**
 * The messages exchanged between the loop and its worker threads, and how
 * errors cross the thread boundary. Runtime-neutral.
 *
 * @module
 */

/** An error as it crosses a thread: structured clone keeps only built-in error classes. */
export interface SerializedError {
  /** The error's `name`. */
  name: string;
  /** The error's `message`. */
  message: string;
  /** The error's stack, as printed where it was thrown. */
  stack?: string;
  /** A POSIX-like `code`, when the error had one. */
  code?: string | number;
  /** A thrown value that is not an error, when it can be cloned. */
  value?: unknown;
}

/** Sent once, right after the worker started. */
export interface InitMessage {
  t: "init";
  /** The worker's name. */
  name: string;
  /** One `Int32Array` slot: non-zero while the caller of the running call is cancelled. */
  flag: SharedArrayBuffer;
  /** A function to run once before any call (an executor's initializer). */
  initializer?: { url: string; name: string; args: unknown[] };
}

/** Names a function the first time a worker sees it; later calls send `key` alone. */
export interface FunctionSpec {
  /** The number later calls use. */
  key: number;
  /** The module's URL. */
  url: string;
  /** The export's name. */
  name: string;
}

/**
 * Runs a function: `[call id, function, arguments]`. A tuple, not an object:
 * the hot path clones as little as possible.
 */
export type CallMessage = [id: number, fn: number | FunctionSpec, args: unknown[]];

/** The caller of call `id` was cancelled: abort the worker-side signal. */
export interface CancelMessage {
  t: "cancel";
  id: number;
}

/** A message from the loop to a worker. */
export type ToWorker = InitMessage | CallMessage | CancelMessage;

/**
 * The result of call `id` (`id` 0 is the initializer): `[id, true, value]` or
 * `[id, false, serialized error]`.
 */
export type DoneMessage = [id: number, ok: boolean, payload: unknown] & {
  /** Absent: lets `message.t === "exit"` tell the two kinds apart. */
  readonly t?: undefined;
};

/** The worker is about to close itself (`self.close()`, or the runtime's exit call). */
export interface ExitMessage {
  t: "exit";
  reason: string;
}

/** A message from a worker to the loop. */
export type FromWorker = DoneMessage | ExitMessage;

/**
 * The method an argument implements to travel to a worker differently than by
 * structured clone (a portal sends its channel once per worker).
 */
export const TO_WORKER: unique symbol = Symbol("toWorker");

/** An argument that encodes itself for a given worker. */
export interface WorkerTransferable {
  /** Encodes the value for `worker` (an opaque identity); `rollback()` undoes it when the post fails. */
  [TO_WORKER](worker: object): { value: unknown; transfer: Transferable[]; rollback(): void };
}

/** The key marking a portal descriptor inside call arguments. */
export const PORTAL_KEY = "__asyncBackendThreadsPortal";

/** A portal as it travels to a worker: its id, and its channel the first time. */
export interface PortalDescriptor {
  [PORTAL_KEY]: number;
  /** The worker's end of the portal channel (first transfer only). */
  port?: MessagePort;
  /** `[replies posted, closed]` as `Int32Array` slots (first transfer only). */
  state?: SharedArrayBuffer;
}

/** A request from a worker's portal to the loop: `sync` is `true` for `runSync`. */
export type PortalRequest = [id: number, sync: boolean, name: string, args: unknown[]];

/** The loop's answer to a {@linkcode PortalRequest}: the value, or the serialized error. */
export type PortalReply = [id: number, ok: boolean, payload: unknown];

/** Index of the reply counter in a portal's state. */
export const PORTAL_SEQ = 0;
/** Index of the closed flag in a portal's state. */
export const PORTAL_CLOSED = 1;

const BUILTIN_ERRORS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Turns a thrown value into something that survives structured clone. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error || (typeof error === "object" && error !== null && "message" in error)) {
    const e = error as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown };
    const out: SerializedError = { name: String(e.name ?? "Error"), message: String(e.message ?? "") };
    if (typeof e.stack === "string") out.stack = e.stack;
    if (typeof e.code === "string" || typeof e.code === "number") out.code = e.code;
    return out;
  }
  const out: SerializedError = { name: "Error", message: `Non-error thrown: ${String(error)}` };
  if (error === undefined || error === null || typeof error !== "object" && typeof error !== "function") {
    out.value = error;
  }
  return out;
}

/**
 * Rebuilds an error on this side: same name, message and stack; built-in
 * classes are kept, other names are set on an `Error`.
 *
 * @param data The serialized error.
 * @param make Builds errors whose name this side knows (such as `CancelledError`).
 */
export function reviveError(data: SerializedError, make?: (name: string, message: string) => Error | undefined): Error {
  const error = make?.(data.name, data.message) ?? new (BUILTIN_ERRORS[data.name] ?? Error)(data.message);
  if (error.name !== data.name) {
    Object.defineProperty(error, "name", { value: data.name, writable: true, configurable: true, enumerable: false });
  }
  if (data.stack !== undefined) {
    Object.defineProperty(error, "stack", { value: data.stack, writable: true, configurable: true, enumerable: false });
  }
  if (data.code !== undefined) (error as Error & { code?: string | number }).code = data.code;
  return error;
}
