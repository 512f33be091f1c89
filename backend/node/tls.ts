/**
 * Node TLS (`node:tls`): client and server handshakes over a `net.Socket`.
 *
 * @module
 */

import type { Socket } from "node:net";
import {
  connect as tlsConnect,
  type ConnectionOptions,
  createSecureContext,
  type SecureContext,
  TLSSocket,
} from "node:tls";
import type { SocketAddress, TlsOptions } from "../abc/socket.ts";
import { isIPLiteral, unbracket } from "../_net/address.ts";
import type { StreamConn } from "../_net/driver.ts";
import { codedError } from "../_net/errors.ts";
import { eventSocketStream } from "../_net/push_stream.ts";
import { mapError } from "./dns.ts";

/** A built secure context, with the options it was built from. */
interface CachedContext {
  caCerts: readonly string[] | undefined;
  cert: string | undefined;
  key: string | undefined;
  context: SecureContext;
}

/** One secure context per options object (a listener copies its options once), rebuilt if they change. */
const contexts = new WeakMap<TlsOptions, CachedContext>();

function tryContext(options: Parameters<typeof createSecureContext>[0]): unknown {
  try {
    createSecureContext(options);
    return undefined;
  } catch (error) {
    return error;
  }
}

/**
 * The secure context of `tls`, built once and reused for every connection:
 * OpenSSL parses the certificates and key here, so bad ones are refused when
 * the socket or listener is created, with an error naming the option.
 */
export function secureContext(tls: TlsOptions): SecureContext {
  const cached = contexts.get(tls);
  if (cached !== undefined && cached.caCerts === tls.caCerts && cached.cert === tls.cert && cached.key === tls.key) {
    return cached.context;
  }
  let context: SecureContext;
  try {
    context = createSecureContext({ ca: tls.caCerts, cert: tls.cert, key: tls.key });
  } catch (error) {
    // Say which option OpenSSL refused.
    let name = "'tls.cert' and 'tls.key' options do not match or are not";
    let cause = error;
    const attempts: [string, Parameters<typeof createSecureContext>[0]][] = [
      ["'tls.caCerts' option is not", { ca: tls.caCerts }],
      ["'tls.cert' option is not", { cert: tls.cert }],
      ["'tls.key' option is not", { key: tls.key }],
    ];
    for (const [which, options] of attempts) {
      const failure = tryContext(options);
      if (failure !== undefined) {
        name = which;
        cause = failure;
        break;
      }
    }
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new TypeError(`The ${name} usable: ${reason}`, { cause });
  }
  contexts.set(tls, { caCerts: tls.caCerts, cert: tls.cert, key: tls.key, context });
  return context;
}

/** Node honours every client TLS setting; the certificates and key are parsed now. */
export function checkClientTls(tls: TlsOptions, _localAddress: SocketAddress | undefined, _method: string): void {
  secureContext(tls);
}

/** Swallows an event's error: the socket it came from was already given up. */
function ignore(): void {}

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
      // Node may still emit 'error' (its own "socket disconnected before secure TLS connection" after 'end'):
      // keep a listener, or that error is uncaught and ends the process.
      socket.on("error", ignore);
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
    ALPNProtocols: tls.alpnProtocols,
    rejectUnauthorized: true,
  };
  let socket: TLSSocket;
  try {
    options.secureContext = secureContext(tls);
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
  let secure: TLSSocket;
  try {
    secure = new TLSSocket(conn, {
      isServer: true,
      secureContext: secureContext(tls),
      ALPNProtocols: tls.alpnProtocols,
    });
  } catch (error) {
    conn.destroy();
    throw error;
  }
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
