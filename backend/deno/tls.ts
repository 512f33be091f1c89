/**
 * Deno TLS: `Deno.startTls`, `Deno.listenTls` and the handshake. Server-side
 * STARTTLS has no Deno API: that one case goes through `node:tls`
 * (`_node_compat.ts`, loaded on first use).
 *
 * @module
 */

import type { SocketAddress, TlsOptions } from "../abc/socket.ts";
import { unbracket } from "../_net/address.ts";
import type { ListenerConn, StreamConn } from "../_net/driver.ts";
import { alpnOnlySession } from "../_net/tls_session.ts";
import { mapError } from "./dns.ts";
import { close, type DenoConn, listenerConn, loadNodeCompat, stream } from "./tcp.ts";

/** Throws for what `Deno.startTls` cannot do: present a client certificate, use a `node:` socket. */
export function checkClientTls(tls: TlsOptions, localAddress: SocketAddress | undefined, method: string): void {
  if (tls.cert !== undefined) {
    throw new TypeError(
      `Client certificates ('tls.cert' and 'tls.key') are not supported by ${method} on Deno: ` +
        "Deno.startTls cannot present one",
    );
  }
  if (localAddress !== undefined) {
    throw new TypeError(
      "The 'localAddress' option is not supported with TLS on Deno: Deno.startTls needs a Deno.TcpConn",
    );
  }
}

/** Runs the handshake of `conn`; closes it on failure or abort. Its session tells only the ALPN protocol. */
function handshake(conn: Deno.TlsConn, signal: AbortSignal, stream: StreamConn): Promise<StreamConn> {
  return new Promise<StreamConn>((resolve, reject) => {
    const onAbort = () => {
      close(conn);
      reject(signal.reason);
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    conn.handshake().then((info) => {
      signal.removeEventListener("abort", onAbort);
      resolve({ ...stream, tls: alpnOnlySession(info.alpnProtocol) });
    }, (error) => {
      signal.removeEventListener("abort", onAbort);
      close(conn);
      reject(mapError(error));
    });
  });
}

/** Client TLS over a `Deno.TcpConn` (`Deno.startTls`), handshake included. */
export async function startClientTls(
  conn: DenoConn,
  tls: TlsOptions,
  serverHostname: string,
  signal: AbortSignal,
): Promise<StreamConn> {
  const tcp = conn as Deno.TcpConn;
  const addresses = { local: tcp.localAddr, remote: tcp.remoteAddr };
  let secure: Deno.TlsConn;
  try {
    secure = await Deno.startTls(tcp, {
      hostname: unbracket(serverHostname),
      caCerts: tls.caCerts,
      alpnProtocols: tls.alpnProtocols,
    });
  } catch (error) {
    close(tcp);
    throw mapError(error);
  }
  return await handshake(secure, signal, stream(secure, addresses));
}

/** Server TLS over an accepted plain connection (server STARTTLS, through `node:tls`). */
export function startServerTls(conn: DenoConn, tls: TlsOptions, signal: AbortSignal): Promise<StreamConn> {
  return loadNodeCompat().then((compat) => compat.startServerTls(conn as Deno.TcpConn, tls, signal));
}

/** The server handshake of a connection accepted by `Deno.listenTls`. */
export function acceptTls(conn: DenoConn, _tls: TlsOptions, signal: AbortSignal): Promise<StreamConn> {
  const secure = conn as Deno.TlsConn;
  return handshake(secure, signal, stream(secure));
}

/** Binds a TLS listener (`Deno.listenTls`). */
export function listenTls(
  hostname: string,
  port: number,
  backlog: number,
  reusePort: boolean,
  tls: TlsOptions,
): ListenerConn<DenoConn> {
  return listenerConn(Deno.listenTls({
    hostname,
    port,
    tcpBacklog: backlog,
    reusePort,
    cert: tls.cert!,
    key: tls.key!,
    alpnProtocols: tls.alpnProtocols,
  }));
}
