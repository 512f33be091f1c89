/**
 * Node client connections: TCP with the shared Happy Eyeballs, TLS (`node:tls`),
 * and wrapping runtime sockets.
 *
 * @module
 */

import { connect as netConnect, Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions, TLSSocket } from "node:tls";
import type {
  SocketAddress,
  TcpConnectionOptions,
  TlsConnectionOptions,
  TlsOptions,
  TlsWrapOptions,
} from "../abc/socket.ts";
import { suspend } from "../_core/checkpoint.ts";
import { happyEyeballs, interleaveAddresses, isIPv6 } from "../_net/happy_eyeballs.ts";
import { codedError, handshakeTimeoutError } from "../_net/errors.ts";
import {
  assertHost,
  assertPort,
  assertTlsOptions,
  checkConnectionOptions,
  checkTimeouts,
  optionsObject,
} from "../_net/validate.ts";
import { checkpoint } from "../_net/guard.ts";
import { describe } from "../_util/validate.ts";
import { isIPLiteral, nodeError, resolveHost, unbracket } from "./net.ts";
import { NodeStreamSocket } from "./stream_socket.ts";

/** One connection attempt to an IP address, aborted by `signal`. */
function connectOne(address: string, port: number, local: SocketAddress | undefined, signal: AbortSignal) {
  return new Promise<Socket>((resolve, reject) => {
    const socket = netConnect({
      host: address,
      port,
      localAddress: local?.hostname,
      localPort: local?.port || undefined,
      // sendEof() closes our side only: the peer's end of stream must not close ours.
      allowHalfOpen: true,
      // The race is ours (happyEyeballs); Node must not run its own.
      autoSelectFamily: false,
    });
    socket.pause();
    const onAbort = () => {
      socket.destroy();
      reject(new DOMException("The connection attempt was aborted", "AbortError"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      signal.removeEventListener("abort", onAbort);
      socket.removeListener("error", onError);
      resolve(socket);
    });
    const onError = (error: Error) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(nodeError(error));
    };
    socket.once("error", onError);
  });
}

/**
 * Opens a TCP connection to `host:port`: resolves every address, then races them
 * (RFC 8305), from `localAddress` when given.
 */
async function openTcp(
  host: string,
  port: number,
  delay: number,
  localAddress: SocketAddress | undefined,
): Promise<Socket> {
  let addresses = interleaveAddresses(await resolveHost(host));
  let local: SocketAddress | undefined;
  if (localAddress !== undefined) {
    const bind = (await resolveHost(localAddress.hostname))[0];
    addresses = addresses.filter((address) => isIPv6(address) === isIPv6(bind));
    if (addresses.length === 0) {
      throw new RangeError(`The 'localAddress' argument (${bind}) has no address family in common with ${host}`);
    }
    local = { hostname: bind, port: localAddress.port };
  }
  return await happyEyeballs<Socket>(addresses, {
    connect: (address, signal) => connectOne(address, port, local, signal),
    close: (socket) => socket.destroy(),
    delay,
    target: `${host}:${port}`,
  });
}

/** Opens a TCP connection (see `AsyncBackend.createTcpConnection`). */
export async function createTcpConnection(
  host: string,
  port: number,
  options?: TcpConnectionOptions,
): Promise<NodeStreamSocket> {
  assertHost(host);
  assertPort(port);
  const { delay, localAddress } = checkConnectionOptions(options);
  return new NodeStreamSocket(await openTcp(host, port, delay, localAddress));
}

/**
 * Waits for a TLS socket's handshake (`event`: `"secureConnect"` for clients,
 * `"secure"` for servers), bounded by `ms`. On failure, timeout or cancellation
 * the socket is destroyed.
 *
 * @param socket The TLS socket, its handshake under way.
 * @param event The event that ends the handshake.
 * @param ms The bound, in ms.
 */
export function finishHandshake(socket: TLSSocket, event: "secureConnect" | "secure", ms: number): Promise<void> {
  return suspend<void>((resolve, reject) => {
    let done = false;
    const cleanup = () => {
      done = true;
      clearTimeout(timer);
      socket.removeListener(event, onSecure);
      socket.removeListener("error", onError);
      socket.removeListener("close", onClose);
      socket.removeListener("end", onClose);
    };
    const abandon = () => {
      cleanup();
      socket.destroy();
    };
    const onSecure = () => {
      if (done) return;
      cleanup();
      resolve();
    };
    const onError = (error: Error) => {
      if (done) return;
      abandon();
      reject(nodeError(error));
    };
    const timer = ms === Infinity ? undefined : setTimeout(() => {
      if (done) return;
      abandon();
      reject(handshakeTimeoutError(ms));
    }, ms);
    // A failed handshake may end or close the socket with no 'error' (a peer that hangs up).
    const onClose = () => {
      if (done) return;
      abandon();
      reject(codedError("The peer closed the connection during the TLS handshake", "ECONNRESET"));
    };
    socket.once(event, onSecure);
    socket.once("error", onError);
    socket.once("close", onClose);
    socket.once("end", onClose);
    return () => {
      if (!done) abandon();
    };
  });
}

/** `node:tls` options of a client, in Deno's words. */
export function clientTlsOptions(tls: TlsOptions, serverHostname: string): ConnectionOptions {
  const hostname = unbracket(serverHostname);
  return {
    host: hostname,
    // RFC 6066: no IP address as SNI; the certificate is still checked against it.
    servername: isIPLiteral(hostname) ? undefined : hostname,
    ca: tls.caCerts,
    cert: tls.cert,
    key: tls.key,
    ALPNProtocols: tls.alpnProtocols,
    rejectUnauthorized: true,
  };
}

/** Upgrades `tcp` to TLS as a client and finishes the handshake; `tcp` is destroyed on failure. */
async function startClientTls(
  tcp: Socket,
  tls: TlsOptions,
  serverHostname: string,
  handshakeTimeout: number,
): Promise<TLSSocket> {
  let socket: TLSSocket;
  try {
    await checkpoint();
    socket = tlsConnect({ ...clientTlsOptions(tls, serverHostname), socket: tcp });
  } catch (error) {
    tcp.destroy();
    throw nodeError(error);
  }
  socket.pause();
  await finishHandshake(socket, "secureConnect", handshakeTimeout);
  return socket;
}

/** Opens a TLS connection over TCP (see `AsyncBackend.createSslOverTcpConnection`). */
export async function createSslOverTcpConnection(
  host: string,
  port: number,
  tls: TlsOptions,
  options?: TlsConnectionOptions,
): Promise<NodeStreamSocket> {
  assertHost(host);
  assertPort(port);
  assertTlsOptions(tls);
  const opts = optionsObject(options);
  const { delay, localAddress } = checkConnectionOptions(opts);
  const serverHostname = opts.serverHostname ?? host;
  assertHost(serverHostname, "serverHostname");
  const { handshake } = checkTimeouts(opts);
  const tcp = await openTcp(host, port, delay, localAddress);
  return new NodeStreamSocket(await startClientTls(tcp, tls, serverHostname, handshake));
}

function isTcpSocket(conn: unknown): conn is Socket {
  return conn instanceof Socket && !(conn instanceof TLSSocket);
}

/**
 * The `net.Socket` to upgrade: `conn` itself, or the socket of a plain stream
 * socket of this backend (which is left closed; bytes it received but nobody
 * consumed go back in front of the socket's stream).
 *
 * @param conn A connected `net.Socket` or a `NodeStreamSocket` over one.
 */
export function takeTcpSocket(conn: unknown): Socket {
  if (conn instanceof NodeStreamSocket) {
    if (!isTcpSocket(conn.socket())) {
      throw new TypeError("The 'conn' argument must be a plain TCP stream socket, not a TLS one");
    }
    return NodeStreamSocket.detach(conn);
  }
  assertTcpSocket(conn);
  return conn;
}

function assertTcpSocket(conn: unknown): asserts conn is Socket {
  if (!isTcpSocket(conn) || conn.destroyed || conn.pending) {
    throw new TypeError(`The 'conn' argument must be a connected net.Socket, got ${describe(conn)}`);
  }
}

/** Takes ownership of a connected `net.Socket` (see `AsyncBackend.wrapTcpClientSocket`). */
export async function wrapTcpClientSocket(conn: unknown): Promise<NodeStreamSocket> {
  assertTcpSocket(conn);
  await checkpoint();
  return new NodeStreamSocket(conn);
}

/** Client STARTTLS on a connected `net.Socket` (see `AsyncBackend.wrapSslOverTcpClientSocket`). */
export async function wrapSslOverTcpClientSocket(
  conn: unknown,
  tls: TlsOptions,
  options: TlsWrapOptions,
): Promise<NodeStreamSocket> {
  assertTlsOptions(tls);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`The 'options' argument must be an object with 'serverHostname', got ${describe(options)}`);
  }
  assertHost(options.serverHostname, "serverHostname");
  const { handshake } = checkTimeouts(options);
  return new NodeStreamSocket(await startClientTls(takeTcpSocket(conn), tls, options.serverHostname, handshake));
}
