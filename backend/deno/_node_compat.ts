/**
 * `node:net` / `node:tls` sockets seen as Deno byte connections.
 *
 * Deno's own API cannot bind a local address before connecting, nor run the
 * server side of a TLS upgrade on an established connection (server STARTTLS).
 * For those two cases only, the Deno backend uses Deno's `node:` modules and
 * this shim, so the same stream adapter serves them.
 *
 * @module
 */

import { connect as netConnect, type Socket as NetSocket } from "node:net";
import { TLSSocket } from "node:tls";
import { Duplex } from "node:stream";
import type { SocketAddress, TlsOptions } from "../abc/socket.ts";
import { handshakeTimeoutError, withPosixCode } from "../_net/errors.ts";
import { suspend } from "../_core/checkpoint.ts";
import type { ByteConn } from "./net.ts";

const HIGH_WATER = 256 * 1024;

/** A `node:net` (or `node:tls`) socket as a {@linkcode ByteConn}. */
export class NodeSocketConn implements ByteConn {
  #socket: NetSocket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: unknown = null;
  #wake: (() => void) | null = null;
  #local: Deno.NetAddr;
  #remote: Deno.NetAddr;

  /**
   * @param socket A connected socket, owned from now on.
   * @param addresses The addresses to report, when the socket does not know them.
   */
  constructor(socket: NetSocket, addresses?: { local: Deno.NetAddr; remote: Deno.NetAddr }) {
    this.#socket = socket;
    this.#local = addresses?.local ??
      { transport: "tcp", hostname: socket.localAddress ?? "", port: socket.localPort ?? 0 };
    this.#remote = addresses?.remote ??
      { transport: "tcp", hostname: socket.remoteAddress ?? "", port: socket.remotePort ?? 0 };
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered >= HIGH_WATER) socket.pause();
      this.#notify();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#notify();
    });
    socket.on("error", (error: unknown) => {
      this.#error = withPosixCode(error);
      this.#notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#notify();
    });
  }

  /** The wrapped socket. */
  get socket(): NetSocket {
    return this.#socket;
  }

  /** The local address. */
  get localAddr(): Deno.Addr {
    return this.#local;
  }

  /** The peer's address. */
  get remoteAddr(): Deno.Addr {
    return this.#remote;
  }

  /** Reads into `p`; `null` at end of stream. */
  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error !== null) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    let n = 0;
    while (n < p.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const take = Math.min(chunk.length, p.length - n);
      p.set(take === chunk.length ? chunk : chunk.subarray(0, take), n);
      n += take;
      if (take === chunk.length) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(take);
    }
    this.#buffered -= n;
    if (this.#buffered < HIGH_WATER && this.#socket.isPaused()) this.#socket.resume();
    return n;
  }

  /** Writes all of `p` (Node buffers it); resolves its length once flushed. */
  write(p: Uint8Array): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      if (this.#error !== null) return reject(this.#error);
      this.#socket.write(p.slice(), (error?: Error | null) => {
        if (error) reject(withPosixCode(error));
        else resolve(p.length);
      });
    });
  }

  /** Ends the write side. */
  closeWrite(): Promise<void> {
    return new Promise<void>((resolve) => this.#socket.end(() => resolve()));
  }

  /** Destroys the socket. */
  close(): void {
    this.#socket.destroy();
    this.#ended = true;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

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
): Promise<ByteConn> {
  return new Promise<ByteConn>((resolve, reject) => {
    const socket = netConnect({ host: address, port, localAddress: bind.hostname, localPort: bind.port });
    const onAbort = () => {
      socket.destroy();
      reject(new DOMException("The connection attempt was aborted", "AbortError"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      signal.removeEventListener("abort", onAbort);
      socket.removeAllListeners("error");
      resolve(new NodeSocketConn(socket));
    });
    socket.once("error", (error) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(withPosixCode(error));
    });
  });
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
 * (server STARTTLS), bounded by `handshakeTimeout`. Takes ownership of `conn`;
 * on failure, timeout or cancellation, everything is closed.
 *
 * @param conn The accepted plain connection.
 * @param tls The server's certificate and key (and ALPN protocols).
 * @param handshakeTimeout The bound, in ms.
 */
export function startServerTls(
  conn: Deno.TcpConn,
  tls: TlsOptions,
  handshakeTimeout: number,
): Promise<NodeSocketConn> {
  return suspend<NodeSocketConn>((resolve, reject) => {
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
      clearTimeout(timer);
      socket.destroy();
      transport.destroy();
      reject(error);
    };
    const timer = handshakeTimeout === Infinity
      ? undefined
      : setTimeout(() => fail(handshakeTimeoutError(handshakeTimeout)), handshakeTimeout);
    socket.once("secure", () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve(new NodeSocketConn(socket, { local, remote }));
    });
    socket.once("error", (error) => fail(withPosixCode(error)));
    return () => {
      done = true;
      clearTimeout(timer);
      socket.destroy();
      transport.destroy();
    };
  });
}
