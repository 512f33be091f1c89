/**
 * Contract tests: TLS the same on every backend: `caCerts` adds to the system's
 * roots, other option names are refused with the name to use, and the session
 * (ALPN protocol, TLS version, peer certificate) is readable on both ends.
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import * as nodeTls from "node:tls";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { AsyncStreamSocketAdapter, TlsOptions } from "../../backend/abc/socket.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { errorLike, yieldUntil } from "./core_util.ts";
import { CA_PEM, CLIENT_TLS, netOptions, portOf, recvExactly, SERVER_TLS, withServer } from "./net_util.ts";

/** A root of the runtime's bundled store: a real CA, but not the one that signed the test server. */
const OTHER_CA: string = nodeTls.rootCertificates[0];

/** Connects a TLS client to a TLS server and runs `check(client, server)` with both open. */
async function withTlsPair(
  backend: AsyncBackend,
  serverTls: TlsOptions,
  clientTls: TlsOptions,
  check: (client: AsyncStreamSocketAdapter, server: AsyncStreamSocketAdapter) => Promise<void> | void,
): Promise<void> {
  let server: AsyncStreamSocketAdapter | undefined;
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  await withServer(backend, async (stream) => {
    server = stream;
    await done;
  }, async (port) => {
    const client = await backend.createSslOverTcpConnection("localhost", port, clientTls);
    try {
      await client.sendall(new Uint8Array([1]));
      await backend.timeout(5_000, async () => {
        while (server === undefined) await backend.coroYield();
      });
      await check(client, server!);
    } finally {
      release();
      await client.aclose();
    }
  }, serverTls);
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return [...digest].map((byte) => byte.toString(16).padStart(2, "0").toUpperCase()).join(":");
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  const options = netOptions(name);
  /** `DenoBackend`'s own TLS connections tell the ALPN protocol only. */
  const full = name !== "deno";

  test(`${name}: tls caCerts trusts the test CA, and a CA that did not sign the server is refused`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await withTlsPair(backend, SERVER_TLS, CLIENT_TLS, () => {});
      await withTlsPair(backend, SERVER_TLS, { caCerts: [OTHER_CA, CA_PEM] }, () => {});
      const [listener] = await backend.createSslOverTcpListeners("127.0.0.1", 0, 16, SERVER_TLS);
      try {
        await backend.createTaskGroup(async (tg) => {
          tg.startSoon(async () => {
            const accepted = await listener.accept();
            await assert.rejects(accepted.connect());
          });
          await assert.rejects(
            backend.createSslOverTcpConnection("localhost", portOf(listener), { caCerts: [OTHER_CA] }),
            (error: unknown) => /certificate|issuer|verify/i.test(String(error)),
          );
        });
      } finally {
        await listener.aclose();
      }
    });
  }, options);

  const setDefaults = (nodeTls as { setDefaultCACertificates?: (certs: string[]) => void }).setDefaultCACertificates;
  const getDefaults = (nodeTls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  const canSetDefaults = typeof setDefaults === "function" && typeof getDefaults === "function" &&
    !("deno" in process.versions);
  test(`${name}: tls caCerts adds to the default roots instead of replacing them`, async () => {
    const backend = create();
    const saved = getDefaults!("default");
    setDefaults!([CA_PEM]); // the test CA becomes a default root
    try {
      await backend.bootstrap(async () => {
        await withTlsPair(backend, SERVER_TLS, {}, () => {});
        // Another CA in caCerts: the default roots (the test CA) are still trusted.
        await withTlsPair(backend, SERVER_TLS, { caCerts: [OTHER_CA] }, () => {});
      });
    } finally {
      setDefaults!(saved);
    }
  }, name === "node" && canSetDefaults ? options : { ignore: "needs tls.setDefaultCACertificates (Node 22.19+)" });

  test(`${name}: tls options of other APIs are refused, naming the option to use`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const client = (tls: unknown) =>
        backend.createSslOverTcpConnection("localhost", 9, tls as TlsOptions, { happyEyeballsDelay: 1 });
      await assert.rejects(client({ ca: [CA_PEM] }), errorLike(TypeError, /'tls\.ca'.*'caCerts'/));
      await assert.rejects(
        client({ servername: "localhost" }),
        errorLike(TypeError, /'tls\.servername'.*'serverHostname'/),
      );
      await assert.rejects(
        client({ rejectUnauthorized: false }),
        errorLike(TypeError, /'tls\.rejectUnauthorized'.*'caCerts'/),
      );
      await assert.rejects(
        client({ ALPNProtocols: ["h2"] }),
        errorLike(TypeError, /'tls\.ALPNProtocols'.*'alpnProtocols'/),
      );
      await assert.rejects(client({ certChain: "x" }), errorLike(TypeError, /'tls\.certChain'.*'cert'/));
      await assert.rejects(
        client({ frobnicate: 1 }),
        errorLike(TypeError, /'tls\.frobnicate'.*caCerts, cert, key, alpnProtocols/),
      );
      const server = { ...SERVER_TLS, ca: [CA_PEM] };
      await assert.rejects(
        backend.createSslOverTcpListeners("127.0.0.1", 0, 1, server),
        errorLike(TypeError, /'caCerts'/),
      );
      await assert.rejects(backend.serveTls(() => {}, 0, server), errorLike(TypeError, /'caCerts'/));
      // An option set to undefined is absent.
      await withTlsPair(backend, SERVER_TLS, { ...CLIENT_TLS, ca: undefined } as TlsOptions, () => {});
    });
  }, options);

  test(`${name}: tls alpnProtocol is the agreed protocol on both ends, null when none or without TLS`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const serverTls = { ...SERVER_TLS, alpnProtocols: ["h2", "http/1.1"] };
      await withTlsPair(backend, serverTls, { ...CLIENT_TLS, alpnProtocols: ["http/1.1"] }, (client, server) => {
        assert.equal(client.alpnProtocol, "http/1.1");
        assert.equal(server.alpnProtocol, "http/1.1");
      });
      await withTlsPair(backend, SERVER_TLS, CLIENT_TLS, (client, server) => {
        assert.equal(client.alpnProtocol, null);
        assert.equal(server.alpnProtocol, null);
      });
      await withServer(backend, async () => {}, async (port) => {
        await using plain = await backend.createTcpConnection("127.0.0.1", port);
        assert.equal(plain.alpnProtocol, null);
        assert.equal(plain.tlsVersion, null);
        assert.equal(plain.peerCertificate(), null);
      });
    });
  }, options);

  test(
    `${name}: tls version and peer certificate ${full ? "are readable" : "are null (Deno does not tell)"}`,
    async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        await withTlsPair(backend, SERVER_TLS, CLIENT_TLS, async (client, server) => {
          if (!full) {
            assert.equal(client.tlsVersion, null);
            assert.equal(server.tlsVersion, null);
            assert.equal(client.peerCertificate(), null);
            assert.equal(server.peerCertificate(), null);
            return;
          }
          assert.match(client.tlsVersion ?? "", /^TLSv1\.[23]$/);
          assert.equal(server.tlsVersion, client.tlsVersion);
          const certificate = client.peerCertificate();
          assert.ok(certificate !== null);
          assert.equal(certificate.subject, "CN=localhost");
          assert.equal(certificate.issuer, "CN=async-backend test CA");
          assert.match(certificate.subjectAltName ?? "", /DNS:localhost/);
          assert.match(certificate.serialNumber, /^[0-9A-F]+$/);
          assert.match(certificate.validTo, /2126/);
          assert.equal(certificate.raw[0], 0x30); // a DER SEQUENCE
          assert.equal(certificate.fingerprint256, await sha256Hex(certificate.raw));
          assert.equal(client.peerCertificate(), certificate);
          await client.aclose();
          assert.equal(client.peerCertificate(), certificate, "still readable once closed");
          assert.equal(server.peerCertificate(), null, "the client presented no certificate");
        });
      });
    },
    options,
  );

  test(`${name}: tls session after STARTTLS: ALPN on both ends, the version from node:tls ends`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      let serverSide: [string | null, string | null] | undefined;
      await withServer(backend, async (plain) => {
        await recvExactly(plain, 1);
        await plain.sendall(new Uint8Array([1])); // go ahead
        const alpn = { ...SERVER_TLS, alpnProtocols: ["smtp", "h2"] };
        await using secure = await backend.wrapSslOverTcpServerSocket(plain, alpn);
        serverSide = [secure.alpnProtocol, secure.tlsVersion];
        await secure.sendall(new Uint8Array([2]));
      }, async (port) => {
        await using plain = await backend.createTcpConnection("127.0.0.1", port);
        await plain.sendall(new Uint8Array([1]));
        await recvExactly(plain, 1); // the server reads no further: the handshake is next
        const tls = { ...CLIENT_TLS, alpnProtocols: ["smtp"] };
        await using secure = await backend.wrapSslOverTcpClientSocket(plain, tls, { serverHostname: "localhost" });
        assert.equal(secure.alpnProtocol, "smtp");
        assert.equal(secure.tlsVersion === null, !full);
        assert.deepEqual(await recvExactly(secure, 1), new Uint8Array([2]));
      });
      // Server STARTTLS goes through node:tls on both backends: it tells the version.
      assert.equal(serverSide?.[0], "smtp");
      assert.match(serverSide?.[1] ?? "", /^TLSv1\.[23]$/);
    });
  }, options);

  test(`${name}: server STARTTLS takes a ClientHello that came with the last plain bytes`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await withServer(backend, async (plain) => {
        await recvExactly(plain, 1);
        // The client did not wait for a go-ahead: its ClientHello is read too, and must not be lost.
        const socket = plain.socket() as { bytesRead: number };
        await yieldUntil(backend, () => socket.bytesRead > 1, "the ClientHello to arrive");
        await using secure = await backend.wrapSslOverTcpServerSocket(plain, SERVER_TLS, {
          sslHandshakeTimeout: 10_000,
        });
        await secure.sendall(new Uint8Array([2]));
      }, async (port) => {
        await using plain = await backend.createTcpConnection("127.0.0.1", port);
        await plain.sendall(new Uint8Array([1]));
        await using secure = await backend.wrapSslOverTcpClientSocket(plain, CLIENT_TLS, {
          serverHostname: "localhost",
          sslHandshakeTimeout: 10_000,
        });
        assert.deepEqual(await recvExactly(secure, 1), new Uint8Array([2]));
      });
    });
  }, name === "node" ? options : { ignore: "DenoBackend refuses to upgrade a stream that read bytes ahead" });
}
