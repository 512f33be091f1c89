/**
 * The UDP adapter and `createUdpEndpoint`, written once over a runtime socket
 * that receives on demand (Deno's `receive()`) or as datagrams come (Node's
 * `'message'` events). With a remote address the endpoint only sends to that
 * peer and only takes datagrams from it (filtered here too, since not every
 * runtime connects UDP sockets).
 *
 * @module
 */

import { AsyncDatagramSocketAdapter, type SocketAddress, type UdpEndpointOptions } from "../abc/socket.ts";
import { suspend } from "../_core/checkpoint.ts";
import { Fifo } from "../_util/fifo.ts";
import { describe } from "../_util/validate.ts";
import { addressKey, resolveHost, sameFamily, wildcardOf } from "./address.ts";
import type { Datagram, DatagramConn, NetDriver } from "./driver.ts";
import { codedError } from "./errors.ts";
import { checkpoint, describeAddress, ResourceGuard } from "./guard.ts";
import { PullOperation } from "./pull.ts";
import { PushQueue } from "./push.ts";
import { assertBufsize, assertBytes, assertSocketAddress, booleanOption, optionsObject } from "./validate.ts";

/** Datagrams a push-model socket holds before new ones are dropped (UDP may drop; memory stays bounded). */
export const DATAGRAM_BOUND = 1024;

/** A UDP endpoint. A cancelled `recvfrom` loses no datagram. */
export class DatagramSocket extends AsyncDatagramSocketAdapter {
  #conn: DatagramConn;
  #mapError: (error: unknown) => unknown;
  #remote: SocketAddress | null;
  #remoteKey: string | null;
  #state = new ResourceGuard(
    "socket",
    () => `datagram socket ${describeAddress(() => this.getLocalAddress())}`,
  );
  /** The waiting `recvfrom`'s size. */
  #bufsize = 0;
  /** Pull model: the runtime receive, outliving a cancelled call. */
  #receiving: PullOperation<Datagram, Datagram> | null = null;
  /** Push model: datagrams that came, and a socket error, waiting for a call. */
  #queue: Fifo<Datagram> = new Fifo();
  #error: unknown = null;
  #receiver: PushQueue<Datagram> | null = null;

  /**
   * @param conn The runtime socket, owned from now on.
   * @param mapError Gives a runtime error its POSIX `code`.
   * @param remote The only peer (an IP address), default the socket's.
   */
  constructor(conn: DatagramConn, mapError: (error: unknown) => unknown, remote = conn.remote) {
    super();
    this.#conn = conn;
    this.#mapError = mapError;
    this.#remote = remote === null ? null : { hostname: remote.hostname, port: remote.port };
    const key = this.#remoteKey = remote === null ? null : addressKey(remote);
    if (conn.kind === "pull") {
      this.#receiving = new PullOperation<Datagram, Datagram>({
        start: async () => {
          for (;;) {
            const datagram = await conn.receive();
            if (key === null || addressKey(datagram[1]) === key) return datagram;
          }
        },
        deliver: ([data, sender]) => [this.#truncate(data), sender],
        mapError: (error) => this.#state.closing ? this.#state.closedError() : mapError(error),
      });
    } else {
      const receiver = this.#receiver = new PushQueue<Datagram>(() => this.#tryRecv());
      conn.subscribe((datagram) => {
        if (this.#queue.size >= DATAGRAM_BOUND) return;
        if (key !== null && addressKey(datagram[1]) !== key) return;
        this.#queue.push(datagram);
        receiver.wake();
      }, (error) => {
        this.#error = mapError(error);
        receiver.wake();
      });
    }
  }

  /** `true` once `aclose()` was called. */
  isClosing(): boolean {
    return this.#state.closing;
  }

  /** The bound address. */
  getLocalAddress(): SocketAddress {
    return { ...this.#conn.local };
  }

  /** The peer, or `null` when unconnected. */
  getRemoteAddress(): SocketAddress | null {
    return this.#remote === null ? null : { ...this.#remote };
  }

  /** The runtime socket (Deno's `DatagramConn`, Node's `dgram.Socket`). */
  socket(): unknown {
    return this.#conn.raw;
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
    return this.#receiving !== null
      ? this.#receiving.wait(this.#state.releaseRecv)
      : this.#receiver!.receive(this.#state.releaseRecv);
  }

  #truncate(data: Uint8Array): Uint8Array {
    return data.length > this.#bufsize ? data.subarray(0, this.#bufsize) : data;
  }

  /** Settles the waiting `recvfrom` with the next queued datagram, or a socket error. */
  #tryRecv(): void {
    const receiver = this.#receiver!;
    const datagram = this.#queue.shift();
    if (datagram !== undefined) {
      receiver.resolve([this.#truncate(datagram[0]), datagram[1]]);
    } else if (this.#error !== null) {
      const error = this.#error;
      this.#error = null;
      receiver.reject(error);
    }
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
      await this.#state.wait<void>((call) => {
        try {
          this.#conn.send(data, target, (error) => {
            if (this.#state.closing) call.fail(this.#state.closedError());
            else if (error) call.fail(this.#mapError(error));
            else call.wake();
          });
        } catch (error) {
          call.fail(this.#mapError(error));
        }
      });
    } finally {
      this.#state.release("send");
    }
  }

  /** Closes the socket, waking pending calls with `ClosedResourceError`. Idempotent. */
  aclose(): Promise<void> {
    if (this.#state.close()) {
      const error = this.#state.closedError();
      this.#receiving?.close(error);
      this.#queue.clear();
      this.#receiver?.reject(error);
      try {
        this.#conn.close();
      } catch {
        // Already closed.
      }
    }
    return Promise.resolve();
  }
}

/** See `AsyncBackend.createUdpEndpoint`. */
export async function createUdpEndpoint(driver: NetDriver, options?: UdpEndpointOptions): Promise<DatagramSocket> {
  driver.requireUdp("createUdpEndpoint");
  const opts = optionsObject(options);
  if (opts.localAddress !== undefined) assertSocketAddress(opts.localAddress, "localAddress");
  if (opts.remoteAddress !== undefined) assertSocketAddress(opts.remoteAddress, "remoteAddress");
  const reusePort = booleanOption(opts.reusePort, "reusePort");
  let remote: SocketAddress | null = null;
  let localHost: string | undefined;
  if (opts.localAddress !== undefined) localHost = (await resolveHost(driver, opts.localAddress.hostname))[0];
  if (opts.remoteAddress !== undefined) {
    const candidates = sameFamily(
      await resolveHost(driver, opts.remoteAddress.hostname),
      localHost,
      "The 'localAddress' and 'remoteAddress' arguments have no address family in common",
    );
    remote = { hostname: candidates[0], port: opts.remoteAddress.port };
  }
  const local = { hostname: localHost ?? wildcardOf(remote?.hostname), port: opts.localAddress?.port ?? 0 };
  const conn = await suspend<DatagramConn>((resolve, reject) => {
    let cancelled = false;
    driver.openUdp(local, remote, reusePort).then((conn) => {
      if (cancelled) conn.close();
      else resolve(conn);
    }, (error) => reject(driver.mapError(error)));
    return () => void (cancelled = true);
  }, "connect");
  return new DatagramSocket(conn, driver.mapError, remote);
}

/** See `AsyncBackend.wrapUdpSocket`. */
export async function wrapUdpSocket(driver: NetDriver, sock: unknown): Promise<DatagramSocket> {
  driver.requireUdp("wrapUdpSocket");
  const conn = driver.wrapUdp(sock);
  await checkpoint();
  return new DatagramSocket(conn, driver.mapError);
}
