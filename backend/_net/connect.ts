/**
 * Client connections written once: check the arguments, resolve, order the
 * addresses (RFC 8305), race them (Happy Eyeballs), then TLS. The driver makes
 * one connection attempt at a time; everything else is here.
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
import type { TimerHost } from "../_core/timers.ts";
import { describe } from "../_util/validate.ts";
import { interleaveAddresses, resolveHost, sameFamily } from "./address.ts";
import type { NetDriver } from "./driver.ts";
import { checkpoint } from "./guard.ts";
import { happyEyeballs } from "./happy_eyeballs.ts";
import { StreamSocket } from "./stream_socket.ts";
import { handshakeTimeout, tlsStream } from "./tls.ts";
import { assertHost, assertPort, assertTlsOptions, checkConnectionOptions, optionsObject } from "./validate.ts";

/**
 * Opens a TCP connection to `host:port`: resolves every address, then races them
 * (RFC 8305), from `localAddress` when given (in its address family).
 */
async function openTcp<C>(
  driver: NetDriver<C>,
  timers: TimerHost,
  host: string,
  port: number,
  delay: number,
  localAddress: SocketAddress | undefined,
): Promise<C> {
  let addresses = interleaveAddresses(await resolveHost(driver, host));
  let local: SocketAddress | undefined;
  if (localAddress !== undefined) {
    const bind = (await resolveHost(driver, localAddress.hostname))[0];
    addresses = sameFamily(
      addresses,
      bind,
      `The 'localAddress' argument (${bind}) has no address family in common with ${host}`,
    );
    local = { hostname: bind, port: localAddress.port };
  }
  return await happyEyeballs<C>(addresses, {
    connect: (address, signal) => driver.connect(address, port, local, signal),
    close: (conn) => driver.close(conn),
    delay,
    target: `${host}:${port}`,
    timers,
  });
}

/** See `AsyncBackend.createTcpConnection`. */
export async function createTcpConnection<C>(
  driver: NetDriver<C>,
  timers: TimerHost,
  host: string,
  port: number,
  options?: TcpConnectionOptions,
): Promise<StreamSocket> {
  assertHost(host);
  assertPort(port);
  const { delay, localAddress } = checkConnectionOptions(options);
  return new StreamSocket(
    driver.stream(await openTcp(driver, timers, host, port, delay, localAddress)),
    driver.mapError,
  );
}

/** See `AsyncBackend.createSslOverTcpConnection`. */
export async function createSslOverTcpConnection<C>(
  driver: NetDriver<C>,
  timers: TimerHost,
  host: string,
  port: number,
  tls: TlsOptions,
  options?: TlsConnectionOptions,
): Promise<StreamSocket> {
  assertHost(host);
  assertPort(port);
  assertTlsOptions(tls);
  const opts = optionsObject(options);
  const { delay, localAddress } = checkConnectionOptions(opts);
  const serverHostname = opts.serverHostname ?? host;
  assertHost(serverHostname, "serverHostname");
  const ms = handshakeTimeout(opts);
  driver.checkClientTls(tls, localAddress, "createSslOverTcpConnection");
  const tcp = await openTcp(driver, timers, host, port, delay, localAddress);
  return await tlsStream(driver, timers, tcp, ms, (signal) => driver.startClientTls(tcp, tls, serverHostname, signal));
}

/**
 * The plain TCP connection to upgrade: `conn` itself, or the transport of a
 * plain stream adapter (left closed; with a push-model transport, bytes it
 * received but nobody consumed go back in front of the stream).
 */
function takeTcpConn<C>(driver: NetDriver<C>, conn: unknown): C {
  if (conn instanceof StreamSocket) {
    if (!driver.isPlainTcp(conn.socket())) {
      throw new TypeError("The 'conn' argument must be a plain TCP stream socket, not a TLS one");
    }
    return StreamSocket.detach(conn) as C;
  }
  return driver.tcpConn(conn);
}

/** See `AsyncBackend.wrapTcpClientSocket`. */
export async function wrapTcpClientSocket<C>(driver: NetDriver<C>, conn: unknown): Promise<StreamSocket> {
  const tcp = driver.tcpConn(conn);
  await checkpoint();
  return new StreamSocket(driver.stream(tcp), driver.mapError);
}

/** See `AsyncBackend.wrapSslOverTcpClientSocket`. */
export async function wrapSslOverTcpClientSocket<C>(
  driver: NetDriver<C>,
  timers: TimerHost,
  conn: unknown,
  tls: TlsOptions,
  options: TlsWrapOptions,
): Promise<StreamSocket> {
  assertTlsOptions(tls);
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`The 'options' argument must be an object with 'serverHostname', got ${describe(options)}`);
  }
  assertHost(options.serverHostname, "serverHostname");
  const ms = handshakeTimeout(options);
  driver.checkClientTls(tls, undefined, "wrapSslOverTcpClientSocket");
  const tcp = takeTcpConn(driver, conn);
  const serverHostname = options.serverHostname;
  return await tlsStream(driver, timers, tcp, ms, (signal) => driver.startClientTls(tcp, tls, serverHostname, signal));
}

/** See `AsyncBackend.wrapSslOverTcpServerSocket`. */
export async function wrapSslOverTcpServerSocket<C>(
  driver: NetDriver<C>,
  timers: TimerHost,
  conn: unknown,
  tls: TlsOptions,
  options?: { sslHandshakeTimeout?: number },
): Promise<StreamSocket> {
  assertTlsOptions(tls, true);
  const ms = handshakeTimeout(optionsObject(options));
  const tcp = takeTcpConn(driver, conn);
  return await tlsStream(driver, timers, tcp, ms, (signal) => driver.startServerTls(tcp, tls, signal));
}
