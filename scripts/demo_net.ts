/**
 * The networking part of the tour (`deno task demo`): a TCP echo server and a
 * TLS echo server built on listeners, talked to through the client methods.
 * Ports are ephemeral, so they are not printed: the output stays the same.
 *
 * @module
 */

import type { AsyncBackend, AsyncListenerSocketAdapter, AsyncStreamSocketAdapter } from "../backend/mod.ts";
import type { DemoSection } from "./demo.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fixture(name: string): string {
  return Deno.readTextFileSync(new URL(`../tests/fixtures/tls/${name}`, import.meta.url));
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}("${error.message}")` : String(error);
}

/** Serves `listener` until cancelled: each client is echoed line by line, in its own task. */
async function serveEcho(
  backend: AsyncBackend,
  listener: AsyncListenerSocketAdapter,
  say: (line: string) => void,
  onSetupFailure: (error: unknown) => void = (error) => say(`server: a client failed its setup: ${describe(error)}`),
  onClientGone: () => void = () => {},
): Promise<void> {
  await backend.createTaskGroup(async (tg) => {
    for (let client = 1;; client++) {
      const accepted = await listener.accept();
      tg.startSoon(async () => {
        let stream: AsyncStreamSocketAdapter;
        try {
          stream = await accepted.connect();
        } catch (error) {
          onSetupFailure(error);
          return;
        }
        try {
          for (;;) {
            const data = await stream.recv(1024);
            if (data.length === 0) break;
            say(`server: client ${client} sent ${JSON.stringify(decoder.decode(data))}, echoing it`);
            await stream.sendall(data);
          }
          say(`server: client ${client} sent end of stream, closing`);
        } finally {
          await stream.aclose();
        }
        onClientGone();
      });
    }
  });
}

/** Sends `lines` one by one, prints each echo. */
async function talk(stream: AsyncStreamSocketAdapter, lines: string[], say: (line: string) => void): Promise<void> {
  for (const line of lines) {
    await stream.sendall(encoder.encode(line));
    let echoed = "";
    while (echoed.length < line.length) echoed += decoder.decode(await stream.recv(1024));
    say(`client: got back ${JSON.stringify(echoed)}`);
  }
}

/** A TCP echo server on 127.0.0.1 and a client that uses half-close. */
export const tcpEcho: DemoSection = {
  title: "TCP: an echo server on a listener, a client with createTcpConnection",
  async run(backend, say) {
    const listeners = await backend.createTcpListeners("127.0.0.1", 0, 16);
    const [listener] = listeners;
    say(`listening on ${listeners.length} listener(s), 127.0.0.1 and an ephemeral port`);
    try {
      await backend.moveOnAfter(Infinity, async (handle) => {
        await backend.createTaskGroup(async (tg) => {
          tg.startSoon(() => serveEcho(backend, listener, say));
          const stream = await backend.createTcpConnection("127.0.0.1", listener.getLocalAddress().port);
          try {
            await talk(stream, ["hello", "structured concurrency"], say);
            await stream.sendEof();
            say(`client: sent end of stream; recv now returns ${(await stream.recv(10)).length} bytes (EOF)`);
          } finally {
            await stream.aclose();
          }
          try {
            await stream.recv(10);
          } catch (error) {
            say(`client: recv after aclose() rejects with ${describe(error)}`);
          }
          handle.cancel(); // stops the server
        });
      });
    } finally {
      await listener.aclose();
    }
    say("server stopped, listener closed");
  },
};

/** A TLS echo server with the test certificate, a verified client and a rejected one. */
export const tlsEcho: DemoSection = {
  title: "TLS: an echo server with a test certificate; a verified client, then one without the CA",
  async run(backend, say) {
    const [listener] = await backend.createSslOverTcpListeners("127.0.0.1", 0, 16, {
      cert: fixture("server.pem"),
      key: fixture("server.key"),
    });
    const port = listener.getLocalAddress().port;
    say("TLS listener on 127.0.0.1 (certificate for localhost, signed by the test CA)");
    try {
      await backend.moveOnAfter(Infinity, async (handle) => {
        await backend.createTaskGroup(async (tg) => {
          const setupFailed = backend.createEvent();
          const firstGone = backend.createEvent();
          let serverError: unknown;
          tg.startSoon(() =>
            serveEcho(backend, listener, say, (error) => {
              serverError = error;
              setupFailed.set();
            }, () => firstGone.set())
          );
          const stream = await backend.createSslOverTcpConnection("localhost", port, { caCerts: [fixture("ca.pem")] });
          try {
            say("client: handshake done, certificate and host name verified");
            await talk(stream, ["secret"], say);
          } finally {
            await stream.aclose();
          }
          await firstGone.wait();
          try {
            const unverified = await backend.createSslOverTcpConnection("localhost", port, {});
            await unverified.aclose();
            say("client without the CA: connected (unexpected)");
          } catch (error) {
            say(`client without the CA: refused, ${describe(error)}`);
          }
          await setupFailed.wait();
          say(`server: that client's handshake failed too: ${describe(serverError)}`);
          handle.cancel();
        });
      });
    } finally {
      await listener.aclose();
    }
    say("server stopped, listener closed");
  },
};
