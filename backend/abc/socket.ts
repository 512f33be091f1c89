/**
 * Socket adapter contracts and networking option types.
 *
 * @module
 */

/** A socket address: host name or IP address, and port. */
export interface SocketAddress {
  /** Host name or IP address. */
  hostname: string;
  /** Port number, 0 to 65535. */
  port: number;
}

/**
 * TLS settings, in Deno's words. Certificates are verified by default, host name
 * included. Any other option name (Node's `ca`, `servername`,
 * `rejectUnauthorized`, `ALPNProtocols`, ...) is refused with a `TypeError`
 * that names the option to use instead.
 */
export interface TlsOptions {
  /**
   * PEM-encoded CA certificates to trust in addition to the system's roots (the
   * runtime's default store), on every backend.
   */
  caCerts?: string[];
  /** PEM-encoded certificate chain (servers; clients for mutual TLS). */
  cert?: string;
  /** PEM-encoded private key matching {@linkcode TlsOptions.cert}. */
  key?: string;
  /** ALPN protocols to offer or accept. */
  alpnProtocols?: string[];
}

/** The certificate a TLS peer presented, as `peerCertificate()` gives it. */
export interface PeerCertificate {
  /** The certificate in DER. */
  readonly raw: Uint8Array;
  /** The subject's distinguished name, one `key=value` per line (`CN=localhost`). */
  readonly subject: string;
  /** The issuer's distinguished name, in the same form. */
  readonly issuer: string;
  /** The subject alternative names (`DNS:localhost, IP Address:127.0.0.1`), `null` when none. */
  readonly subjectAltName: string | null;
  /** The serial number, in upper-case hex. */
  readonly serialNumber: string;
  /** Start of the validity period, as OpenSSL prints it (`Nov 25 06:06:15 2026 GMT`). */
  readonly validFrom: string;
  /** End of the validity period, in the same form. */
  readonly validTo: string;
  /** SHA-256 fingerprint of `raw`, colon-separated upper-case hex. */
  readonly fingerprint256: string;
}

/** Options of `createTcpConnection`. */
export interface TcpConnectionOptions {
  /** Local address to bind before connecting. */
  localAddress?: SocketAddress;
  /** RFC 8305 delay between connection attempts, in ms (default 250). */
  happyEyeballsDelay?: number;
}

/** Options of `createSslOverTcpConnection`. */
export interface TlsConnectionOptions extends TcpConnectionOptions {
  /** Name to verify the certificate against and send as SNI (default: `host`). */
  serverHostname?: string;
  /** Bound on the handshake, in ms (default 60 000). */
  sslHandshakeTimeout?: number;
}

/** Options of `wrapSslOverTcpClientSocket`. */
export interface TlsWrapOptions {
  /** Name to verify the certificate against and send as SNI. */
  serverHostname: string;
  /** Bound on the handshake, in ms (default 60 000). */
  sslHandshakeTimeout?: number;
}

/** Options of `wrapSslOverTcpServerSocket` (server-side STARTTLS, beyond the seed). */
export interface TlsServerWrapOptions {
  /** Bound on the handshake, in ms (default 60 000). */
  sslHandshakeTimeout?: number;
}

/** Options of `createTcpListeners`. */
export interface TcpListenerOptions {
  /** Let several listeners bind the same port (`SO_REUSEPORT`). */
  reusePort?: boolean;
}

/** Options of `createSslOverTcpListeners`. */
export interface TlsListenerOptions extends TcpListenerOptions {
  /** Bound on each accepted connection's handshake, in ms (default 60 000). */
  sslHandshakeTimeout?: number;
}

/** Options of `createUdpEndpoint`. */
export interface UdpEndpointOptions {
  /** Local address to bind (default: an ephemeral port on the remote address's family). */
  localAddress?: SocketAddress;
  /** The only peer this endpoint talks to and accepts datagrams from. */
  remoteAddress?: SocketAddress;
  /** Let several endpoints bind the same port (`SO_REUSEPORT`). */
  reusePort?: boolean;
}

/** The base of every socket adapter. */
export abstract class AsyncBaseSocketAdapter implements AsyncDisposable {
  /** `true` once `aclose()` was called. */
  abstract isClosing(): boolean;
  /** Closes the socket. Idempotent; wakes pending calls with `ClosedResourceError`. */
  abstract aclose(): Promise<void>;
  /** The local address the socket is bound to. */
  abstract getLocalAddress(): SocketAddress;
  /** The runtime's own socket object (a Deno `Conn`, a Node `net.Socket`, ...). */
  abstract socket(): unknown;
  /** Calls {@linkcode AsyncBaseSocketAdapter.aclose}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.aclose();
  }
}

/** A connected stream socket (TCP or TLS). */
export abstract class AsyncStreamSocketAdapter extends AsyncBaseSocketAdapter {
  /** The peer's address. */
  abstract getRemoteAddress(): SocketAddress;
  // ---- The TLS session (`null` on a plain connection; see the README's backend table) ----
  /** The ALPN protocol agreed in the TLS handshake; `null` without TLS or when none was agreed. */
  get alpnProtocol(): string | null {
    return null;
  }
  /**
   * The TLS version agreed (`"TLSv1.3"`, `"TLSv1.2"`); `null` without TLS, and on
   * `DenoBackend`'s own TLS connections (Deno 2.9 does not tell it).
   */
  get tlsVersion(): string | null {
    return null;
  }
  /**
   * The certificate the peer presented in the TLS handshake (the server's, to a
   * client); `null` without TLS, when the peer presented none (a client, to a
   * server), and on `DenoBackend`'s own TLS connections (Deno 2.9 does not tell it).
   */
  peerCertificate(): PeerCertificate | null {
    return null;
  }
  /**
   * Receives up to `bufsize` bytes; resolves an empty array at EOF, repeatedly.
   * A cancelled `recv` loses no bytes.
   */
  abstract recv(bufsize: number): Promise<Uint8Array>;
  /**
   * Receives up to `buffer.length` bytes into `buffer` (Python's `recv_into`);
   * resolves the count, `0` at end of stream. Loses no bytes when cancelled. This
   * default copies from {@linkcode AsyncStreamSocketAdapter.recv}; backends
   * override it to skip the allocation of a fresh array per call.
   */
  async recvInto(buffer: Uint8Array): Promise<number> {
    if (!(buffer instanceof Uint8Array)) {
      throw new TypeError(`The 'buffer' argument must be a Uint8Array, got ${typeof buffer}`);
    }
    if (buffer.length === 0) throw new RangeError("The 'buffer' argument must not be empty");
    const data = await this.recv(buffer.length);
    buffer.set(data);
    return data.length;
  }
  /** Sends every byte of `data`. */
  abstract sendall(data: Uint8Array): Promise<void>;
  /** Sends every chunk in order, without joining them into one buffer. */
  abstract sendallFromiter(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void>;

  // ---- Buffered reads, iteration and Web Streams ----

  /**
   * Receives exactly `n` bytes; the bytes received past them stay buffered for
   * the next receive. Loses nothing when cancelled (what it received stays
   * buffered). Rejects with `IncompleteReadError`, carrying the bytes received
   * (consumed), when the stream ends first.
   */
  abstract receiveExactly(n: number): Promise<Uint8Array>;
  /**
   * Receives the bytes before the next `delimiter` (a string is UTF-8 encoded)
   * and consumes the delimiter, which is not part of the result; the bytes
   * received past it stay buffered for the next receive. Loses nothing when
   * cancelled. Rejects with `DelimiterNotFound` when the delimiter does not
   * start within the first `maxBytes` bytes (they stay buffered), with
   * `IncompleteReadError` (carrying the bytes received, consumed) when the
   * stream ends first.
   */
  abstract receiveUntil(delimiter: Uint8Array | string, maxBytes?: number): Promise<Uint8Array>;
  /** The receive side as a `ReadableStream`, sharing the adapter's buffer. */
  abstract readonly readable: ReadableStream<Uint8Array>;
  /** The send side as a `WritableStream`. */
  abstract readonly writable: WritableStream<Uint8Array>;
  /**
   * Yields the received chunks (each a `recv(65536)`, a checkpoint) until end
   * of stream. Leaving the loop early leaves the socket open.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      const chunk = await this.recv(65536);
      if (chunk.length === 0) return;
      yield chunk;
    }
  }
}

/** A stream socket whose write side can be closed alone. */
export abstract class AsyncHalfCloseableStreamSocketAdapter extends AsyncStreamSocketAdapter {
  /** Closes the write side; the peer reads EOF. */
  abstract sendEof(): Promise<void>;
}

/** A UDP socket. */
export abstract class AsyncDatagramSocketAdapter extends AsyncBaseSocketAdapter {
  /** The connected peer, or `null` for an unconnected endpoint. */
  abstract getRemoteAddress(): SocketAddress | null;
  /** Receives one datagram (truncated to `bufsize`) and its sender. */
  abstract recvfrom(bufsize: number): Promise<[Uint8Array, SocketAddress]>;
  /** Sends one datagram to `address`, or to the connected peer when `null`. */
  abstract sendto(data: Uint8Array, address: SocketAddress | null): Promise<void>;
  /**
   * Yields each datagram received and its sender (a `recvfrom(65536)`, a
   * checkpoint), for as long as the socket is open: UDP has no end, so the loop
   * ends by `break`, cancellation, or an error (`ClosedResourceError` once closed).
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<[Uint8Array, SocketAddress], never, undefined> {
    for (;;) yield await this.recvfrom(65536);
  }
}

/** A connection accepted by a listener, whose setup finishes in `connect()`. */
export abstract class AcceptedSocket {
  /** Finishes the setup (the TLS handshake, if any) and returns the stream. */
  abstract connect(): Promise<AsyncStreamSocketAdapter>;
}

/** A listening socket. */
export abstract class AsyncListenerSocketAdapter extends AsyncBaseSocketAdapter {
  /** Waits for a connection. A cancelled `accept` loses no connection. */
  abstract accept(): Promise<AcceptedSocket>;
  /**
   * Yields each connection `accept()` returns (a checkpoint), for as long as the
   * listener is open: the loop ends by `break`, cancellation, or an error
   * (`ClosedResourceError` once closed).
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<AcceptedSocket, never, undefined> {
    for (;;) yield await this.accept();
  }
}
