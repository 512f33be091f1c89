/**
 * Deno's `node:` fallbacks, for the two cases Deno's own API cannot do: binding
 * a local address before connecting (`node:net`), and the server side of a TLS
 * upgrade on an established connection (server STARTTLS, `node:tls`). The
 * sockets they make are push-model, so the shared stream adapter drives them as
 * it drives the Node backend's.
 *
 * @module
 */

import { connect as netConnect, type Socket as NetSocket } from "node:net";
import { TLSSocket } from "node:tls";
import { Duplex } from "node:stream";
import type { SocketAddress, TlsOptions } from "../abc/socket.ts";
import { socketAddress } from "../_net/address.ts";
import type { EventSocket, StreamConn } from "../_net/driver.ts";
import { withPosixCode } from "../_net/errors.ts";
import { whenConnected } from "../_net/push_connect.ts";
import { tlsSocketSession } from "../_net/tls_session.ts";

/**
 * Connects to `address:port` from the local address `bind` (an IP literal).
 *
 * @param address The peer's IP address.
 * @param port The peer's port.
 * @param bind The local address to bind.
 * @param signal Aborts the attempt.
 */
export function connectFromLocalAddress(
  address: string,
  port: number,
  bind: SocketAddress,
  signal: AbortSignal,
): Promise<EventSocket> {
  const socket = netConnect({
    host: address,
    port,
    localAddress: bind.hostname,
    localPort: bind.port || undefined,
    allowHalfOpen: true,
  });
  return whenConnected(socket, signal, withPosixCode);
}

/** A Node duplex stream over a Deno TCP connection, to hand to `node:tls`. */
function duplexOverDenoConn(conn: Deno.TcpConn): Duplex {
  let reading = false;
  const duplex = new Duplex({
    read() {
      if (reading) return;
      reading = true;
      const buffer = new Uint8Array(64 * 1024);
      conn.read(buffer).then((n) => {
        reading = false;
        if (n === null) duplex.push(null);
        else if (duplex.push(buffer.subarray(0, n))) duplex._read(0);
      }, (error) => {
        reading = false;
        duplex.destroy(withPosixCode(error));
      });
    },
    write(chunk: Uint8Array, _encoding, callback) {
      (async () => {
        let offset = 0;
        while (offset < chunk.length) offset += await conn.write(chunk.subarray(offset));
      })().then(() => callback(), (error) => callback(withPosixCode(error)));
    },
    final(callback) {
      conn.closeWrite().then(() => callback(), () => callback());
    },
    destroy(error, callback) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
      callback(error);
    },
  });
  return duplex;
}

/**
 * Runs the server side of a TLS upgrade on an established `Deno.TcpConn`
 * (server STARTTLS). Takes ownership of `conn`; on failure or abort,
 * everything is closed.
 *
 * @param conn The accepted plain connection.
 * @param tls The server's certificate and key (and ALPN protocols).
 * @param signal Aborts the handshake.
 */
export function startServerTls(conn: Deno.TcpConn, tls: TlsOptions, signal: AbortSignal): Promise<StreamConn> {
  return new Promise<StreamConn>((resolve, reject) => {
    const local = conn.localAddr as Deno.NetAddr;
    const remote = conn.remoteAddr as Deno.NetAddr;
    const transport = duplexOverDenoConn(conn);
    const socket = new TLSSocket(transport as unknown as NetSocket, {
      isServer: true,
      cert: tls.cert,
      key: tls.key,
      ca: tls.caCerts,
      ALPNProtocols: tls.alpnProtocols,
    });
    let done = false;
    const fail = (error: unknown) => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      transport.destroy();
      reject(error);
    };
    const onAbort = () => fail(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("secure", () => {
      if (done) return;
      done = true;
      signal.removeEventListener("abort", onAbort);
      socket.removeListener("error", onError);
      resolve({
        kind: "push",
        socket,
        local: socketAddress(local.hostname, local.port),
        remote: socketAddress(remote.hostname, remote.port),
        tls: tlsSocketSession(socket),
      });
    });
    const onError = (error: Error) => fail(withPosixCode(error));
    socket.once("error", onError);
  });
}
