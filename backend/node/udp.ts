/**
 * Node UDP (`node:dgram`; a socket with a remote address is connected, so the
 * kernel sends only to that peer and drops datagrams from any other).
 *
 * @module
 */

import { createSocket, type RemoteInfo, type Socket as DgramSocket } from "node:dgram";
import type { SocketAddress } from "../abc/socket.ts";
import { isIPv6, socketAddress, unbracket } from "../_net/address.ts";
import type { DatagramConn } from "../_net/driver.ts";
import { describe } from "../_util/validate.ts";
import { mapError } from "./dns.ts";

/** UDP is always there on Node. */
export function requireUdp(_method: string): void {}

function datagramConn(socket: DgramSocket): DatagramConn {
  const local = socket.address();
  let remote: SocketAddress | null = null;
  try {
    const peer = socket.remoteAddress();
    remote = socketAddress(peer.address, peer.port);
  } catch {
    // Not connected.
  }
  const connected = remote !== null;
  return {
    kind: "push",
    subscribe: (onMessage, onError) => {
      socket.on("message", (message: Uint8Array, info: RemoteInfo) => {
        onMessage([message, socketAddress(info.address, info.port)]);
      });
      socket.on("error", onError);
    },
    send: (data, target, done) => {
      // A cancelled send goes on without its caller, who may reuse the buffer: send a copy.
      const copy = data.slice();
      if (connected) socket.send(copy, done);
      else socket.send(copy, target.port, unbracket(target.hostname), done);
    },
    close: () => socket.close(),
    raw: socket,
    local: socketAddress(local.address, local.port),
    remote,
  };
}

/** Binds a UDP socket to `local`, connected to `remote` when given. */
export function openUdp(local: SocketAddress, remote: SocketAddress | null, reusePort: boolean): Promise<DatagramConn> {
  return new Promise<DatagramConn>((resolve, reject) => {
    const socket = createSocket({ type: isIPv6(local.hostname) ? "udp6" : "udp4", reuseAddr: reusePort });
    const fail = (error: unknown) => {
      try {
        socket.close();
      } catch {
        // Never bound.
      }
      reject(mapError(error));
    };
    socket.once("error", fail);
    socket.bind({ address: local.hostname, port: local.port, exclusive: true }, () => {
      if (remote === null) {
        socket.removeListener("error", fail);
        resolve(datagramConn(socket));
        return;
      }
      socket.connect(remote.port, remote.hostname, (error?: Error) => {
        socket.removeListener("error", fail);
        if (error) fail(error);
        else resolve(datagramConn(socket));
      });
    });
  });
}

/** `value` as a bound `dgram.Socket`. */
export function wrapUdp(value: unknown): DatagramConn {
  let bound = false;
  try {
    bound = typeof (value as DgramSocket).address === "function" && (value as DgramSocket).address().port > 0;
  } catch {
    bound = false;
  }
  if (!bound || typeof (value as DgramSocket).send !== "function") {
    throw new TypeError(`The 'sock' argument must be a bound dgram.Socket, got ${describe(value)}`);
  }
  return datagramConn(value as DgramSocket);
}
