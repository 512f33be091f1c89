/**
 * POSIX error codes for networking errors, the same on every runtime.
 *
 * @module
 */

/** Runtime error names (the classes of Deno's `errors` namespace) and the POSIX code each one means. */
export const POSIX_CODES: Readonly<Record<string, string>> = Object.freeze({
  ConnectionRefused: "ECONNREFUSED",
  ConnectionReset: "ECONNRESET",
  ConnectionAborted: "ECONNABORTED",
  BrokenPipe: "EPIPE",
  AddrInUse: "EADDRINUSE",
  AddrNotAvailable: "EADDRNOTAVAIL",
  NotConnected: "ENOTCONN",
  TimedOut: "ETIMEDOUT",
  PermissionDenied: "EACCES",
  NetworkUnreachable: "ENETUNREACH",
});

/**
 * Gives `error` a POSIX `code` property when it has none, from its name or from
 * `fallbackCode`. The error keeps its class; non-objects are returned as they are.
 *
 * @param error The runtime's error.
 * @param fallbackCode The code to use when the name is not a known one.
 */
export function withPosixCode<E>(error: E, fallbackCode?: string): E {
  if (typeof error !== "object" || error === null) return error;
  const record = error as { code?: unknown; name?: unknown };
  if (typeof record.code === "string" && record.code !== "") return error;
  const code = (typeof record.name === "string" ? POSIX_CODES[record.name] : undefined) ?? fallbackCode;
  if (code !== undefined) {
    try {
      Object.defineProperty(error, "code", { value: code, configurable: true, writable: true, enumerable: false });
    } catch {
      // A frozen error keeps its shape.
    }
  }
  return error;
}

/** An error carrying a POSIX `code`. */
export interface CodedError extends Error {
  /** The POSIX error code, e.g. `ENOTFOUND`. */
  code: string;
}

/**
 * Makes an `Error` with a POSIX `code`.
 *
 * @param message The message.
 * @param code The POSIX code.
 * @param cause The underlying error, if any.
 */
export function codedError(message: string, code: string, cause?: unknown): CodedError {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as CodedError;
  error.code = code;
  return error;
}

/**
 * The error of a failed host name lookup (`ENOTFOUND`).
 *
 * @param host The host that could not be resolved.
 * @param cause The resolver's error.
 */
export function lookupError(host: string, cause?: unknown): CodedError {
  const reason = cause instanceof Error ? `: ${cause.message}` : "";
  return codedError(`Could not resolve the host name ${JSON.stringify(host)}${reason}`, "ENOTFOUND", cause);
}

/**
 * The error of a TLS handshake that did not finish in time (`ETIMEDOUT`).
 *
 * @param ms The `sslHandshakeTimeout` that expired.
 */
export function handshakeTimeoutError(ms: number): CodedError {
  return codedError(`The TLS handshake did not finish within sslHandshakeTimeout (${ms} ms)`, "ETIMEDOUT");
}

/**
 * Combines the errors of several failed connection attempts: the first one when
 * they all share a code (or there is one), else an `AggregateError`.
 *
 * @param errors The attempts' errors, in order.
 * @param target What was being connected to, for the message.
 */
export function combineConnectErrors(errors: readonly unknown[], target: string): unknown {
  if (errors.length === 1) return errors[0];
  const codes = new Set(errors.map((error) => (error as { code?: unknown } | null)?.code));
  if (codes.size === 1 && !codes.has(undefined)) return errors[0];
  const reasons = errors.map((error) => error instanceof Error ? error.message : String(error)).join("; ");
  return new AggregateError(errors, `Every connection attempt to ${target} failed: ${reasons}`);
}

/** Accept errors that concern one incoming connection only (it went away first): accept again at once. */
const CONNECTION_ACCEPT_CODES: ReadonlySet<string> = new Set([
  "ECONNABORTED",
  "ECONNRESET",
  "EPROTO",
  "EPERM",
  "ENETDOWN",
  "ENETUNREACH",
  "EHOSTDOWN",
  "EHOSTUNREACH",
  "ENONET",
  "ENOPROTOOPT",
  "EOPNOTSUPP",
]);

/** Accept errors of a process or system out of resources: accept again once some are freed. */
const CAPACITY_ACCEPT_CODES: ReadonlySet<string> = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]);

/**
 * What an error of `accept()` means for an accept loop: `"connection"` (one
 * incoming connection failed: accept the next), `"capacity"` (out of file
 * descriptors or memory: wait, then accept again), or `"fatal"` (the listener
 * itself failed, or was closed).
 *
 * @param error The error `accept()` rejected with.
 */
export function acceptErrorKind(error: unknown): "connection" | "capacity" | "fatal" {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return "fatal";
  if (CONNECTION_ACCEPT_CODES.has(code)) return "connection";
  return CAPACITY_ACCEPT_CODES.has(code) ? "capacity" : "fatal";
}
