/**
 * The per-runtime driver of the networking code: the few runtime calls the
 * neutral pipelines ({@link ./connect.ts}, {@link ./listen.ts}, {@link ./tls.ts})
 * and adapters ({@link ./stream_socket.ts}, {@link ./listener_socket.ts},
 * {@link ./datagram_socket.ts}) cannot make themselves. Each runtime folder
 * implements it in files named after its API family (`tcp.ts`, `tls.ts`,
 * `udp.ts`, `dns.ts`) and hands it to the backend through its `RuntimeHost`.
 *
 * Driver calls are plain promises, not checkpoints: the neutral code wraps them
 * (cancellation, deadlines, closing what a cancelled call opened). A call that
 * takes an `AbortSignal` gives up, closing what it holds, when it aborts.
 *
 * @module
 */

import type { PeerCertificate, SocketAddress, TlsOptions } from "../abc/socket.ts";

/** A pull-model connection (Deno's `TcpConn` and `TlsConn`): reads into the caller's buffer. */
export interface ByteConn {
  /** Reads into `p`; `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some of `p`; resolves the count. */
  write(p: Uint8Array): Promise<number>;
  /** Closes the write side. */
  closeWrite(): Promise<void>;
  /** Closes the connection. */
  close(): void;
}

/**
 * A push-model socket (`net.Socket`, `tls.TLSSocket`, or Deno's `node:net`
 * socket): emits what arrives. The structural subset the stream adapter uses.
 * Like an `EventEmitter`, it calls a listener with the socket as `this` (the
 * adapter's listeners are shared by every socket).
 */
export interface EventSocket {
  // deno-lint-ignore no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown;
  // deno-lint-ignore no-explicit-any
  off(event: string, listener: (...args: any[]) => void): unknown;
  // deno-lint-ignore no-explicit-any
  once(event: string, listener: (...args: any[]) => void): unknown;
  pause(): unknown;
  resume(): unknown;
  isPaused(): boolean;
  unshift(chunk: Uint8Array): void;
  write(data: Uint8Array, callback: (error?: Error | null) => void): boolean;
  end(callback: () => void): unknown;
  destroy(): unknown;
  readonly destroyed: boolean;
  readonly writableLength: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
}

/** What a TLS handshake agreed, as the TLS stream adapter reports it (`null`: the runtime does not tell). */
export interface TlsSession {
  /** The ALPN protocol agreed, `null` when none. */
  readonly alpnProtocol: string | null;
  /** The TLS version agreed (`"TLSv1.3"`). */
  readonly tlsVersion: string | null;
  /** The peer's certificate. */
  peerCertificate(): PeerCertificate | null;
}

/** A connected stream as the driver hands it to the stream adapter. */
/**
 * Reads an address from a runtime connection, for a runtime whose connection
 * keeps its addresses for good (Deno's): one function for every connection,
 * so that an idle adapter holds no address object of its own until asked.
 */
export type AddressOf = (raw: unknown) => SocketAddress;

export type StreamConn =
  & {
    /** The local address, or a shared function reading it from what `socket()` returns, called on first use. */
    local: SocketAddress | AddressOf;
    /** The peer's address, or a shared function reading it from what `socket()` returns, called on first use. */
    remote: SocketAddress | AddressOf;
    /** What `socket()` returns (default: the connection). */
    raw?: unknown;
    /** What the TLS handshake agreed, on a TLS connection. */
    tls?: TlsSession;
  }
  & ({ kind: "pull"; conn: ByteConn } | { kind: "push"; socket: EventSocket });

/** A listening socket as the driver hands it to the listener adapter. */
export type ListenerConn<C> =
  & {
    /** The bound address. */
    local: SocketAddress;
    /** The runtime object `socket()` returns. */
    raw: unknown;
    /** Stops listening. */
    close(): void;
  }
  & (
    /** The runtime accepts on demand. */
    | { kind: "pull"; accept(): Promise<C> }
    /** The runtime accepts as connections come; `onConnection` is set once. */
    | { kind: "push"; subscribe(onConnection: (conn: C) => void): void }
  );

/** One received datagram and its sender. */
export type Datagram = [Uint8Array, SocketAddress];

/** A UDP socket as the driver hands it to the datagram adapter. */
export type DatagramConn =
  & {
    /** The bound address. */
    local: SocketAddress;
    /** The peer of a connected socket, else `null`. */
    remote: SocketAddress | null;
    /** The runtime object `socket()` returns. */
    raw: unknown;
    /**
     * Sends one datagram to `target` (an IP literal, maybe in brackets; a
     * connected socket sends to its peer) and calls `done` once sent (with the
     * runtime's error if it failed); may keep sending after its caller gave up,
     * so it must not hold on to the caller's buffer.
     */
    send(data: Uint8Array, target: SocketAddress, done: (error: unknown) => void): void;
    /** Closes the socket. */
    close(): void;
  }
  & (
    | { kind: "pull"; receive(): Promise<Datagram> }
    | { kind: "push"; subscribe(onMessage: (datagram: Datagram) => void, onError: (error: unknown) => void): void }
  );

/**
 * What a runtime supplies to the networking code. `C` is its connection type
 * (Deno's `Conn`, Node's `net.Socket`).
 */
export interface NetDriver<C = unknown> {
  /** Resolves a host name to IP addresses, preferred first; `ENOTFOUND` when none; gives up when `signal` aborts. */
  resolve(host: string, signal: AbortSignal): Promise<string[]>;
  /** The address a listener on every interface binds (`"::"` when IPv6 works: dual-stack). */
  anyAddress(): Promise<string>;
  /** Gives a runtime error its POSIX `code`. */
  mapError(error: unknown): unknown;

  /** One TCP connection attempt to an IP address, from `local` when given. */
  connect(address: string, port: number, local: SocketAddress | undefined, signal: AbortSignal): Promise<C>;
  /** Closes a connection that no adapter owns. */
  close(conn: C): void;
  /** The peer's address of a connection. */
  remoteAddress(conn: C): SocketAddress;
  /** A connection as a stream, for the stream adapter. */
  stream(conn: C): StreamConn;
  /** `value` as a plain connected TCP connection; throws a `TypeError` naming `conn` otherwise. */
  tcpConn(value: unknown): C;
  /** `true` when a stream adapter's `socket()` is a plain TCP connection (not TLS). */
  isPlainTcp(raw: unknown): boolean;

  /** Throws a `TypeError` for client TLS settings this runtime cannot honour. */
  checkClientTls(tls: TlsOptions, localAddress: SocketAddress | undefined, method: string): void;
  /** Starts the client side of TLS over `conn` and runs its handshake; closes everything on failure or abort. */
  startClientTls(conn: C, tls: TlsOptions, serverHostname: string, signal: AbortSignal): Promise<StreamConn>;
  /** Starts the server side of TLS over a plain `conn` and runs its handshake; closes everything on failure or abort. */
  startServerTls(conn: C, tls: TlsOptions, signal: AbortSignal): Promise<StreamConn>;
  /** Finishes the setup of a connection accepted by a TLS listener (its server handshake). */
  acceptTls(conn: C, tls: TlsOptions, signal: AbortSignal): Promise<StreamConn>;

  /** Binds one listener; `tls` for a TLS listener. */
  listen(
    hostname: string,
    port: number,
    backlog: number,
    reusePort: boolean,
    tls: TlsOptions | null,
  ): Promise<ListenerConn<C>>;

  /** Throws unless UDP is available (Deno needs `--unstable-net`). */
  requireUdp(method: string): void;
  /** Binds a UDP socket to `local`, connected to `remote` (an IP address) when given. */
  openUdp(local: SocketAddress, remote: SocketAddress | null, reusePort: boolean): Promise<DatagramConn>;
  /** `value` as a bound UDP socket; throws a `TypeError` naming `sock` otherwise. */
  wrapUdp(value: unknown): DatagramConn;
}
