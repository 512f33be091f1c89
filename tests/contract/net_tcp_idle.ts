/**
 * Contract tests: TCP connections that stay idle (no receive, no send) before
 * their first call. An idle adapter holds as little as it can, so what
 * happened meanwhile must be seen by that first call: the peer's end of
 * stream, its reset, its bytes, a socket error; the addresses must still be
 * the connection's; and closing an idle connection must release everything.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect as netConnect, type Socket } from "node:net";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { AsyncHalfCloseableStreamSocketAdapter } from "../../backend/abc/socket.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { netOptions, portOf, recvAll, sendUntilFailure, text, utf8, withCode } from "./net_util.ts";

/** A connected pair, both ends idle: `accepted` from the listener, `connected` from `createTcpConnection`. */
async function idlePair(backend: AsyncBackend): Promise<{
  accepted: AsyncHalfCloseableStreamSocketAdapter;
  connected: AsyncHalfCloseableStreamSocketAdapter;
  close(): Promise<void>;
}> {
  const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 16);
  const connected = await backend.createTcpConnection("127.0.0.1", portOf(listener));
  const accepted = await (await listener.accept()).connect() as AsyncHalfCloseableStreamSocketAdapter;
  return {
    accepted,
    connected,
    async close() {
      await accepted.aclose();
      await connected.aclose();
      await listener.aclose();
    },
  };
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  const options = netOptions(name);

  test(`${name}: tcp an idle connection sees its peer's close at its first recv, either end`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      for (const closing of ["connected", "accepted"] as const) {
        const pair = await idlePair(backend);
        try {
          const idle = closing === "connected" ? pair.accepted : pair.connected;
          await pair[closing].aclose(); // never received nor sent
          await backend.sleep(0.05);
          assert.equal(await idle.recvInto(new Uint8Array(8)), 0, `${closing} closed: end of stream`);
          assert.equal((await idle.recv(8)).length, 0, "end of stream is repeated");
        } finally {
          await pair.close();
        }
      }
    });
  }, options);

  test(`${name}: tcp bytes sent to an idle connection, then the close, wait for its first recv`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const pair = await idlePair(backend);
      try {
        await pair.connected.sendall(utf8("sent while idle"));
        await pair.connected.aclose();
        await backend.sleep(0.05);
        assert.equal(text(await recvAll(pair.accepted)), "sent while idle");
      } finally {
        await pair.close();
      }
    });
  }, options);

  test(`${name}: tcp the first send after the peer closed fails with EPIPE or ECONNRESET`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const pair = await idlePair(backend);
      try {
        await pair.connected.aclose();
        await backend.sleep(0.05);
        const failure = await sendUntilFailure(pair.accepted);
        assert.ok(failure !== undefined, "sending to a closed peer never failed");
        withCode("EPIPE", "ECONNRESET")(failure);
        // The receive side settles too: end of stream, or the reset.
        await backend.timeout(5, async () => {
          try {
            assert.equal((await pair.accepted.recv(8)).length, 0);
          } catch (error) {
            withCode("EPIPE", "ECONNRESET")(error);
          }
        });
      } finally {
        await pair.close();
      }
    });
  }, options);

  test(`${name}: tcp a reset of an idle connection fails its first recv with ECONNRESET`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 16);
      let peer: Socket | undefined;
      try {
        peer = await new Promise<Socket>((resolve, reject) => {
          const socket = netConnect({ host: "127.0.0.1", port: portOf(listener) }, () => resolve(socket));
          socket.once("error", reject);
        });
        peer.on("error", () => {});
        const peerPort = peer.localPort;
        const stream = await (await listener.accept()).connect();
        try {
          const closed = new Promise((resolve) => peer!.once("close", resolve));
          peer.resetAndDestroy();
          await closed;
          await backend.sleep(0.05);
          await backend.timeout(5, async () => {
            await assert.rejects(stream.recv(8), withCode("ECONNRESET"));
          });
          // The addresses, never asked for while idle, are still the connection's (Node drops its handle).
          assert.equal(stream.getLocalAddress().port, portOf(listener));
          assert.equal(stream.getRemoteAddress().port, peerPort);
        } finally {
          await stream.aclose();
        }
      } finally {
        peer?.destroy();
        await listener.aclose();
      }
    });
  }, options);

  test(`${name}: tcp closing idle connections releases them; the peer sees end of stream`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const pair = await idlePair(backend);
      try {
        const raw = pair.accepted.socket() as Partial<Socket>;
        const port = pair.connected.getLocalAddress().port;
        await pair.accepted.aclose(); // never received nor sent
        assert.equal(pair.accepted.getRemoteAddress().port, port, "addresses first read after close");
        assert.equal(await pair.connected.recvInto(new Uint8Array(8)), 0);
        if (typeof raw.destroy === "function") assert.equal(raw.destroyed, true);
      } finally {
        await pair.close();
      }
      // Closed without any call on either end (the sanitizers see what stays open).
      const idle = await idlePair(backend);
      await idle.close();
    });
  }, options);

  test(
    `${name}: tcp an error on an idle Node socket does not crash; the first recv and send fail with it`,
    async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        const pair = await idlePair(backend);
        try {
          for (const stream of [pair.accepted, pair.connected]) {
            const raw = stream.socket() as Partial<Socket>;
            if (typeof raw.destroy !== "function") return; // a Deno connection: no error events
            raw.destroy(Object.assign(new Error("injected"), { code: "ECONNRESET" }));
            await backend.sleep(0.01);
            await assert.rejects(stream.recv(8), withCode("ECONNRESET"));
            await assert.rejects(stream.sendall(utf8("x")), withCode("ECONNRESET"));
          }
        } finally {
          await pair.close();
        }
      });
    },
    options,
  );
}
