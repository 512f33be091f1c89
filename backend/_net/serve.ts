/**
 * Servers written once: an accept loop per listener and a task per connection,
 * all in one task group (Trio's `serve_listeners`). A connection is closed when
 * its handler ends; a handler's error goes to `onError` and the server goes on;
 * an accept error that concerns one connection is skipped, one of a process out
 * of file descriptors is reported and retried after a pause, any other one
 * (the listener failed or was closed) stops the server. Cancelling the call
 * stops accepting, cancels the handlers, and closes the connections and the
 * listeners.
 *
 * @module
 */

import type { AsyncBackend } from "../abc/async_backend.ts";
import type { ServeErrorHandler, ServeOptions, ServeTcpOptions, ServeTlsOptions } from "../abc/serve.ts";
import {
  type AcceptedSocket,
  AsyncListenerSocketAdapter,
  type AsyncStreamSocketAdapter,
  type SocketAddress,
  type TlsOptions,
} from "../abc/socket.ts";
import type { TaskGroup, TaskStatus } from "../abc/tasks.ts";
import { CancelledError } from "../errors.ts";
import { currentScope } from "../_core/cancel_scope.ts";
import { runTaskGroup } from "../_core/task_group.ts";
import { assertFunction, describe } from "../_util/validate.ts";
import { acceptErrorKind } from "./errors.ts";
import { assertBacklog, assertPort, assertTlsOptions, listenHosts, optionsObject } from "./validate.ts";

/** The backend calls a server needs: its listeners, and a sleep for the pause after `EMFILE`. */
export type ServeBackend = Pick<AsyncBackend, "createTcpListeners" | "createSslOverTcpListeners" | "sleep">;

/** The listen backlog of `serveTcp` and `serveTls` when none is given (Node's and Deno's default). */
export const DEFAULT_SERVE_BACKLOG = 511;
/** How long an accept loop waits before accepting again after `EMFILE`, `ENFILE`, `ENOBUFS` or `ENOMEM`. */
export const CAPACITY_RETRY_MS = 100;

type Handler = (stream: AsyncStreamSocketAdapter) => unknown;

/** What every task of a server shares. */
interface Server {
  handler: Handler;
  onError: ServeErrorHandler | undefined;
  sleep: (ms: number) => Promise<void>;
}

function formatAddress(address: SocketAddress | null): string {
  if (address === null) return "an unknown peer";
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}

/** Tells `onError`, or prints `what` and the error when there is none. */
async function report(
  server: Server,
  error: unknown,
  stream: AsyncStreamSocketAdapter | null,
  what: () => string,
): Promise<void> {
  if (server.onError !== undefined) await server.onError(error, stream);
  else console.error(`${what()}:`, error);
}

/** `true` for the cancellation of the calling task (not a stray `CancelledError` a handler threw). */
function isCancellation(error: unknown): boolean {
  return error instanceof CancelledError && (currentScope()?.isCancelledNow() ?? false);
}

/** The peer of an accepted connection that can tell it (the listeners of this library can). */
function peerOf(accepted: AcceptedSocket): SocketAddress | null {
  const candidate = accepted as Partial<{ getRemoteAddress(): SocketAddress }>;
  if (typeof candidate.getRemoteAddress !== "function") return null;
  try {
    return candidate.getRemoteAddress();
  } catch {
    return null;
  }
}

/** One connection's task: set it up, run the handler, report its error, close it. */
async function serveConnection(accepted: AcceptedSocket, server: Server): Promise<void> {
  const peer = peerOf(accepted);
  let stream: AsyncStreamSocketAdapter;
  try {
    stream = await accepted.connect();
  } catch (error) {
    if (isCancellation(error)) throw error;
    await report(server, error, null, () => `Setting up the connection from ${formatAddress(peer)} failed`);
    return;
  }
  try {
    await server.handler(stream);
  } catch (error) {
    if (isCancellation(error)) throw error;
    await report(server, error, stream, () => `The handler of the connection from ${formatAddress(peer)} failed`);
  } finally {
    await stream.aclose();
  }
}

/** Accepts until cancelled or until the listener fails; each connection gets a task of `tg`. */
async function acceptLoop(tg: TaskGroup, listener: AsyncListenerSocketAdapter, server: Server): Promise<never> {
  for (;;) {
    let accepted: AcceptedSocket;
    try {
      accepted = await listener.accept();
    } catch (error) {
      const kind = acceptErrorKind(error);
      if (kind === "fatal") throw error;
      if (kind === "capacity") {
        await report(server, error, null, () => {
          const where = formatAddress(listener.getLocalAddress());
          return `Accepting on ${where} failed, accepting again in ${CAPACITY_RETRY_MS} ms`;
        });
        await server.sleep(CAPACITY_RETRY_MS);
      }
      continue;
    }
    tg.startSoon(serveConnection, accepted, server);
  }
}

/** Checks the options every server takes. */
function checkServeOptions(options: ServeOptions): void {
  if (options.onError !== undefined && typeof options.onError !== "function") {
    throw new TypeError(`The 'onError' option must be a function, got ${describe(options.onError)}`);
  }
  const status = options.taskStatus as Partial<TaskStatus<unknown>> | undefined;
  if (status !== undefined && (typeof status !== "object" || status === null || typeof status.started !== "function")) {
    throw new TypeError(
      `The 'taskStatus' option must be the status given by tg.start() (an object with started()), got ${
        describe(status)
      }`,
    );
  }
}

/** Runs the server on `listeners` (owned from now on: closed when it stops). */
async function run(
  server: Server,
  listeners: readonly AsyncListenerSocketAdapter[],
  status: TaskStatus<AsyncListenerSocketAdapter[]> | undefined,
): Promise<never> {
  try {
    await runTaskGroup((tg) => {
      for (const listener of listeners) tg.startSoon(acceptLoop, tg, listener, server);
      status?.started([...listeners]);
    });
  } finally {
    for (const listener of listeners) await listener.aclose();
  }
  // The accept loops end only by throwing, which the group carries out.
  throw new Error("The server stopped without an error");
}

/** See `AsyncBackend.serveListeners`. */
export async function serveListeners(
  backend: ServeBackend,
  handler: Handler,
  listeners: readonly AsyncListenerSocketAdapter[],
  options?: ServeOptions,
): Promise<never> {
  assertFunction(handler, "handler");
  if (!Array.isArray(listeners)) {
    throw new TypeError(`The 'listeners' argument must be a list of listeners, got ${describe(listeners)}`);
  }
  if (listeners.length === 0) throw new RangeError("The 'listeners' argument must not be an empty list");
  listeners.forEach((listener, index) => {
    if (!(listener instanceof AsyncListenerSocketAdapter)) {
      throw new TypeError(`The 'listeners[${index}]' argument must be a listener socket, got ${describe(listener)}`);
    }
  });
  const opts = optionsObject(options);
  checkServeOptions(opts);
  const server = { handler, onError: opts.onError, sleep: (ms: number) => backend.sleep(ms) };
  return await run(server, [...listeners], opts.taskStatus);
}

/** Checks `host` and `backlog` of `serveTcp` and `serveTls` and defaults them. */
function listenOptions(options: ServeTcpOptions | ServeTlsOptions): {
  host: string | readonly string[] | null;
  backlog: number;
} {
  const host = options.host ?? null;
  listenHosts(host);
  const backlog = options.backlog ?? DEFAULT_SERVE_BACKLOG;
  assertBacklog(backlog);
  return { host, backlog };
}

/** See `AsyncBackend.serveTcp`. */
export async function serveTcp(
  backend: ServeBackend,
  handler: Handler,
  port: number,
  options?: ServeTcpOptions,
): Promise<never> {
  assertFunction(handler, "handler");
  assertPort(port);
  const opts = optionsObject(options);
  checkServeOptions(opts);
  const { host, backlog } = listenOptions(opts);
  const listeners = await backend.createTcpListeners(host, port, backlog, { reusePort: opts.reusePort });
  const server = { handler, onError: opts.onError, sleep: (ms: number) => backend.sleep(ms) };
  return await run(server, listeners, opts.taskStatus);
}

/** See `AsyncBackend.serveTls`. */
export async function serveTls(
  backend: ServeBackend,
  handler: Handler,
  port: number,
  tls: TlsOptions,
  options?: ServeTlsOptions,
): Promise<never> {
  assertFunction(handler, "handler");
  assertPort(port);
  assertTlsOptions(tls, true);
  const opts = optionsObject(options);
  checkServeOptions(opts);
  const { host, backlog } = listenOptions(opts);
  const listeners = await backend.createSslOverTcpListeners(host, port, backlog, tls, {
    reusePort: opts.reusePort,
    sslHandshakeTimeout: opts.sslHandshakeTimeout,
  });
  const server = { handler, onError: opts.onError, sleep: (ms: number) => backend.sleep(ms) };
  return await run(server, listeners, opts.taskStatus);
}
