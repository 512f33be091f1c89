/**
 * Server contracts: the connection handler and the options of `serveListeners`,
 * `serveTcp` and `serveTls`.
 *
 * @module
 */

import type {
  AsyncHalfCloseableStreamSocketAdapter,
  AsyncListenerSocketAdapter,
  AsyncStreamSocketAdapter,
  TcpListenerOptions,
  TlsListenerOptions,
} from "./socket.ts";
import type { TaskStatus } from "./tasks.ts";

/**
 * Serves one connection: runs in its own task, and the connection is closed
 * when it ends (returns or throws).
 */
export type ConnectionHandler<S extends AsyncStreamSocketAdapter = AsyncStreamSocketAdapter> = (
  stream: S,
) => unknown;

/**
 * Told about an error the server survives.
 *
 * @param error The error: a handler's, a connection setup's (the TLS handshake
 *   of `serveTls`), or a listener's that retrying may cure (`EMFILE`, ...).
 * @param stream The connection whose handler threw, still open (it is closed
 *   once this returns); `null` when there is no stream: the setup failed, or the
 *   listener did.
 */
export type ServeErrorHandler = (error: unknown, stream: AsyncStreamSocketAdapter | null) => unknown;

/** Options of `serveListeners`. */
export interface ServeOptions {
  /**
   * Told about each error the server survives (see {@linkcode ServeErrorHandler});
   * awaited when it returns a promise. What it throws stops the server with that
   * error. Default: `console.error`, with the peer's address.
   */
  onError?: ServeErrorHandler;
  /**
   * Told the listeners once the server accepts: the `status` of
   * `tg.start((status: ServeStatus) => backend.serveTcp(handler, 0, { taskStatus: status }))`,
   * which then resolves the listeners (their addresses give the ports).
   */
  taskStatus?: ServeStatus;
}

/** Options of `serveTcp`: where to listen, and {@linkcode ServeOptions}. */
export interface ServeTcpOptions extends ServeOptions, TcpListenerOptions {
  /** The host(s) to bind, as in `createTcpListeners` (default `null`: every interface). */
  host?: string | readonly string[] | null;
  /** The listen backlog (default 511). */
  backlog?: number;
}

/** Options of `serveTls`: where to listen, the handshake bound, and {@linkcode ServeOptions}. */
export interface ServeTlsOptions extends ServeOptions, TlsListenerOptions {
  /** The host(s) to bind, as in `createSslOverTcpListeners` (default `null`: every interface). */
  host?: string | readonly string[] | null;
  /** The listen backlog (default 511). */
  backlog?: number;
}

/**
 * The `status` a server's task gets from `tg.start()`: annotate the parameter
 * with it so that `start()` resolves the listeners.
 */
export type ServeStatus = TaskStatus<AsyncListenerSocketAdapter[]>;

/** The handler of `serveTcp`: its connections can close their write side alone. */
export type TcpConnectionHandler = ConnectionHandler<AsyncHalfCloseableStreamSocketAdapter>;
