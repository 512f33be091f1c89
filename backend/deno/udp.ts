/**
 * The Deno UDP adapter (`Deno.listenDatagram`, which needs `--unstable-net`).
 *
 * @module
 */

import { AsyncDatagramSocketAdapter, type SocketAddress, type UdpEndpointOptions } from "../abc/socket.ts";
import { suspend } from "../_core/checkpoint.ts";
import { isIPv6 } from "../_net/happy_eyeballs.ts";
import { PullOperation } from "../_net/pull.ts";
import { codedError } from "../_net/errors.ts";
import { assertBufsize, assertBytes, assertSocketAddress, optionsObject } from "../_net/validate.ts";
import { checkpoint, ResourceGuard } from "../_net/guard.ts";
import { describe } from "../_util/validate.ts";
import { addressKey, denoError, requireUnstableNet, resolveHost, toSocketAddress, unbracket } from "./net.ts";

type Datagram = [Uint8Array, Deno.Addr];

/**
 * A UDP endpoint over a `Deno.DatagramConn`. With a remote address it only sends
 * to that peer and drops datagrams from any other (Deno has no UDP `connect`).
 */
export class DenoDatagramSocket extends AsyncDatagramSocketAdapter {
  #conn: Deno.DatagramConn;
  #remote: SocketAddress | null;
  #remoteKey: string | null;
  #state = new ResourceGuard("socket");
  /** The waiting `recvfrom`'s size. */
  #bufsize = 0;
  #receiving = new PullOperation<Datagram, [Uint8Array, SocketAddress]>({
    start: () => this.#receive(),
    deliver: (
      [data, addr],
    ) => [data.length > this.#bufsize ? data.subarray(0, this.#bufsize) : data, toSocketAddress(addr)],
  });
  #local: SocketAddress;

  /**
   * @param conn The datagram socket, owned from now on.
   * @param remote The only peer (an IP address), or `null`.
   */
  constructor(conn: Deno.DatagramConn, remote: SocketAddress | null = null) {
    super();
    this.#conn = conn;
    this.#remote = remote === null ? null : { hostname: remote.hostname, port: remote.port };
    this.#remoteKey = remote === null ? null : addressKey(remote);
    this.#local = toSocketAddress(conn.addr);
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

  /** The `Deno.DatagramConn`. */
  socket(): unknown {
    return this.#conn;
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
    return this.#receiving.wait(this.#state.releaseRecv);
  }

  /** Sends one datagram to `address`, or to the peer when `null`. */
  async sendto(data: Uint8Array, address: SocketAddress | null): Promise<void> {
    assertBytes(data);
    if (address !== null) assertSocketAddress(address, "address");
    let target: SocketAddress;
    if (this.#remote !== null) {
      if (address !== null && addressKey(address) !== this.#remoteKey) {
        throw codedError(
          `This endpoint is connected to ${this.#remote.hostname}:${this.#remote.port} and cannot send to ` +
            `${address.hostname}:${address.port}`,
          "EISCONN",
        );
      }
      target = this.#remote;
    } else if (address === null) {
      throw new TypeError(`The 'address' argument is required on an unconnected endpoint, got ${describe(address)}`);
    } else {
      target = address;
    }
    this.#state.acquire("send");
    try {
      await suspend<number>((resolve, reject) => {
        const unregister = this.#state.onClose(reject);
        this.#conn.send(data, { transport: "udp", hostname: unbracket(target.hostname), port: target.port }).then(
          (n) => {
            unregister();
            resolve(n);
          },
          (error) => {
            unregister();
            reject(this.#state.closing ? this.#state.closedError() : denoError(error));
          },
        );
        return unregister;
      });
    } finally {
      this.#state.release("send");
    }
  }

  /** Closes the socket, waking pending calls with `ClosedResourceError`. Idempotent. */
  aclose(): Promise<void> {
    if (this.#state.close()) {
      this.#receiving.close(this.#state.closedError());
      try {
        this.#conn.close();
      } catch {
        // Already closed.
      }
    }
    return Promise.resolve();
  }

  async #receive(): Promise<Datagram> {
    for (;;) {
      let datagram: Datagram;
      try {
        datagram = await this.#conn.receive();
      } catch (error) {
        throw this.#state.closing ? this.#state.closedError() : denoError(error);
      }
      if (this.#remoteKey === null || addressKey(toSocketAddress(datagram[1])) === this.#remoteKey) return datagram;
    }
  }
}

function assertDatagramConn(sock: unknown): asserts sock is Deno.DatagramConn {
  const candidate = sock as Partial<Deno.DatagramConn> | null;
  if (
    typeof candidate !== "object" || candidate === null || typeof candidate.receive !== "function" ||
    typeof candidate.send !== "function" || candidate.addr?.transport !== "udp"
  ) {
    throw new TypeError(`The 'sock' argument must be a UDP Deno.DatagramConn, got ${describe(sock)}`);
  }
}

/** Opens a UDP endpoint (see `AsyncBackend.createUdpEndpoint`). */
export async function createUdpEndpoint(options?: UdpEndpointOptions): Promise<DenoDatagramSocket> {
  requireUnstableNet("createUdpEndpoint");
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
  await checkpoint();
  let conn: Deno.DatagramConn;
  try {
    conn = Deno.listenDatagram({
      transport: "udp",
      hostname: localHost,
      port: opts.localAddress?.port ?? 0,
      reuseAddress: opts.reusePort ?? false,
    });
  } catch (error) {
    throw denoError(error);
  }
  return new DenoDatagramSocket(conn, remote);
}

/** Takes ownership of a UDP `Deno.DatagramConn` (see `AsyncBackend.wrapUdpSocket`). */
export async function wrapUdpSocket(sock: unknown): Promise<DenoDatagramSocket> {
  requireUnstableNet("wrapUdpSocket");
  assertDatagramConn(sock);
  await checkpoint();
  return new DenoDatagramSocket(sock);
}
