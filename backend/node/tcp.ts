/**
 * Node TCP: `net.connect`, `net.createServer`, and the sockets the driver hands
 * to the shared adapters.
 *
 * @module
 */

import { connect as netConnect, createServer, type Server, Socket } from "node:net";
import process from "node:process";
import { TLSSocket } from "node:tls";
import type { SocketAddress } from "../abc/socket.ts";
import { socketAddress } from "../_net/address.ts";
import type { ListenerConn } from "../_net/driver.ts";
import { codedError } from "../_net/errors.ts";
import { whenConnected } from "../_net/push_connect.ts";
import { socketErrorListener } from "../_net/push_stream.ts";
import { describe } from "../_util/validate.ts";
import { mapError } from "./dns.ts";

/** One connection attempt to an IP address, from `local` when given. */
export function connect(
  address: string,
  port: number,
  local: SocketAddress | undefined,
  signal: AbortSignal,
): Promise<Socket> {
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
  return whenConnected(socket, signal, mapError);
}

/** Destroys a socket. */
export function close(socket: Socket): void {
  socket.destroy();
}

/** The peer's address. */
export function remoteAddress(socket: Socket): SocketAddress {
  return socketAddress(socket.remoteAddress, socket.remotePort);
}

/** `true` for a plain (not TLS) `net.Socket`. */
export function isPlainTcp(value: unknown): value is Socket {
  return value instanceof Socket && !(value instanceof TLSSocket);
}

/** `value` as a connected `net.Socket`. */
export function tcpConn(value: unknown): Socket {
  if (!isPlainTcp(value) || value.destroyed || value.pending) {
    throw new TypeError(`The 'conn' argument must be a connected net.Socket, got ${describe(value)}`);
  }
  return value;
}

/** `listen({ reusePort })` came with Node 22.12 and 23.1. */
function reusePortSupported(): boolean {
  const [major, minor] = process.versions.node.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12) || "deno" in process.versions;
}

/** Binds a TCP server; connections arrive paused. */
export function listen(
  hostname: string,
  port: number,
  backlog: number,
  reusePort: boolean,
): Promise<ListenerConn<Socket>> {
  if (reusePort && !reusePortSupported()) {
    const version = process.versions.node;
    return Promise.reject(
      codedError(`The 'reusePort' option needs Node 22.12 or later (this is Node ${version})`, "ENOTSUP"),
    );
  }
  return new Promise<ListenerConn<Socket>>((resolve, reject) => {
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true });
    server.once("error", (error) => {
      server.close();
      reject(mapError(error));
    });
    const options = { host: hostname, port, backlog, exclusive: true, ...(reusePort ? { reusePort } : {}) };
    server.listen(options, () => {
      server.removeAllListeners("error");
      server.on("error", () => {});
      resolve(serverConn(server));
    });
  });
}

function serverConn(server: Server): ListenerConn<Socket> {
  const address = server.address();
  return {
    kind: "push",
    subscribe: (onConnection) => {
      server.on("connection", (socket: Socket) => {
        // An error before accept() (a reset) must not crash the process; connect() reports later ones.
        // One function for every socket, the one its adapter listens with (one listener, not two).
        socket.on("error", socketErrorListener);
        onConnection(socket);
      });
    },
    close: () => void server.close(),
    raw: server,
    local: typeof address === "object" && address !== null
      ? socketAddress(address.address, address.port)
      : socketAddress(undefined, undefined),
  };
}

let ipv6: Promise<boolean> | undefined;

/** `"::"` when IPv6 works (dual-stack: IPV6_V6ONLY is off), else `"0.0.0.0"`. */
export async function anyAddress(): Promise<string> {
  ipv6 ??= new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host: "::1", port: 0 }, () => server.close(() => resolve(true)));
  });
  return (await ipv6) ? "::" : "0.0.0.0";
}
