/**
 * Contract tests: TLS over TCP (echo, verification, handshake timeouts, STARTTLS).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { AsyncStreamSocketAdapter, TlsOptions, TlsServerWrapOptions } from "../../backend/abc/socket.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import {
  CLIENT_TLS,
  echo,
  netOptions,
  pattern,
  portOf,
  recvExactly,
  SERVER_TLS,
  text,
  utf8,
  withCode,
  withServer,
} from "./net_util.ts";

/** A backend with server-side STARTTLS (an extra of this project's backends). */
type ServerStartTls = {
  wrapSslOverTcpServerSocket(conn: unknown, tls: TlsOptions, options?: TlsServerWrapOptions): Promise<
    AsyncStreamSocketAdapter
  >;
};

function serverStartTls(backend: AsyncBackend): ServerStartTls | undefined {
  const candidate = backend as unknown as Partial<ServerStartTls>;
  return typeof candidate.wrapSslOverTcpServerSocket === "function" ? candidate as ServerStartTls : undefined;
}

/** Sends until end of stream, receives everything back. */
async function echoThrough(
  backend: AsyncBackend,
  stream: AsyncStreamSocketAdapter,
  data: Uint8Array,
): Promise<Uint8Array> {
  let received: Uint8Array = new Uint8Array(0);
  await backend.createTaskGroup(async (tg) => {
    tg.startSoon(async () => {
      received = await recvExactly(stream, data.length);
    });
    await stream.sendall(data);
  });
  return received;
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  const options = netOptions(name);

  test(`${name}: tls echoes 1 MiB with a test CA`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await withServer(backend, echo, async (port) => {
        const stream = await backend.createSslOverTcpConnection("localhost", port, CLIENT_TLS);
        try {
          const data = pattern(1024 * 1024, 7);
          assert.deepEqual(await echoThrough(backend, stream, data), data);
          assert.equal(stream.getRemoteAddress().port, port);
        } finally {
          await stream.aclose();
        }
      }, SERVER_TLS);
    });
  }, options);

  test(`${name}: tls verifies the certificate chain by default`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const [listener] = await backend.createSslOverTcpListeners("127.0.0.1", 0, 16, SERVER_TLS);
      try {
        await backend.createTaskGroup(async (tg) => {
          tg.startSoon(async () => {
            const accepted = await listener.accept();
            await assert.rejects(accepted.connect()); // the client gives up the handshake
          });
          await assert.rejects(
            backend.createSslOverTcpConnection("localhost", portOf(listener), {}),
            (error: unknown) => /certificate|issuer/i.test(String(error)),
          );
        });
      } finally {
        await listener.aclose();
      }
    });
  }, options);

  test(`${name}: tls verifies the host name by default`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const [listener] = await backend.createSslOverTcpListeners("127.0.0.1", 0, 16, SERVER_TLS);
      try {
        await backend.createTaskGroup(async (tg) => {
          tg.startSoon(async () => {
            const accepted = await listener.accept();
            await assert.rejects(accepted.connect());
          });
          await assert.rejects(
            backend.createSslOverTcpConnection("127.0.0.1", portOf(listener), CLIENT_TLS, {
              serverHostname: "not-this-host.example",
            }),
            (error: unknown) => /certificate|name|host/i.test(String(error)),
          );
        });
      } finally {
        await listener.aclose();
      }
    });
  }, options);

  test(`${name}: tls handshakes are bounded by sslHandshakeTimeout on both sides`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      // Client side: a plain TCP server that never answers the ClientHello.
      const clientDone = backend.createEvent();
      await withServer(backend, async () => {
        // Deno keeps the OS socket of a TLS connection closed mid-handshake until the peer
        // speaks or closes (README, "Deno limitations"), so this server closes on its own.
        await clientDone.wait();
      }, async (port) => {
        await assert.rejects(
          backend.createSslOverTcpConnection("localhost", port, CLIENT_TLS, { sslHandshakeTimeout: 50 }),
          withCode("ETIMEDOUT"),
        );
        clientDone.set();
      });
      // Server side: a plain TCP client that never says hello.
      const [listener] = await backend.createSslOverTcpListeners("127.0.0.1", 0, 16, SERVER_TLS, {
        sslHandshakeTimeout: 50,
      });
      try {
        const client = await backend.createTcpConnection("127.0.0.1", portOf(listener));
        try {
          const accepted = await listener.accept();
          await assert.rejects(accepted.connect(), withCode("ETIMEDOUT"));
        } finally {
          await client.aclose();
        }
      } finally {
        await listener.aclose();
      }
    });
  }, options);

  test(`${name}: tls bad arguments reject with TypeError or RangeError`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await assert.rejects(
        backend.createSslOverTcpConnection("localhost", 1, null as unknown as TlsOptions),
        TypeError,
      );
      await assert.rejects(
        backend.createSslOverTcpConnection("localhost", 1, { caCerts: "x" as unknown as string[] }),
        /'tls.caCerts'/,
      );
      await assert.rejects(
        backend.createSslOverTcpConnection("localhost", 1, CLIENT_TLS, { sslHandshakeTimeout: -5 }),
        RangeError,
      );
      await assert.rejects(backend.wrapSslOverTcpClientSocket({}, CLIENT_TLS, { serverHostname: "x" }), TypeError);
    });
  }, options);

  test(`${name}: tls refuses a certificate or key that is not PEM at creation, naming the option`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      // A free port: nothing may be left listening on it after a refused creation.
      const [probe] = await backend.createTcpListeners("127.0.0.1", 0, 16);
      const port = probe.getLocalAddress().port;
      await probe.aclose();
      const bad = "not a pem";
      await assert.rejects(
        backend.createSslOverTcpListeners("127.0.0.1", port, 16, { ...SERVER_TLS, cert: bad }),
        (error: Error) => error instanceof TypeError && /'tls\.cert'/.test(error.message),
      );
      await assert.rejects(
        backend.createSslOverTcpListeners("127.0.0.1", port, 16, { ...SERVER_TLS, key: bad }),
        (error: Error) => error instanceof TypeError && /'tls\.key'/.test(error.message),
      );
      await assert.rejects(
        backend.createSslOverTcpListeners("127.0.0.1", port, 16, { ...SERVER_TLS, caCerts: [bad] }),
        (error: Error) => error instanceof TypeError && /'tls\.caCerts\[0\]'/.test(error.message),
      );
      await assert.rejects(
        backend.createSslOverTcpConnection("127.0.0.1", port, { caCerts: [CLIENT_TLS.caCerts![0], bad] }),
        (error: Error) => error instanceof TypeError && /'tls\.caCerts\[1\]'/.test(error.message),
      );
      await assert.rejects(
        backend.createSslOverTcpConnection("127.0.0.1", port, { ...CLIENT_TLS, cert: bad, key: SERVER_TLS.key }),
        (error: Error) => error instanceof TypeError && /'tls\.cert'/.test(error.message),
      );
      // Nothing was left listening: the port binds again.
      const again = await backend.createTcpListeners("127.0.0.1", port, 16);
      for (const listener of again) await listener.aclose();
      // Server STARTTLS refuses before it takes the plain connection, which stays usable.
      const upgrade = serverStartTls(backend);
      if (upgrade !== undefined) {
        await withServer(backend, async (plain) => {
          await assert.rejects(
            upgrade.wrapSslOverTcpServerSocket(plain, { ...SERVER_TLS, key: bad }),
            (error: Error) => error instanceof TypeError && /'tls\.key'/.test(error.message),
          );
          await plain.sendall(utf8("OK\n"));
        }, async (port) => {
          const plain = await backend.createTcpConnection("127.0.0.1", port);
          try {
            assert.equal(text(await recvExactly(plain, 3)), "OK\n");
          } finally {
            await plain.aclose();
          }
        });
      }
    });
  }, options);

  test(`${name}: starttls upgrades a plain connection on both sides`, async () => {
    const backend = create();
    const upgrade = serverStartTls(backend)!;
    await backend.bootstrap(async () => {
      await withServer(backend, async (plain) => {
        assert.equal(text(await recvExactly(plain, 9)), "STARTTLS\n");
        await plain.sendall(utf8("GO\n"));
        const secure = await upgrade.wrapSslOverTcpServerSocket(plain, SERVER_TLS, { sslHandshakeTimeout: 10_000 });
        try {
          await echo(secure);
        } finally {
          await secure.aclose();
        }
      }, async (port) => {
        const plain = await backend.createTcpConnection("127.0.0.1", port);
        try {
          await plain.sendall(utf8("STARTTLS\n"));
          assert.equal(text(await recvExactly(plain, 3)), "GO\n");
          const secure = await backend.wrapSslOverTcpClientSocket(plain, CLIENT_TLS, { serverHostname: "localhost" });
          try {
            const data = pattern(200_000, 3);
            assert.deepEqual(await echoThrough(backend, secure, data), data);
          } finally {
            await secure.aclose();
          }
        } finally {
          await plain.aclose();
        }
      });
    });
  }, serverStartTls(create()) === undefined ? netOptions(name, "no server-side STARTTLS on this backend") : options);
}
