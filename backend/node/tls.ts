/**
 * Node TLS (`node:tls`): client and server handshakes over a `net.Socket`.
 *
 * @module
 */

import type { Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions, TLSSocket } from "node:tls";
import type { SocketAddress, TlsOptions } from "../abc/socket.ts";
import { isIPLiteral, unbracket } from "../_net/address.ts";
import type { StreamConn } from "../_net/driver.ts";
import { codedError } from "../_net/errors.ts";
import { eventSocketStream } from "../_net/push_stream.ts";
import { mapError } from "./dns.ts";

/** Node honours every client TLS setting. */
export function checkClientTls(_tls: TlsOptions, _localAddress: SocketAddress | undefined, _method: string): void {}

/**
 * Waits for a TLS socket's handshake (`event`: `"secureConnect"` for clients,
 * `"secure"` for servers). On failure or abort the socket is destroyed.
 */
function handshake(socket: TLSSocket, event: "secureConnect" | "secure", signal: AbortSignal): Promise<StreamConn> {
  return new Promise<StreamConn>((resolve, reject) => {
    const cleanup = () => {
      signal.removeEventListener("abort", onAbort);
      socket.removeListener(event, onSecure);
      socket.removeListener("error", onError);
      socket.removeListener("close", onClose);
      socket.removeListener("end", onClose);
    };
    const fail = (error: unknown) => {
      cleanup();
      socket.destroy();
      reject(error);
    };
    const onSecure = () => {
      cleanup();
      resolve(eventSocketStream(socket));
    };
    const onError = (error: Error) => fail(mapError(error));
    // A failed handshake may end or close the socket with no 'error' (a peer that hangs up).
    const onClose = () => fail(codedError("The peer closed the connection during the TLS handshake", "ECONNRESET"));
    const onAbort = () => fail(signal.reason);
    socket.once(event, onSecure);
    socket.once("error", onError);
    socket.once("close", onClose);
    socket.once("end", onClose);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Client TLS over a connected socket, handshake included. */
export function startClientTls(
  conn: Socket,
  tls: TlsOptions,
  serverHostname: string,
  signal: AbortSignal,
): Promise<StreamConn> {
  const hostname = unbracket(serverHostname);
  const options: ConnectionOptions = {
    socket: conn,
    host: hostname,
    // RFC 6066: no IP address as SNI; the certificate is still checked against it.
    servername: isIPLiteral(hostname) ? undefined : hostname,
    ca: tls.caCerts,
    cert: tls.cert,
    key: tls.key,
    ALPNProtocols: tls.alpnProtocols,
    rejectUnauthorized: true,
  };
  let socket: TLSSocket;
  try {
    socket = tlsConnect(options);
  } catch (error) {
    conn.destroy();
    return Promise.reject(mapError(error));
  }
  socket.pause();
  return handshake(socket, "secureConnect", signal);
}

/** Server TLS over a plain socket (an accepted one, or server STARTTLS), handshake included. */
export async function startServerTls(conn: Socket, tls: TlsOptions, signal: AbortSignal): Promise<StreamConn> {
  const secure = new TLSSocket(conn, {
    isServer: true,
    cert: tls.cert,
    key: tls.key,
    ca: tls.caCerts,
    ALPNProtocols: tls.alpnProtocols,
  });
  secure.pause();
  // Node starts the server handshake when the TLS socket reads: let the plain socket flow.
  conn.resume();
  try {
    return await handshake(secure, "secure", signal);
  } catch (error) {
    conn.destroy();
    throw error;
  }
}
