/**
 * Server-side STARTTLS on Deno, through Deno's `node:tls` (Deno has no API for it).
 *
 * @module
 */

import type { AsyncStreamSocketAdapter, TlsOptions, TlsServerWrapOptions } from "../abc/socket.ts";
import { assertTlsOptions, checkTimeouts, optionsObject } from "../_net/validate.ts";
import { takeTcpConn } from "./connect.ts";
import { startServerTls } from "./_node_compat.ts";
import { DenoStreamSocket } from "./stream_socket.ts";

/**
 * Upgrades an accepted plain connection to TLS as the server. `conn` is a
 * `Deno.TcpConn` or a stream socket of this backend with nothing read ahead.
 *
 * @param conn The plain connection, owned from now on.
 * @param tls The server's `cert` and `key` (and ALPN protocols).
 * @param options The handshake bound.
 */
export async function wrapSslOverTcpServerSocket(
  conn: unknown,
  tls: TlsOptions,
  options?: TlsServerWrapOptions,
): Promise<AsyncStreamSocketAdapter> {
  assertTlsOptions(tls, true);
  const { handshake } = checkTimeouts(optionsObject(options));
  const tcp = takeTcpConn(conn);
  const secure = await startServerTls(tcp, tls, handshake);
  return new DenoStreamSocket(secure, { raw: secure.socket });
}
