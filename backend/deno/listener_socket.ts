/**
 * Deno TCP and TLS listeners.
 *
 * @module
 */

import {
  AcceptedSocket,
  AsyncListenerSocketAdapter,
  type AsyncStreamSocketAdapter,
  type SocketAddress,
  type TcpListenerOptions,
  type TlsListenerOptions,
  type TlsOptions,
} from "../abc/socket.ts";
import { suspend } from "../_core/checkpoint.ts";
import { PullOperation } from "../_net/pull.ts";
import {
  assertBacklog,
  assertPort,
  assertTlsOptions,
  checkTimeouts,
  listenHosts,
  optionsObject,
} from "../_net/validate.ts";
import { checkpoint, ResourceGuard } from "../_net/guard.ts";
import { ClosedResourceError } from "../errors.ts";
import { finishHandshake } from "./connect.ts";
import { denoError, resolveHost, toSocketAddress } from "./net.ts";
import { DenoStreamSocket } from "./stream_socket.ts";

/** TLS settings of a listener's accepted connections. */
interface ListenerTls {
  handshakeTimeout: number;
  shutdownTimeout: number;
}

/** A connection accepted by a Deno listener; `connect()` runs the TLS handshake, if any. */
export class DenoAcceptedSocket extends AcceptedSocket {
  #conn: Deno.Conn | null;
  #tls: ListenerTls | null;

  /**
   * @param conn The accepted connection, owned from now on.
   * @param tls The handshake settings of a TLS listener, `null` for TCP.
   */
  constructor(conn: Deno.Conn, tls: ListenerTls | null) {
    super();
    this.#conn = conn;
    this.#tls = tls;
  }

  /** The peer's address. */
  getRemoteAddress(): SocketAddress {
    if (this.#conn === null) throw new ClosedResourceError("The accepted socket was already connected or closed");
    return toSocketAddress(this.#conn.remoteAddr);
  }

  /** Finishes the setup (the TLS handshake, bounded by `sslHandshakeTimeout`) and returns the stream. */
  async connect(): Promise<AsyncStreamSocketAdapter> {
    const conn = this.#conn;
    if (conn === null) throw new ClosedResourceError("The accepted socket was already connected or closed");
    this.#conn = null;
    if (this.#tls === null) {
      return await suspend<DenoStreamSocket>((resolve) => resolve(new DenoStreamSocket(conn))).catch((error) => {
        conn.close();
        throw error;
      });
    }
    await finishHandshake(conn as Deno.TlsConn, this.#tls.handshakeTimeout);
    return new DenoStreamSocket(conn);
  }

  /** Closes the connection without setting it up. Idempotent. */
  aclose(): Promise<void> {
    const conn = this.#conn;
    this.#conn = null;
    try {
      conn?.close();
    } catch {
      // Already closed.
    }
    return Promise.resolve();
  }

  /** Calls {@linkcode DenoAcceptedSocket.aclose}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.aclose();
  }
}

/** A Deno TCP or TLS listener. A cancelled `accept` leaves the runtime accept running: no connection is lost. */
export class DenoListenerSocket extends AsyncListenerSocketAdapter {
  #listener: Deno.Listener;
  #tls: ListenerTls | null;
  #state = new ResourceGuard("listener");
  #accepting = new PullOperation<Deno.Conn, AcceptedSocket>({
    start: () => this.#listener.accept(),
    deliver: (conn) => new DenoAcceptedSocket(conn, this.#tls),
    mapError: (error) => this.#state.closing ? this.#state.closedError() : denoError(error),
    // A connection accepted after close, or never taken: closed, not leaked.
    dispose: (conn) => conn.close(),
  });
  #local: SocketAddress;

  /**
   * @param listener The listener, owned from now on.
   * @param tls The handshake settings of a TLS listener, `null` for TCP.
   */
  constructor(listener: Deno.Listener, tls: ListenerTls | null = null) {
    super();
    this.#listener = listener;
    this.#tls = tls;
    this.#local = toSocketAddress(listener.addr);
  }

  /** `true` once `aclose()` was called. */
  isClosing(): boolean {
    return this.#state.closing;
  }

  /** The bound address. */
  getLocalAddress(): SocketAddress {
    return { ...this.#local };
  }

  /** The `Deno.Listener`. */
  socket(): unknown {
    return this.#listener;
  }

  /** Waits for a connection. */
  accept(): Promise<AcceptedSocket> {
    try {
      this.#state.acquire("recv");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#accepting.wait(this.#state.releaseRecv);
  }

  /** Stops listening; wakes a pending `accept` with `ClosedResourceError`. Idempotent. */
  aclose(): Promise<void> {
    if (this.#state.close()) {
      this.#accepting.close(this.#state.closedError());
      try {
        this.#listener.close();
      } catch {
        // Already closed.
      }
    }
    return Promise.resolve();
  }
}

function isAddrInUse(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "EADDRINUSE";
}

async function addressesToBind(hosts: string[] | null): Promise<string[]> {
  if (hosts === null) {
    // Deno cannot set IPV6_V6ONLY: "::" is dual-stack and collides with "0.0.0.0" on one port.
    return [ipv6Available() ? "::" : "0.0.0.0"];
  }
  const all: string[] = [];
  for (const host of hosts) all.push(...await resolveHost(host));
  return [...new Set(all)];
}

let ipv6: boolean | undefined;
function ipv6Available(): boolean {
  if (ipv6 === undefined) {
    try {
      Deno.listen({ hostname: "::", port: 0 }).close();
      ipv6 = true;
    } catch {
      ipv6 = false;
    }
  }
  return ipv6;
}

/** Binds one listener per address; port 0 on several addresses binds them all to one port. */
function bindAll(
  addresses: string[],
  port: number,
  open: (hostname: string, port: number) => Deno.Listener,
): Deno.Listener[] {
  for (let attempt = 0;; attempt++) {
    const listeners: Deno.Listener[] = [];
    let bound = port;
    try {
      for (const hostname of addresses) {
        const listener = open(hostname, bound);
        listeners.push(listener);
        if (bound === 0) bound = (listener.addr as Deno.NetAddr).port;
      }
      return listeners;
    } catch (error) {
      for (const listener of listeners) listener.close();
      // The port picked for the first address may be taken on another: pick again.
      if (port === 0 && listeners.length > 0 && isAddrInUse(error) && attempt < 20) continue;
      throw denoError(error);
    }
  }
}

/** Opens TCP listeners (see `AsyncBackend.createTcpListeners`). */
export async function createTcpListeners(
  host: string | readonly string[] | null,
  port: number,
  backlog: number,
  options?: TcpListenerOptions,
): Promise<DenoListenerSocket[]> {
  const hosts = listenHosts(host);
  assertPort(port);
  assertBacklog(backlog);
  const reusePort = optionsObject(options).reusePort ?? false;
  const addresses = await addressesToBind(hosts);
  await checkpoint();
  const listeners = bindAll(
    addresses,
    port,
    (hostname, port) => Deno.listen({ hostname, port, tcpBacklog: backlog, reusePort }),
  );
  return listeners.map((listener) => new DenoListenerSocket(listener));
}

/** Opens TLS listeners (see `AsyncBackend.createSslOverTcpListeners`). */
export async function createSslOverTcpListeners(
  host: string | readonly string[] | null,
  port: number,
  backlog: number,
  tls: TlsOptions,
  options?: TlsListenerOptions,
): Promise<DenoListenerSocket[]> {
  const hosts = listenHosts(host);
  assertPort(port);
  assertBacklog(backlog);
  assertTlsOptions(tls, true);
  const opts = optionsObject(options);
  const { handshake, shutdown } = checkTimeouts(opts);
  const settings: ListenerTls = { handshakeTimeout: handshake, shutdownTimeout: shutdown };
  const addresses = await addressesToBind(hosts);
  await checkpoint();
  const listeners = bindAll(addresses, port, (hostname, port) =>
    Deno.listenTls({
      hostname,
      port,
      tcpBacklog: backlog,
      reusePort: opts.reusePort ?? false,
      cert: tls.cert!,
      key: tls.key!,
      alpnProtocols: tls.alpnProtocols,
    }));
  return listeners.map((listener) => new DenoListenerSocket(listener, settings));
}
