/**
 * The Node UDP adapter (`node:dgram`, connected sockets for a remote address).
 *
 * @module
 */

import { createSocket, type RemoteInfo, type Socket as DgramSocket } from "node:dgram";
import { AsyncDatagramSocketAdapter, type SocketAddress, type UdpEndpointOptions } from "../abc/socket.ts";
import { suspend } from "../_core/checkpoint.ts";
import { PushQueue } from "../_net/push.ts";
import { isIPv6 } from "../_net/happy_eyeballs.ts";
import { codedError } from "../_net/errors.ts";
import { assertBufsize, assertBytes, assertSocketAddress, optionsObject } from "../_net/validate.ts";
import { checkpoint, ResourceGuard } from "../_net/guard.ts";
import { describe } from "../_util/validate.ts";
import { addressKey, nodeError, resolveHost, toSocketAddress, unbracket } from "./net.ts";

/** Datagrams held before new ones are dropped (UDP may drop; memory stays bounded). */
export const DATAGRAM_BOUND = 1024;

type Datagram = [Uint8Array, SocketAddress];

/**
 * A UDP endpoint over a `dgram.Socket`. With a remote address the socket is
 * connected (`connect(2)`): the kernel sends only to that peer and drops
 * datagrams from any other.
 */
export class NodeDatagramSocket extends AsyncDatagramSocketAdapter {
  #socket: DgramSocket;
  #remote: SocketAddress | null;
  #remoteKey: string | null;
  #state = new ResourceGuard("socket");
  #queue: Datagram[] = [];
  #head = 0;
  #error: unknown = null;
  /** The waiting `recvfrom`'s size. */
  #bufsize = 0;
  #receiver = new PushQueue<Datagram>(() => this.#tryRecv());
  #local: SocketAddress;

  /**
   * @param socket A bound (and maybe connected) socket, owned from now on.
   */
  constructor(socket: DgramSocket) {
    super();
    this.#socket = socket;
    const local = socket.address();
    this.#local = toSocketAddress(local.address, local.port);
    let remote: SocketAddress | null = null;
    try {
      const peer = socket.remoteAddress();
      remote = toSocketAddress(peer.address, peer.port);
    } catch {
      // Not connected.
    }
    this.#remote = remote;
    this.#remoteKey = remote === null ? null : addressKey(remote);
    socket.on("message", (message: Uint8Array, info: RemoteInfo) => {
      if (this.#queue.length - this.#head >= DATAGRAM_BOUND) return;
      const sender = toSocketAddress(info.address, info.port);
      // The kernel filters a connected socket's datagrams; Deno's node:dgram does not, so check here too.
      if (this.#remoteKey !== null && addressKey(sender) !== this.#remoteKey) return;
      this.#queue.push([message, sender]);
      this.#receiver.wake();
    });
    socket.on("error", (error: unknown) => {
      this.#error = nodeError(error);
      this.#receiver.wake();
    });
  }

  /** `true` once `aclose()` was called. */
  isClosing(): boolean {
    return this.#state.closing;
  }

  /** The bound address. */
  getLocalAddress(): SocketAddress {
    return { ...this.#local };
  }

  /** The peer, or `null` when unconnected. */
  getRemoteAddress(): SocketAddress | null {
    return this.#remote === null ? null : { ...this.#remote };
  }

  /** The `dgram.Socket`. */
  socket(): unknown {
    return this.#socket;
  }

  /** Receives one datagram, truncated to `bufsize` bytes, and its sender. */
  recvfrom(bufsize: number): Promise<[Uint8Array, SocketAddress]> {
    try {
      assertBufsize(bufsize);
      this.#state.acquire("recv");
    } catch (error) {
      return Promise.reject(error);
    }
    this.#bufsize = bufsize;
    return this.#receiver.receive(this.#state.releaseRecv);
  }

  /** Settles the waiting `recvfrom` with the next queued datagram, or a socket error. */
  #tryRecv(): void {
    if (this.#head < this.#queue.length) {
      const [data, sender] = this.#queue[this.#head++];
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      }
      this.#receiver.resolve([data.length > this.#bufsize ? data.subarray(0, this.#bufsize) : data, sender]);
    } else if (this.#error !== null) {
      const error = this.#error;
      this.#error = null;
      this.#receiver.reject(error);
    }
  }

  /** Sends one datagram to `address`, or to the peer when `null`. */
  async sendto(data: Uint8Array, address: SocketAddress | null): Promise<void> {
    assertBytes(data);
    if (address !== null) assertSocketAddress(address, "address");
    let target: SocketAddress | null = null;
    if (this.#remote !== null) {
      if (address !== null && addressKey(address) !== this.#remoteKey) {
        throw codedError(
          `This endpoint is connected to ${this.#remote.hostname}:${this.#remote.port} and cannot send to ` +
            `${address.hostname}:${address.port}`,
          "EISCONN",
        );
      }
    } else if (address === null) {
      throw new TypeError(`The 'address' argument is required on an unconnected endpoint, got ${describe(address)}`);
    } else {
      target = address;
    }
    this.#state.acquire("send");
    try {
      await suspend<void>((resolve, reject) => {
        const unregister = this.#state.onClose(reject);
        const done = (error: Error | null) => {
          unregister();
          if (this.#state.closing) reject(this.#state.closedError());
          else if (error) reject(nodeError(error));
          else resolve();
        };
        // A cancelled send goes on without its caller, who may reuse the buffer: send a copy.
        const copy = data.slice();
        try {
          if (target === null) this.#socket.send(copy, done);
          else this.#socket.send(copy, target.port, unbracket(target.hostname), done);
        } catch (error) {
          unregister();
          reject(nodeError(error));
        }
        return unregister;
      });
    } finally {
      this.#state.release("send");
    }
  }

  /** Closes the socket, waking pending calls with `ClosedResourceError`. Idempotent. */
  aclose(): Promise<void> {
    if (this.#state.close()) {
      this.#queue = [];
      this.#head = 0;
      this.#receiver.reject(this.#state.closedError());
      try {
        this.#socket.close();
      } catch {
        // Already closed.
      }
    }
    return Promise.resolve();
  }
}

function openSocket(
  family: "udp4" | "udp6",
  local: SocketAddress,
  remote: SocketAddress | null,
  reusePort: boolean,
): Promise<DgramSocket> {
  return new Promise<DgramSocket>((resolve, reject) => {
    const socket = createSocket({ type: family, reuseAddr: reusePort });
    const fail = (error: unknown) => {
      try {
        socket.close();
      } catch {
        // Never bound.
      }
      reject(nodeError(error));
    };
    socket.once("error", fail);
    socket.bind({ address: local.hostname, port: local.port, exclusive: true }, () => {
      if (remote === null) {
        socket.removeListener("error", fail);
        resolve(socket);
        return;
      }
      socket.connect(remote.port, remote.hostname, (error?: Error) => {
        socket.removeListener("error", fail);
        if (error) fail(error);
        else resolve(socket);
      });
    });
  });
}

/** Opens a UDP endpoint (see `AsyncBackend.createUdpEndpoint`). */
export async function createUdpEndpoint(options?: UdpEndpointOptions): Promise<NodeDatagramSocket> {
  const opts = optionsObject(options);
  if (opts.localAddress !== undefined) assertSocketAddress(opts.localAddress, "localAddress");
  if (opts.remoteAddress !== undefined) assertSocketAddress(opts.remoteAddress, "remoteAddress");
  let remote: SocketAddress | null = null;
  let localHost: string | undefined;
  if (opts.localAddress !== undefined) localHost = (await resolveHost(opts.localAddress.hostname))[0];
  if (opts.remoteAddress !== undefined) {
    const candidates = await resolveHost(opts.remoteAddress.hostname);
    const sameFamily = localHost === undefined
      ? candidates
      : candidates.filter((address) => isIPv6(address) === isIPv6(localHost!));
    if (sameFamily.length === 0) {
      throw new RangeError("The 'localAddress' and 'remoteAddress' arguments have no address family in common");
    }
    remote = { hostname: sameFamily[0], port: opts.remoteAddress.port };
  }
  localHost ??= remote !== null && isIPv6(remote.hostname) ? "::" : "0.0.0.0";
  const family = isIPv6(localHost) ? "udp6" : "udp4";
  const local = { hostname: localHost, port: opts.localAddress?.port ?? 0 };
  const socket = await suspend<DgramSocket>((resolve, reject) => {
    let cancelled = false;
    openSocket(family, local, remote, opts.reusePort ?? false).then((socket) => {
      if (cancelled) socket.close();
      else resolve(socket);
    }, reject);
    return () => void (cancelled = true);
  });
  return new NodeDatagramSocket(socket);
}

function assertBoundDgramSocket(sock: unknown): asserts sock is DgramSocket {
  let bound = false;
  try {
    bound = typeof (sock as DgramSocket).address === "function" && (sock as DgramSocket).address().port > 0;
  } catch {
    bound = false;
  }
  if (!bound || typeof (sock as DgramSocket).send !== "function") {
    throw new TypeError(`The 'sock' argument must be a bound dgram.Socket, got ${describe(sock)}`);
  }
}

/** Takes ownership of a bound `dgram.Socket` (see `AsyncBackend.wrapUdpSocket`). */
export async function wrapUdpSocket(sock: unknown): Promise<NodeDatagramSocket> {
  assertBoundDgramSocket(sock);
  await checkpoint();
  return new NodeDatagramSocket(sock);
}
