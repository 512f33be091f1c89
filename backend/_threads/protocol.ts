/**
 * The messages exchanged between the loop and its worker threads, and how
 * errors cross the thread boundary. Runtime-neutral.
 *
 * @module
 */

import type { CancelScope } from "../_core/cancel_scope.ts";
import { describe } from "../_util/validate.ts";

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
  /** `true`: a value that is not an `Error` was thrown, and `value` is that value. */
  thrown?: boolean;
  /** The thrown value that is not an error (with `thrown`). */
  value?: unknown;
  /** The error's `cause` when it is an error, serialized the same way (a few levels deep). */
  cause?: SerializedError;
}

/** Sent once, right after the worker started. */
export interface InitMessage {
  t: "init";
  /** The worker's name. */
  name: string;
  /**
   * The call slots ({@linkcode CALL_SLOTS} `Int32Array` slots, then as many
   * cancel flags): a slot holds the id of the call sent in it while the call
   * waits in the worker's inbox; the worker claims it (`id` to `-id`) before
   * running the call, the loop takes it back (`id` to `0`) to drop or move the
   * call. Whoever swaps first decides. A cancel flag is non-zero once the
   * caller of the call running in its slot was cancelled.
   */
  flag: SharedArrayBuffer;
  /** A function to run once before any call (an executor's initializer). */
  initializer?: { url: string; name: string; args: unknown[] };
}

/**
 * How many calls a worker holds at once (running or waiting in its inbox).
 * The loop refills a worker's inbox only when results come back, so tiny calls
 * go at most this many per round trip: 16 left the workers idle most of the
 * time and 100k tiny calls on 2 workers at 2.5x raw pipelined `postMessage`
 * (Node 24); 512 brings it to about 1.6x. A call waiting behind a long one is
 * still taken back by an idle worker (stealing), so a deep inbox costs no latency.
 */
export const CALL_SLOTS = 512;

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
 * Runs functions: `[call id, slot, function, arguments, ...]`, one call per
 * four items, run in order. Flat, not objects: the hot path clones as little
 * as possible, and the calls of one tick travel in one message.
 */
export type CallMessage = (number | FunctionSpec | unknown[])[];

/** The caller of call `id` was cancelled: abort the worker-side signal. */
export interface CancelMessage {
  t: "cancel";
  id: number;
}

/**
 * The first message on Deno: the channel every later message takes both ways
 * (Deno's `Worker.postMessage` of `node:worker_threads` copies a typed array at
 * about 2 MiB/s; a `MessageChannel` port moves 100 MiB in about 0.2 s).
 */
export interface PortMessage {
  t: "port";
  /** The worker's end of the channel. */
  port: Port;
}

/** A message from the loop to a worker. */
export type ToWorker = InitMessage | CallMessage | CancelMessage | PortMessage;

/**
 * Results, `[id, ok, payload, ...]`, three items per call (`id` 0 is the
 * initializer): `ok` and the value, or not `ok` and the serialized error.
 */
export type DoneMessage = unknown[] & {
  /** Absent: lets `message.t === "exit"` tell the two kinds apart. */
  readonly t?: undefined;
};

/** The worker is about to close itself (`self.close()`, or the runtime's exit call). */
export interface ExitMessage {
  t: "exit";
  reason: string;
}

/**
 * A message from the loop could not be deserialized in the worker (its
 * `messageerror`): the call (or initializer) it carried never started.
 */
export interface LostMessage {
  t: "lost";
  /** The deserialization error's message. */
  reason: string;
}

/** A message from a worker to the loop. */
export type FromWorker = DoneMessage | ExitMessage | LostMessage;

/** `true` when `value` crosses JSON as itself: a string, a boolean, `null`, a finite number but -0. */
function jsonPrimitive(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    default:
      return value === null;
  }
}

/**
 * A message over a channel (Deno's, see {@linkcode PortMessage}) as JSON text
 * when that loses nothing: calls whose arguments are all JSON primitives,
 * results that are all such values. Deno 2.9 clones a small array slowly: a
 * call's `[id, slot, fn, [arg]]` costs 8.2 µs to post and receive on a
 * `MessageChannel`, its JSON text 5.9 µs with `stringify` and `parse` (a number
 * 4.5 µs), so about 5 µs less per round trip (Node clones arrays fast; its
 * workers post without a channel). `undefined` when the message must be
 * cloned. {@linkcode fromText} reads it back.
 */
export function asText(message: ToWorker | FromWorker): string | undefined {
  if (!Array.isArray(message)) return undefined;
  if (typeof message[1] === "number") {
    for (let i = 3; i < message.length; i += 4) {
      const args = message[i] as unknown[];
      for (let j = 0; j < args.length; j++) if (!jsonPrimitive(args[j])) return undefined;
    }
  } else {
    for (let i = 1; i < message.length; i += 3) {
      if (message[i] !== true || !jsonPrimitive(message[i + 1])) return undefined;
    }
  }
  return JSON.stringify(message);
}

/** A message as received: JSON text ({@linkcode asText}) parsed, any other as is. */
export function fromText<T>(data: unknown): T {
  return (typeof data === "string" ? JSON.parse(data) : data) as T;
}

/**
 * The method an argument implements to travel to a worker differently than by
 * structured clone (a portal sends its channel once per worker).
 */
export const TO_WORKER: unique symbol = Symbol("toWorker");

/** The caller of a call a worker runs, as a portal sees it (see {@linkcode PortalWorker}). */
export interface PortalCaller {
  /** The caller's innermost cancel scope when it called `runInThread`, `null` when it had none. */
  readonly scope: CancelScope | null;
  /** `true` once the caller was cancelled (the call's cancel flag is set). */
  readonly cancelled: boolean;
}

/**
 * A worker as the arguments it is sent to see it: an identity (a portal sends
 * its channel once per worker) that also tells whose call it is running.
 */
export interface PortalWorker {
  /**
   * The caller of call `id` while this worker runs it (SPEC 2.1 rule 5: a
   * portal call made during a call runs in its caller's scope); `undefined`
   * when `id` is not the running call.
   */
  callerOf(id: number): PortalCaller | undefined;
}

/**
 * A message port of the runtime (the DOM's on Deno, Node's on Node), named through
 * the global value so that the published declarations need no DOM lib.
 */
export type Port = (typeof MessagePort)["prototype"];

/** An item of a message's transfer list: the DOM's `Transferable` as far as workers use it, without the DOM lib. */
export type TransferItem = ArrayBuffer | Port;

/** An argument that encodes itself for a given worker. */
export interface WorkerTransferable {
  /** Encodes the value for `worker`; `rollback()` undoes it when the post fails. */
  [TO_WORKER](worker: PortalWorker): { value: unknown; transfer: TransferItem[]; rollback(): void };
}

/** The key marking a portal descriptor inside call arguments. */
export const PORTAL_KEY = "__asyncBackendThreadsPortal";

/** A portal as it travels to a worker: its id, and its channel the first time. */
export interface PortalDescriptor {
  [PORTAL_KEY]: number;
  /** The worker's end of the portal channel (first transfer only). */
  port?: Port;
  /** `[replies posted, closed]` as `Int32Array` slots (first transfer only). */
  state?: SharedArrayBuffer;
}

/**
 * A request from a worker's portal to the loop: `sync` is `true` for
 * `runSync`; `callId` is the worker's running call (`0` when none), whose
 * caller's scope the request runs in.
 */
export type PortalRequest = [id: number, sync: boolean, name: string, args: unknown[], callId: number];

/** The loop's answer to a {@linkcode PortalRequest}: the value, or the serialized error. */
export type PortalReply = [id: number, ok: boolean, payload: unknown];

/** Index of the reply counter in a portal's state. */
export const PORTAL_SEQ = 0;
/** Index of the closed flag in a portal's state: 1 once the runner closed, {@linkcode PORTAL_BROKEN} when the channel broke. */
export const PORTAL_CLOSED = 1;
/** The closed flag's value when the loop dropped the channel (a request it could not deserialize). */
export const PORTAL_BROKEN = 2;

const BUILTIN_ERRORS: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** The names of the `DOMException`s rebuilt as such (the library's timeouts, structured clone). */
const DOM_EXCEPTIONS = new Set(["AbortError", "TimeoutError", "DataCloneError"]);

/** How many levels of `cause` cross a thread. */
const CAUSE_DEPTH = 4;

function serializeErrorLike(error: Error | { message: unknown }, depth: number): SerializedError {
  const e = error as { name?: unknown; message?: unknown; stack?: unknown; code?: unknown; cause?: unknown };
  const out: SerializedError = { name: String(e.name ?? "Error"), message: String(e.message ?? "") };
  if (typeof e.stack === "string") out.stack = e.stack;
  if (typeof e.code === "string" || typeof e.code === "number") out.code = e.code;
  const cause = e.cause;
  if (
    depth < CAUSE_DEPTH &&
    (cause instanceof Error || (typeof cause === "object" && cause !== null && "message" in cause))
  ) {
    out.cause = serializeErrorLike(cause as Error, depth + 1);
  }
  return out;
}

/** What a thrown value that is not an `Error` is, for a message. */
function describeThrown(value: unknown): string {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const ctor = (value as { constructor?: { name?: unknown } }).constructor?.name;
    const kind = typeof ctor === "string" && ctor !== "" && ctor !== "Object"
      ? `an object of class ${ctor}`
      : "an object";
    const message = (value as { message?: unknown }).message;
    return typeof message === "string" ? `${kind} with message ${JSON.stringify(message.slice(0, 200))}` : kind;
  }
  return describe(value);
}

/**
 * Turns a thrown value into something that survives structured clone. An
 * `Error` becomes its name, message, stack, `code` and `cause`; any other
 * value travels as itself (`value`, revived as is by {@linkcode reviveError}),
 * unless `keepValue` is `false`: then it is described in an error's message.
 * When the value then fails to clone, send {@linkcode serializeUncloneable}.
 *
 * @param error The thrown value.
 * @param keepValue Send a value that is not an `Error` as itself.
 */
export function serializeError(error: unknown, keepValue = true): SerializedError {
  if (error instanceof Error) return serializeErrorLike(error, 0);
  const message = `A value that is not an Error was thrown: ${describeThrown(error)}`;
  if (!keepValue) {
    return typeof error === "object" && error !== null && "message" in error
      ? serializeErrorLike(error as { message: unknown }, 0)
      : { name: "Error", message };
  }
  return { name: "Error", message, thrown: true, value: error };
}

/**
 * The error sent instead of a thrown value that is not an `Error` and could
 * not be structured-cloned: a `TypeError` saying what the value was, with the
 * clone's error (a `DOMException` named `"DataCloneError"`) as its `cause`.
 *
 * @param value The thrown value.
 * @param where Where it was going ("back from its worker thread").
 * @param failure The error the post threw.
 */
export function serializeUncloneable(value: unknown, where: string, failure: unknown): SerializedError {
  const reason = failure instanceof Error ? failure.message : String(failure);
  return serializeError(
    new TypeError(
      `A value that is not an Error was thrown (${describeThrown(value)}) and could not be structured-cloned ` +
        `${where}: ${reason}`,
      { cause: failure },
    ),
  );
}

/**
 * Rebuilds an error on this side: same name, message and stack; built-in
 * classes are kept, other names are set on an `Error`. A thrown value that is
 * not an `Error` (`thrown`) is returned as itself: the result is what the
 * other side threw, so test it with `instanceof Error` before reading `message`.
 *
 * @param data The serialized error.
 * @param make Builds errors whose name this side knows (such as `CancelledError`).
 */
export function reviveError(
  data: SerializedError,
  make?: (name: string, message: string) => Error | undefined,
  // deno-lint-ignore no-explicit-any
): any {
  if (data.thrown === true) return data.value;
  const error = make?.(data.name, data.message) ??
    (DOM_EXCEPTIONS.has(data.name) && typeof DOMException === "function"
      ? new DOMException(data.message, data.name) as Error
      : new (BUILTIN_ERRORS[data.name] ?? Error)(data.message));
  if (error.name !== data.name) {
    Object.defineProperty(error, "name", { value: data.name, writable: true, configurable: true, enumerable: false });
  }
  if (data.stack !== undefined) {
    Object.defineProperty(error, "stack", { value: data.stack, writable: true, configurable: true, enumerable: false });
  }
  // A DOMException has its own read-only `code`, implied by its name.
  if (data.code !== undefined && (error as Error & { code?: unknown }).code !== data.code) {
    Object.defineProperty(error, "code", { value: data.code, writable: true, configurable: true, enumerable: true });
  }
  if (data.cause !== undefined) {
    Object.defineProperty(error, "cause", {
      value: reviveError(data.cause, make),
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  return error;
}

/**
 * The error of a value that could not cross a thread: a `TypeError` saying
 * what could not be cloned, with the clone's error (a `DOMException` named
 * `"DataCloneError"`) as its `cause`.
 *
 * @param what What was sent, in sentence case ("The arguments of f (url)").
 * @param where Where it was going ("to a worker thread").
 * @param error The error the post threw.
 */
export function cloneError(what: string, where: string, error: unknown): TypeError {
  const reason = error instanceof Error || (typeof error === "object" && error !== null && "message" in error)
    ? String((error as { message: unknown }).message)
    : String(error);
  return new TypeError(`${what} could not be structured-cloned ${where}: ${reason}`, { cause: error });
}
