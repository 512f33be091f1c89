/**
 * Contract tests: peer faults on TCP streams, each a named test. The faulty peer
 * is a raw `node:net` socket (both runtimes have it), so the fault comes from
 * outside the library: a reset mid-stream, a send into a reset peer, a
 * half-close followed by more sends, a silent peer under `timeout()`, and
 * `aclose()` during a `sendall` blocked by a peer that does not read.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { ClosedResourceError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { domException } from "./core_util.ts";
import { bounded, caught, destroyed, rawClient, rawServer } from "./faults_util.ts";
import { netOptions, pattern, recvAll, recvExactly, text, utf8, withCode, withServer } from "./net_util.ts";

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  const options = netOptions(name);

  test(`${name}: fault: a peer reset mid-stream rejects recv with ECONNRESET, then sendall too`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const server = await rawServer((socket) => {
        // Some bytes, then, once we spoke (a reset before that may fail the connect itself), a reset
        // (SO_LINGER 0), no FIN. (Node 20 sends a FIN if resetAndDestroy() is called in a write callback.)
        socket.write(pattern(1000));
        socket.once("data", () => socket.resetAndDestroy());
      });
      try {
        const stream = await backend.createTcpConnection("127.0.0.1", server.port);
        try {
          await bounded(backend, 5000, "recv after a reset", async () => {
            await stream.sendall(utf8("go"));
            // The bytes before the reset may arrive or be dropped by the kernel; the reset must surface.
            let got = 0;
            const error = await caught(async () => {
              for (;;) {
                const chunk = await stream.recv(65536);
                assert.ok(chunk.length > 0, `end of stream instead of a reset after ${got} bytes`);
                got += chunk.length;
                assert.ok(got <= 1000, "more bytes than were sent");
              }
            }, "recv from a reset peer");
            withCode("ECONNRESET")(error);
            assert.ok(error instanceof Error, "the reset is an Error");
            // Send into the reset peer: a named error too, never a hang or a success forever.
            const sendError = await caught(async () => {
              for (let i = 0; i < 100; i++) await stream.sendall(pattern(64 * 1024));
            }, "sendall into a reset peer");
            withCode("EPIPE", "ECONNRESET")(sendError);
          });
        } finally {
          await stream.aclose();
        }
        await assert.rejects(stream.recv(1), ClosedResourceError);
      } finally {
        await server.close();
      }
    });
  }, options);

  test(`${name}: fault: a send into a peer that reset before it sent a byte carries EPIPE or ECONNRESET`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      // The peer resets as soon as our first byte arrives (a reset at accept fails the connect itself).
      const server = await rawServer((socket) => socket.once("data", () => socket.resetAndDestroy()));
      try {
        const stream = await backend.createTcpConnection("127.0.0.1", server.port);
        try {
          await bounded(backend, 5000, "sendall into a reset peer", async () => {
            await stream.sendall(utf8("x"));
            const error = await caught(async () => {
              for (let i = 0; i < 100; i++) await stream.sendall(pattern(64 * 1024));
            }, "sendall into a reset peer");
            withCode("EPIPE", "ECONNRESET")(error);
            // The stream stays usable for what is left: the read side reports the reset or EOF, no hang.
            const next = await caught(async () => {
              const chunk = await stream.recv(10);
              if (chunk.length === 0) throw Object.assign(new Error("end of stream"), { code: "EOF" });
            }, "recv after the failed send");
            withCode("ECONNRESET", "EPIPE", "EOF")(next);
          });
        } finally {
          await stream.aclose();
        }
      } finally {
        await server.close();
      }
    });
  }, options);

  test(`${name}: fault: after sendEof, sendall rejects EPIPE and the peer's data still arrives`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const peerGot: Uint8Array[] = [];
      let peerEnded = false;
      const server = await rawServer((socket) => {
        socket.on("data", (chunk: Uint8Array) => peerGot.push(chunk));
        // The peer keeps sending after it saw our end of stream, then ends its side.
        socket.on("end", () => {
          peerEnded = true;
          socket.write(utf8("still talking"), () => socket.end());
        });
      });
      try {
        const stream = await backend.createTcpConnection("127.0.0.1", server.port);
        try {
          await bounded(backend, 5000, "half-close exchange", async () => {
            await stream.sendall(utf8("bye"));
            await stream.sendEof();
            for (let i = 0; i < 3; i++) {
              await assert.rejects(stream.sendall(utf8("more")), withCode("EPIPE"));
            }
            await assert.rejects(stream.sendallFromiter([utf8("more")]), withCode("EPIPE"));
            assert.equal(text(await recvAll(stream)), "still talking");
            assert.equal(peerEnded, true);
          });
        } finally {
          await stream.aclose();
        }
        assert.equal(Buffer.concat(peerGot).toString(), "bye", "nothing sent after sendEof reached the peer");
      } finally {
        await server.close();
      }
    });
  }, options);

  test(`${name}: fault: a peer that half-closed still receives what we keep sending`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const data = pattern(256 * 1024, 7);
      await withServer(backend, async (server) => {
        // The server reads to the client's end of stream, then keeps sending.
        assert.equal(text(await recvAll(server)), "request");
        await server.sendall(data);
      }, async (port) => {
        const client = await rawClient(port);
        try {
          const received: Uint8Array[] = [];
          const closed = new Promise<void>((resolve) => client.on("close", () => resolve()));
          client.on("data", (chunk: Uint8Array) => received.push(chunk));
          client.end(utf8("request"));
          await bounded(backend, 5000, "the data after a half-close", () => closed);
          assert.deepEqual(new Uint8Array(Buffer.concat(received)), data);
        } finally {
          await destroyed(client);
        }
      });
    });
  }, options);

  test(`${name}: fault: a silent peer under timeout(): TimeoutError, nothing lost, closed cleanly`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const speak = backend.createEvent();
      const done = backend.createEvent();
      await withServer(backend, async (server) => {
        await speak.wait();
        await server.sendall(utf8("late"));
        await done.wait(); // silent again, and reads nothing
      }, async (port) => {
        const stream = await backend.createTcpConnection("127.0.0.1", port);
        try {
          const start = backend.currentTime();
          await assert.rejects(backend.timeout(50, () => stream.recv(10)), domException("TimeoutError"));
          const waited = backend.currentTime() - start;
          assert.ok(waited >= 49 && waited < 5000, `the timeout fired after ${waited} ms`);
          // The timed-out recv took nothing: the late bytes go to the next call.
          speak.set();
          assert.equal(
            text(await bounded(backend, 5000, "recv after a timeout", () => recvExactly(stream, 4))),
            "late",
          );
          // A sendall to a silent peer under a timeout: the same error, and the socket still closes.
          await assert.rejects(
            backend.timeout(50, async () => {
              for (;;) await stream.sendall(pattern(1024 * 1024));
            }),
            domException("TimeoutError"),
          );
        } finally {
          await stream.aclose();
          done.set();
        }
        assert.equal(stream.isClosing(), true);
        await assert.rejects(stream.recv(1), ClosedResourceError);
      });
    });
  }, options);

  test(`${name}: fault: aclose() during a sendall blocked on a peer that does not read wakes it at once`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const server = await rawServer((socket) => socket.pause());
      try {
        const stream = await backend.createTcpConnection("127.0.0.1", server.port);
        try {
          let state: string = "idle";
          let woke = -1;
          await bounded(backend, 10_000, "a sendall woken by aclose", () =>
            backend.createTaskGroup(async (tg) => {
              tg.startSoon(async () => {
                state = "sending";
                await assert.rejects(stream.sendall(new Uint8Array(50 * 1024 * 1024)), ClosedResourceError);
                woke = backend.currentTime();
                state = "woken";
              });
              // Let the send fill the socket buffers and block.
              await backend.sleep(100);
              assert.equal(state, "sending", "50 MiB fit into a peer that does not read");
              const closedAt = backend.currentTime();
              await stream.aclose();
              const now = (): string => state;
              for (let i = 0; i < 100 && now() !== "woken"; i++) await backend.coroYield();
              assert.equal(now(), "woken", "aclose() did not wake the blocked sendall within 100 yields");
              assert.ok(woke - closedAt < 1000, `the sendall woke ${woke - closedAt} ms after aclose()`);
            }));
          await assert.rejects(stream.sendall(utf8("x")), ClosedResourceError);
        } finally {
          await stream.aclose();
        }
      } finally {
        await server.close();
      }
    });
  }, options);
}
