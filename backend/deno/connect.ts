/**
 * Deno client connections: TCP with Happy Eyeballs, TLS, and wrapping runtime sockets.
 *
 * @module
 */

import type {
  SocketAddress,
  TcpConnectionOptions,
  TlsConnectionOptions,
  TlsOptions,
  TlsWrapOptions,
} from "../abc/socket.ts";
import { suspend } from "../_core/checkpoint.ts";
import { happyEyeballs, interleaveAddresses, isIPv6 } from "../_net/happy_eyeballs.ts";
import { handshakeTimeoutError } from "../_net/errors.ts";
import {
  assertHost,
  assertPort,
  assertTlsOptions,
  checkConnectionOptions,
  checkTimeouts,
  optionsObject,
} from "../_net/validate.ts";
import { describe } from "../_util/validate.ts";
import { type ByteConn, denoError, resolveHost, unbracket } from "./net.ts";
import { DenoStreamSocket } from "./stream_socket.ts";
import { connectFromLocalAddress } from "./_node_compat.ts";

/**
 * Opens a TCP connection to `host:port`: resolves every address, then races them
 * (RFC 8305). With `localAddress`, binds it first (through `node:net`, since
 * `Deno.connect` cannot bind).
 */
async function openTcp(
  host: string,
  port: number,
  delay: number,
  localAddress: SocketAddress | undefined,
): Promise<ByteConn> {
  let addresses = interleaveAddresses(await resolveHost(host));
  if (localAddress !== undefined) {
    const local = (await resolveHost(localAddress.hostname))[0];
    addresses = addresses.filter((address) => isIPv6(address) === isIPv6(local));
    if (addresses.length === 0) {
      throw new RangeError(`The 'localAddress' argument (${local}) has no address family in common with ${host}`);
    }
    const bind = { hostname: local, port: localAddress.port };
    return await happyEyeballs<ByteConn>(addresses, {
      connect: (address, signal) => connectFromLocalAddress(address, port, bind, signal),
      close: (conn) => conn.close(),
      delay,
      target: `${host}:${port}`,
    });
  }
  return await happyEyeballs<ByteConn>(addresses, {
    connect: (address, signal) =>
      Deno.connect({ hostname: address, port, signal }).catch((error) => {
        throw denoError(error);
      }),
    close: (conn) => conn.close(),
    delay,
    target: `${host}:${port}`,
  });
}

/** Opens a TCP connection (see `AsyncBackend.createTcpConnection`). */
export async function createTcpConnection(
  host: string,
  port: number,
  options?: TcpConnectionOptions,
): Promise<DenoStreamSocket> {
  assertHost(host);
  assertPort(port);
  const { delay, localAddress } = checkConnectionOptions(options);
  return new DenoStreamSocket(await openTcp(host, port, delay, localAddress));
}

/**
 * Runs the TLS handshake of `conn`, bounded by `ms`; on failure, timeout or
 * cancellation the connection is closed.
 *
 * @param conn A TLS connection whose handshake has not run.
 * @param ms The bound, in ms.
 */
export function finishHandshake(conn: Deno.TlsConn, ms: number): Promise<void> {
  return suspend<void>((resolve, reject) => {
    let done = false;
    const abandon = () => {
      done = true;
      clearTimeout(timer);
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    };
    const timer = ms === Infinity ? undefined : setTimeout(() => {
      if (done) return;
      abandon();
      reject(handshakeTimeoutError(ms));
    }, ms);
    conn.handshake().then(() => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve();
    }, (error) => {
      if (done) return;
      abandon();
      reject(denoError(error));
    });
    return () => {
      if (!done) abandon();
    };
  });
}

/** Upgrades `tcp` to TLS as a client and finishes the handshake; `tcp` is closed on failure. */
async function startClientTls(
  tcp: Deno.TcpConn,
  tls: TlsOptions,
  serverHostname: string,
  handshakeTimeout: number,
): Promise<Deno.TlsConn> {
  let conn: Deno.TlsConn;
  try {
    conn = await Deno.startTls(tcp, {
      hostname: unbracket(serverHostname),
      caCerts: tls.caCerts,
      alpnProtocols: tls.alpnProtocols,
    });
  } catch (error) {
    try {
      tcp.close();
    } catch {
      // Already taken over or closed.
    }
    throw denoError(error);
  }
  await finishHandshake(conn, handshakeTimeout);
  return conn;
}

/** Opens a TLS connection over TCP (see `AsyncBackend.createSslOverTcpConnection`). */
export async function createSslOverTcpConnection(
  host: string,
  port: number,
  tls: TlsOptions,
  options?: TlsConnectionOptions,
): Promise<DenoStreamSocket> {
  assertHost(host);
  assertPort(port);
  assertTlsOptions(tls);
  const opts = optionsObject(options);
  const { delay, localAddress } = checkConnectionOptions(opts);
  const serverHostname = opts.serverHostname ?? host;
  assertHost(serverHostname, "serverHostname");
  const { handshake } = checkTimeouts(opts);
  if (tls.cert !== undefined) {
    throw new TypeError(
      "Client certificates ('tls.cert' and 'tls.key') are not supported by createSslOverTcpConnection on Deno: " +
        "Deno.startTls cannot present one",
    );
  }
  if (localAddress !== undefined) {
    throw new TypeError(
      "The 'localAddress' option is not supported with TLS on Deno: Deno.startTls needs a Deno.TcpConn",
    );
  }
  const tcp = await openTcp(host, port, delay, undefined) as Deno.TcpConn;
  const addresses = { local: tcp.localAddr, remote: tcp.remoteAddr };
  return new DenoStreamSocket(await startClientTls(tcp, tls, serverHostname, handshake), { addresses });
}

function isTcpConn(conn: unknown): conn is Deno.TcpConn {
  const candidate = conn as Partial<Deno.TcpConn> | null;
  return typeof candidate === "object" && candidate !== null && typeof candidate.read === "function" &&
    typeof candidate.closeWrite === "function" && candidate.remoteAddr?.transport === "tcp";
}

function assertTcpConn(conn: unknown): asserts conn is Deno.TcpConn {
  if (!isTcpConn(conn)) {
    throw new TypeError(`The 'conn' argument must be a connected Deno.TcpConn, got ${describe(conn)}`);
  }
}

/**
 * The `Deno.TcpConn` to upgrade: `conn` itself, or the connection of a plain
 * stream socket of this backend (which is left closed).
 *
 * @param conn A `Deno.TcpConn` or a `DenoStreamSocket` over one.
 */
export function takeTcpConn(conn: unknown): Deno.TcpConn {
  if (conn instanceof DenoStreamSocket) {
    const raw = conn.socket();
    if (!isTcpConn(raw) || (raw as { handshake?: unknown }).handshake !== undefined) {
      throw new TypeError("The 'conn' argument must be a plain TCP stream socket, not a TLS one");
    }
    return DenoStreamSocket.detach(conn) as Deno.TcpConn;
  }
  assertTcpConn(conn);
  return conn;
}

/** Takes ownership of a connected `Deno.TcpConn` (see `AsyncBackend.wrapTcpClientSocket`). */
export async function wrapTcpClientSocket(conn: unknown): Promise<DenoStreamSocket> {
  assertTcpConn(conn);
  return await suspend<DenoStreamSocket>((resolve) => resolve(new DenoStreamSocket(conn)));
}

/** Client STARTTLS on a connected `Deno.TcpConn` (see `AsyncBackend.wrapSslOverTcpClientSocket`). */
export async function wrapSslOverTcpClientSocket(
  conn: unknown,
  tls: TlsOptions,
  options: TlsWrapOptions,
): Promise<DenoStreamSocket> {
  assertTlsOptions(tls);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`The 'options' argument must be an object with 'serverHostname', got ${describe(options)}`);
  }
  assertHost(options.serverHostname, "serverHostname");
  const { handshake } = checkTimeouts(options);
  if (tls.cert !== undefined) {
    throw new TypeError("Client certificates are not supported by Deno.startTls");
  }
  const tcp = takeTcpConn(conn);
  const addresses = { local: tcp.localAddr, remote: tcp.remoteAddr };
  return new DenoStreamSocket(await startClientTls(tcp, tls, options.serverHostname, handshake), { addresses });
}
