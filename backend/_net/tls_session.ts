/**
 * What a TLS handshake agreed (ALPN protocol, TLS version, the peer's
 * certificate), taken from the runtime's TLS connection once the handshake is
 * over, and the TLS stream adapter that reports it.
 *
 * @module
 */

import type { PeerCertificate } from "../abc/socket.ts";
import type { StreamConn, TlsSession } from "./driver.ts";
import { StreamSocket } from "./stream_socket.ts";

/** The parts of `node:crypto`'s `X509Certificate` a {@linkcode PeerCertificate} is made of. */
interface X509Like {
  readonly raw: Uint8Array;
  readonly subject: string;
  readonly issuer: string;
  readonly subjectAltName: string | undefined;
  readonly serialNumber: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly fingerprint256: string;
}

/** The parts of a `node:tls` `TLSSocket` (Node's, or Deno's `node:` one) that tell the session. */
export interface TlsSocketLike {
  readonly alpnProtocol?: string | false | null;
  getProtocol(): string | null;
  getPeerX509Certificate?(): X509Like | undefined;
}

const NO_CERTIFICATE = (): null => null;

/** The session of a Deno TLS connection (TlsConn): Deno 2.9's `handshake()` tells only the ALPN protocol. */
export function alpnOnlySession(alpnProtocol: string | null | undefined): TlsSession {
  return { alpnProtocol: alpnProtocol || null, tlsVersion: null, peerCertificate: NO_CERTIFICATE };
}

/**
 * The session of a `node:tls` socket whose handshake is over. The certificate
 * object is taken now (the socket forgets it once destroyed) and converted on
 * first use.
 */
export function tlsSocketSession(socket: TlsSocketLike): TlsSession {
  const x509 = socket.getPeerX509Certificate?.();
  let certificate: PeerCertificate | undefined;
  return {
    alpnProtocol: socket.alpnProtocol || null,
    tlsVersion: socket.getProtocol() ?? null,
    peerCertificate: () => {
      if (x509 === undefined) return null;
      return certificate ??= Object.freeze({
        raw: new Uint8Array(x509.raw),
        subject: x509.subject,
        issuer: x509.issuer,
        subjectAltName: x509.subjectAltName ?? null,
        serialNumber: x509.serialNumber,
        validFrom: x509.validFrom,
        validTo: x509.validTo,
        fingerprint256: x509.fingerprint256,
      });
    },
  };
}

const UNKNOWN_SESSION: TlsSession = alpnOnlySession(null);

/** A TLS stream: a {@linkcode StreamSocket} that reports its handshake's {@linkcode TlsSession}. */
export class TlsStreamSocket extends StreamSocket {
  #session: TlsSession;

  /**
   * Takes ownership of a TLS connection whose handshake is over.
   *
   * @param conn The connection, with its session in `tls`.
   * @param mapError Gives a runtime error its POSIX `code`.
   */
  constructor(conn: StreamConn, mapError: (error: unknown) => unknown) {
    super(conn, mapError);
    this.#session = conn.tls ?? UNKNOWN_SESSION;
  }

  /** The ALPN protocol agreed, `null` when none. */
  override get alpnProtocol(): string | null {
    return this.#session.alpnProtocol;
  }

  /** The TLS version agreed; `null` when the runtime does not tell (Deno). */
  override get tlsVersion(): string | null {
    return this.#session.tlsVersion;
  }

  /** The peer's certificate; `null` when it presented none or the runtime does not tell (Deno). */
  override peerCertificate(): PeerCertificate | null {
    return this.#session.peerCertificate();
  }
}
