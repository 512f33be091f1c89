/**
 * Server-side STARTTLS on Node (`node:tls` over an accepted `net.Socket`).
 *
 * @module
 */

import type { AsyncStreamSocketAdapter, TlsOptions, TlsServerWrapOptions } from "../abc/socket.ts";
import { assertTlsOptions, checkTimeouts, optionsObject } from "../_net/validate.ts";
import { takeTcpSocket } from "./connect.ts";
import { startServerTls } from "./listener_socket.ts";
import { NodeStreamSocket } from "./stream_socket.ts";

/**
 * Upgrades an accepted plain connection to TLS as the server. `conn` is a
 * `net.Socket` or a plain stream socket of this backend; bytes it received but
 * nobody consumed (an eager client's hello) are handed to TLS.
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
  const tcp = takeTcpSocket(conn);
  return new NodeStreamSocket(await startServerTls(tcp, tls, handshake));
}
