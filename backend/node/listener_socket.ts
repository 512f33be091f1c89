/**
 * Node TCP and TLS listeners (`node:net` servers; TLS set up per connection).
 *
 * @module
 */

import { createServer, type Server, type Socket } from "node:net";
import process from "node:process";
import { TLSSocket } from "node:tls";
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
import { PushQueue } from "../_net/push.ts";
import { codedError } from "../_net/errors.ts";
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
import { nodeError, resolveHost, toSocketAddress } from "./net.ts";
import { NodeStreamSocket } from "./stream_socket.ts";

/** TLS settings of a listener's accepted connections. */
interface ListenerTls {
  tls: TlsOptions;
  handshakeTimeout: number;
  shutdownTimeout: number;
}

/** Runs the server side of a TLS handshake on `socket`, bounded by `ms`; resolves the TLS socket. */
export async function startServerTls(socket: Socket, tls: TlsOptions, ms: number): Promise<TLSSocket> {
  const secure = new TLSSocket(socket, {
    isServer: true,
    cert: tls.cert,
    key: tls.key,
    ca: tls.caCerts,
    ALPNProtocols: tls.alpnProtocols,
  });
  secure.pause();
  // Node starts the server handshake when the TLS socket reads: let the plain socket flow.
  socket.resume();
  try {
    await finishHandshake(secure, "secure", ms);
  } catch (error) {
    socket.destroy();
    throw error;
  }
  return secure;
}

/** A connection accepted by a Node listener; `connect()` runs the TLS handshake, if any. */
export class NodeAcceptedSocket extends AcceptedSocket {
  #socket: Socket | null;
  #tls: ListenerTls | null;

  /**
   * @param socket The accepted (paused) socket, owned from now on.
   * @param tls The TLS settings of a TLS listener, `null` for TCP.
   */
  constructor(socket: Socket, tls: ListenerTls | null) {
    super();
    this.#socket = socket;
    this.#tls = tls;
  }

  /** The peer's address. */
  getRemoteAddress(): SocketAddress {
    if (this.#socket === null) throw new ClosedResourceError("The accepted socket was already connected or closed");
    return toSocketAddress(this.#socket.remoteAddress, this.#socket.remotePort);
  }

  /** Finishes the setup (the TLS handshake, bounded by `sslHandshakeTimeout`) and returns the stream. */
  async connect(): Promise<AsyncStreamSocketAdapter> {
    const socket = this.#socket;
    if (socket === null) throw new ClosedResourceError("The accepted socket was already connected or closed");
    this.#socket = null;
    try {
      await checkpoint();
    } catch (error) {
      socket.destroy();
      throw error;
    }
    if (this.#tls === null) return new NodeStreamSocket(socket);
    return new NodeStreamSocket(await startServerTls(socket, this.#tls.tls, this.#tls.handshakeTimeout));
  }

  /** Closes the connection without setting it up. Idempotent. */
  aclose(): Promise<void> {
    this.#socket?.destroy();
    this.#socket = null;
    return Promise.resolve();
  }

  /** Calls {@linkcode NodeAcceptedSocket.aclose}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.aclose();
  }
}

/**
 * A Node TCP or TLS listener. Node accepts connections as they come; they wait
 * (paused) in a queue until `accept()` takes them, so a cancelled `accept`
 * loses none.
 */
export class NodeListenerSocket extends AsyncListenerSocketAdapter {
  #server: Server;
  #tls: ListenerTls | null;
  #state = new ResourceGuard("listener");
  #queue: Socket[] = [];
  #receiver = new PushQueue<AcceptedSocket>(() => {
    const socket = this.#queue.shift();
    if (socket !== undefined) this.#receiver.resolve(new NodeAcceptedSocket(socket, this.#tls));
  });
  #local: SocketAddress;

  /**
   * @param server A listening server, owned from now on.
   * @param tls The TLS settings of a TLS listener, `null` for TCP.
   */
  constructor(server: Server, tls: ListenerTls | null = null) {
    super();
    this.#server = server;
    this.#tls = tls;
    const address = server.address();
    this.#local = typeof address === "object" && address !== null
      ? toSocketAddress(address.address, address.port)
      : toSocketAddress(undefined, undefined);
    server.on("connection", (socket: Socket) => {
      if (this.#state.closing) {
        socket.destroy();
        return;
      }
      // An error before accept() (a reset) must not crash the process; connect() reports later ones.
      socket.on("error", () => {});
      this.#queue.push(socket);
      this.#receiver.wake();
    });
    server.on("error", () => {});
  }

  /** `true` once `aclose()` was called. */
  isClosing(): boolean {
    return this.#state.closing;
  }

  /** The bound address. */
  getLocalAddress(): SocketAddress {
    return { ...this.#local };
  }

  /** The `net.Server`. */
  socket(): unknown {
    return this.#server;
  }

  /** Waits for a connection. */
  accept(): Promise<AcceptedSocket> {
    try {
      this.#state.acquire("recv");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#receiver.receive(this.#state.releaseRecv);
  }

  /** Stops listening; wakes a pending `accept` with `ClosedResourceError`. Idempotent. */
  aclose(): Promise<void> {
    if (this.#state.close()) {
      for (const socket of this.#queue) socket.destroy();
      this.#queue = [];
      this.#receiver.reject(this.#state.closedError());
      this.#server.close();
    }
    return Promise.resolve();
  }
}

let ipv6: Promise<boolean> | undefined;
function ipv6Available(): Promise<boolean> {
  return ipv6 ??= new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ host: "::1", port: 0 }, () => server.close(() => resolve(true)));
  });
}

async function addressesToBind(hosts: string[] | null): Promise<string[]> {
  if (hosts === null) {
    // "::" is dual-stack on Node (IPV6_V6ONLY off): one listener serves IPv4 and IPv6, as with the Deno backend
    return [(await ipv6Available()) ? "::" : "0.0.0.0"];
  }
  const all: string[] = [];
  for (const host of hosts) all.push(...await resolveHost(host));
  return [...new Set(all)];
}

/** `listen({ reusePort })` came with Node 22.12 and 23.1. */
function reusePortSupported(): boolean {
  const [major, minor] = process.versions.node.split(".").map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12) || "deno" in process.versions;
}

function listenOne(hostname: string, port: number, backlog: number, reusePort: boolean): Promise<Server> {
  return new Promise<Server>((resolve, reject) => {
    const server = createServer({ pauseOnConnect: true, allowHalfOpen: true });
    server.once("error", (error) => {
      server.close();
      reject(nodeError(error));
    });
    const options = { host: hostname, port, backlog, exclusive: true, ...(reusePort ? { reusePort } : {}) };
    server.listen(options, () => {
      server.removeAllListeners("error");
      resolve(server);
    });
  });
}

/** Binds one server per address; port 0 on several addresses binds them all to one port. */
async function bindAll(addresses: string[], port: number, backlog: number, reusePort: boolean): Promise<Server[]> {
  if (reusePort && !reusePortSupported()) {
    throw codedError(
      `The 'reusePort' option needs Node 22.12 or later (this is Node ${process.versions.node})`,
      "ENOTSUP",
    );
  }
  for (let attempt = 0;; attempt++) {
    const servers: Server[] = [];
    let bound = port;
    try {
      for (const hostname of addresses) {
        const server = await listenOne(hostname, bound, backlog, reusePort);
        servers.push(server);
        const address = server.address();
        if (bound === 0 && typeof address === "object" && address !== null) bound = address.port;
      }
      return servers;
    } catch (error) {
      for (const server of servers) server.close();
      // The port picked for the first address may be taken on another: pick again.
      const inUse = (error as { code?: unknown }).code === "EADDRINUSE";
      if (port === 0 && servers.length > 0 && inUse && attempt < 20) continue;
      throw error;
    }
  }
}

/** Binds listeners as a checkpoint: a cancelled call closes what it bound. */
async function bindListeners(
  host: string | readonly string[] | null,
  port: number,
  backlog: number,
  reusePort: boolean,
  tls: ListenerTls | null,
): Promise<NodeListenerSocket[]> {
  const addresses = await addressesToBind(listenHosts(host));
  const servers = await suspend<Server[]>((resolve, reject) => {
    let cancelled = false;
    bindAll(addresses, port, backlog, reusePort).then((servers) => {
      if (cancelled) { for (const server of servers) server.close(); }
      else resolve(servers);
    }, reject);
    return () => void (cancelled = true);
  });
  return servers.map((server) => new NodeListenerSocket(server, tls));
}

/** Opens TCP listeners (see `AsyncBackend.createTcpListeners`). */
export async function createTcpListeners(
  host: string | readonly string[] | null,
  port: number,
  backlog: number,
  options?: TcpListenerOptions,
): Promise<NodeListenerSocket[]> {
  listenHosts(host);
  assertPort(port);
  assertBacklog(backlog);
  const reusePort = optionsObject(options).reusePort ?? false;
  return await bindListeners(host, port, backlog, reusePort, null);
}

/** Opens TLS listeners (see `AsyncBackend.createSslOverTcpListeners`). */
export async function createSslOverTcpListeners(
  host: string | readonly string[] | null,
  port: number,
  backlog: number,
  tls: TlsOptions,
  options?: TlsListenerOptions,
): Promise<NodeListenerSocket[]> {
  listenHosts(host);
  assertPort(port);
  assertBacklog(backlog);
  assertTlsOptions(tls, true);
  const opts = optionsObject(options);
  const { handshake, shutdown } = checkTimeouts(opts);
  const settings: ListenerTls = { tls: { ...tls }, handshakeTimeout: handshake, shutdownTimeout: shutdown };
  return await bindListeners(host, port, backlog, opts.reusePort ?? false, settings);
}
