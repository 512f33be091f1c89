/**
 * Node TLS (`node:tls`): client and server handshakes over a `net.Socket`.
 *
 * @module
 */

import type { Socket } from "node:net";
import * as nodeTls from "node:tls";
import {
  connect as tlsConnect,
  type ConnectionOptions,
  createSecureContext,
  rootCertificates,
  type SecureContext,
  TLSSocket,
} from "node:tls";
import type { SocketAddress, TlsOptions } from "../abc/socket.ts";
import { isIPLiteral, unbracket } from "../_net/address.ts";
import type { StreamConn } from "../_net/driver.ts";
import { codedError } from "../_net/errors.ts";
import { eventSocketStream } from "../_net/push_connect.ts";
import { tlsSocketSession } from "../_net/tls_session.ts";
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
 * The roots a context trusts when given no `ca`: `tls.getCACertificates("default")`
 * where it exists (Node 22.15+: the bundled roots, `NODE_EXTRA_CA_CERTS`, and the
 * system's with `--use-system-ca`), else the bundled `tls.rootCertificates`.
 */
function defaultCaCertificates(): readonly string[] {
  const get = (nodeTls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  return typeof get === "function" ? get("default") : rootCertificates;
}

/**
 * A secure context trusting `caCerts` in addition to the default roots (Node's
 * `ca` option replaces them; `caCerts` adds to them, as on Deno). Built without
 * `ca`, the context shares Node's default store; adding a CA to it gives the
 * context its own copy of that store (the native `addCACert`, which Node's own
 * `ca` option uses), about 1 ms, where passing every root as `ca` parses them
 * all again (about 30 ms). Where the native call is missing, that is the way.
 *
 * @param options The certificate and key.
 * @param caCerts The CAs to add, if any.
 */
export function contextWithCaCerts(
  options: { cert?: string; key?: string },
  caCerts: readonly string[] | undefined,
): SecureContext {
  if (caCerts === undefined) return createSecureContext(options);
  const context = createSecureContext(options);
  const native = (context as { context?: { addCACert?: (pem: string) => void } }).context;
  if (typeof native?.addCACert !== "function") {
    return createSecureContext({ ...options, ca: [...defaultCaCertificates(), ...caCerts] });
  }
  for (const pem of caCerts) native.addCACert(pem);
  return context;
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
    context = contextWithCaCerts({ cert: tls.cert, key: tls.key }, tls.caCerts);
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
 * On Deno (2.9), a `node:tls` socket paused and resumed after data flowed never
 * sees its peer's close ('end'): there, once the handshake is done, `pause()`
 * does nothing, so the stream adapter's 256 KiB receive bound does not hold
 * (no byte is lost; more may be buffered) but the end of the stream arrives.
 */
function keepFlowingOnDeno(socket: TLSSocket): void {
  if ("Deno" in globalThis) socket.pause = () => socket;
}

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
      resolve({ ...eventSocketStream(socket), tls: tlsSocketSession(socket) });
      keepFlowingOnDeno(socket);
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
  // Bytes the plain stream read ahead (a ClientHello sent right after the STARTTLS
  // exchange): the TLS socket takes them from the plain socket's buffer itself.
  const readAhead = conn.readableLength > 0;
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
  // Node starts the server handshake when the TLS socket reads: let the plain socket
  // flow; unless bytes were read ahead, which start it (resuming would hand them to
  // the plain socket's readers, none, and the handshake would wait forever).
  if (!readAhead) conn.resume();
  try {
    return await handshake(secure, "secure", signal);
  } catch (error) {
    conn.destroy();
    throw error;
  }
}
