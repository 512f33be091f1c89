/**
 * Contract tests: buffered reads (`receiveExactly`, `receiveUntil`), async
 * iteration, Web Streams and async-iterable `sendallFromiter` on TCP and TLS
 * streams; iteration over listeners and datagram sockets.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { AsyncHalfCloseableStreamSocketAdapter, AsyncStreamSocketAdapter } from "../../backend/abc/socket.ts";
import { CancelledError, DelimiterNotFound, IncompleteReadError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { yieldTimes, yieldUntil } from "./core_util.ts";
import { CLIENT_TLS, concat, netOptions, pattern, portOf, SERVER_TLS, text, utf8, withServer } from "./net_util.ts";

type Kind = "tcp" | "tls";

/** Runs `server` on the accepted side and `client` on a connection to it, over TCP or TLS. */
function withPair(
  backend: AsyncBackend,
  kind: Kind,
  server: (stream: AsyncHalfCloseableStreamSocketAdapter) => Promise<void>,
  client: (stream: AsyncHalfCloseableStreamSocketAdapter) => Promise<void>,
): Promise<void> {
  return withServer(backend, (stream) => server(stream as AsyncHalfCloseableStreamSocketAdapter), async (port) => {
    const stream = kind === "tcp"
      ? await backend.createTcpConnection("127.0.0.1", port)
      : await backend.createSslOverTcpConnection("localhost", port, CLIENT_TLS);
    try {
      await client(stream as AsyncHalfCloseableStreamSocketAdapter);
    } finally {
      await stream.aclose();
    }
  }, kind === "tls" ? SERVER_TLS : undefined);
}

/** Sends `pieces` one by one, with loop turns in between so that they tend to arrive apart, then ends. */
async function sendPieces(
  backend: AsyncBackend,
  stream: AsyncHalfCloseableStreamSocketAdapter,
  pieces: (string | Uint8Array)[],
  turns = 5,
): Promise<void> {
  for (const piece of pieces) {
    await stream.sendall(typeof piece === "string" ? utf8(piece) : piece);
    await yieldTimes(backend, turns);
  }
  await stream.sendEof();
}

/** A small deterministic PRNG (xorshift32), so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 0x1_0000_0000;
  };
}

/** Compares bytes, reporting the first difference (a diff of large arrays would take minutes). */
function assertSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  const length = Math.min(actual.length, expected.length);
  for (let i = 0; i < length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`byte ${i} differs: ${actual[i]} instead of ${expected[i]}`);
  }
  assert.equal(actual.length, expected.length, "lengths differ");
}

function incomplete(partial: string, expected: number | null) {
  return (error: unknown): true => {
    assert.ok(error instanceof IncompleteReadError, `expected an IncompleteReadError, got ${String(error)}`);
    assert.equal(text(error.partial), partial);
    assert.equal(error.expected, expected);
    return true;
  };
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  const options = netOptions(name);

  for (const kind of ["tcp", "tls"] as const) {
    test(`${name}: ${kind} receiveUntil finds a delimiter split across segments, then reports the end`, async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        await withPair(
          backend,
          kind,
          (server) => sendPieces(backend, server, ["alp", "ha\r", "\nbeta\r\n\r", "\ngam", "ma"]),
          async (client) => {
            assert.equal(text(await client.receiveUntil("\r\n")), "alpha");
            assert.equal(text(await client.receiveUntil(utf8("\r\n"), 4)), "beta");
            assert.equal((await client.receiveUntil("\r\n", 0)).length, 0, "an empty line");
            await assert.rejects(client.receiveUntil("\r\n"), incomplete("gamma", null));
            assert.equal((await client.recv(10)).length, 0, "the partial bytes were consumed");
            await assert.rejects(client.receiveUntil("\n"), incomplete("", null));
            await assert.rejects(client.receiveExactly(1), incomplete("", 1));
          },
        );
      });
    }, options);

    test(`${name}: ${kind} receiveExactly, receiveUntil and recv interleave byte-exactly`, async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        const data = pattern(300_000, 3);
        const pieces = [data.subarray(0, 1000), data.subarray(1000, 150_000), data.subarray(150_000)];
        await withPair(backend, kind, (server) => sendPieces(backend, server, pieces), async (client) => {
          const got: Uint8Array[] = [];
          got.push(await client.receiveExactly(10));
          got.push(await client.recv(7));
          got.push(await client.receiveExactly(0));
          got.push(await client.receiveExactly(200_000));
          const byte = data[200_000 + got[1].length + 10 + 5];
          // Up to (and through) the next occurrence of `byte`: the delimiter is consumed, so add it back.
          got.push(await client.receiveUntil(new Uint8Array([byte]), 1_000_000), new Uint8Array([byte]));
          const into = new Uint8Array(3);
          got.push(into.subarray(0, await client.recvInto(into)));
          const rest = data.length - got.reduce((sum, chunk) => sum + chunk.length, 0);
          await assert.rejects(client.receiveExactly(rest + 1), (error: unknown) => {
            assert.ok(error instanceof IncompleteReadError);
            assert.equal(error.partial.length, rest);
            got.push(error.partial);
            return true;
          });
          assertSameBytes(concat(got), data);
        });
      });
    }, options);

    test(`${name}: ${kind} receiveUntil rejects with DelimiterNotFound past maxBytes and keeps the bytes`, async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        await withPair(
          backend,
          kind,
          (server) => sendPieces(backend, server, ["x".repeat(100), "\nabc\nlast"]),
          async (client) => {
            await assert.rejects(client.receiveUntil("\n", 10), (error: unknown) => {
              assert.ok(error instanceof DelimiterNotFound);
              assert.equal(error.maxBytes, 10);
              return true;
            });
            await assert.rejects(client.receiveUntil("\n", 99), DelimiterNotFound);
            assert.equal(text(await client.receiveUntil("\n", 100)), "x".repeat(100));
            assert.equal(text(await client.receiveUntil("\n", 3)), "abc", "a delimiter right at maxBytes counts");
            await assert.rejects(client.receiveUntil("\n", 2), DelimiterNotFound);
            assert.equal(text(await client.receiveExactly(4)), "last");
          },
        );
      });
    }, options);

    test(`${name}: ${kind} cancelled receiveUntil and receiveExactly lose no byte`, async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ${"#".repeat(i % 37)}`);
        const wire = utf8(lines.map((line) => line + "\n").join(""));
        const next = random(1234);
        const pieces: Uint8Array[] = [];
        for (let at = 0; at < wire.length;) {
          const size = 1 + Math.floor(next() * 60);
          pieces.push(wire.subarray(at, at + size));
          at += size;
        }
        // The server sends a piece when the client asks: a call that waits for the rest of a
        // line is cancelled with part of it buffered, every time a piece ends inside a line.
        let requested = 1;
        await withPair(backend, kind, async (server) => {
          for (let sent = 0; sent < pieces.length; sent++) {
            await yieldUntil(backend, () => requested > sent, "the client's request");
            await server.sendall(pieces[sent]);
          }
          await server.sendEof();
        }, async (client) => {
          const got: string[] = [];
          let cancels = 0;
          while (got.length < lines.length) {
            const useExactly = next() < 0.3;
            const expected = lines[got.length];
            // Set when the receive returned, even if the cancel came after (leaving the group rejects then).
            let line: string | undefined;
            await backend.moveOnAfter(Infinity, async (handle) => {
              await backend.createTaskGroup(async (tg) => {
                tg.startSoon(async () => {
                  // Long enough for a requested piece to arrive, on loopback.
                  await yieldTimes(backend, 60);
                  handle.cancel();
                });
                line = useExactly
                  ? text(await client.receiveExactly(utf8(expected).length + 1))
                  : text(await client.receiveUntil("\n")) + "\n";
                tg.cancelScope.cancel();
              });
            });
            if (line === undefined) {
              cancels++;
              requested++;
              continue;
            }
            assert.equal(line, expected + "\n");
            got.push(expected);
          }
          assert.ok(cancels >= 50, `only ${cancels} calls were cancelled`);
          requested = Infinity;
          assert.equal((await client.recv(1)).length, 0);
          // A call in a cancelled scope rejects at once, buffered bytes or not.
          await backend.moveOnAfter(Infinity, async (handle) => {
            handle.cancel();
            await assert.rejects(client.receiveUntil("\n"), CancelledError);
            await assert.rejects(client.receiveExactly(0), CancelledError);
          });
        });
      });
    }, options);

    test(`${name}: ${kind} a Web Stream reader and recv interleave byte-exactly`, async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        const data = pattern(200_000, 9);
        const pieces = [data.subarray(0, 70_000), data.subarray(70_000, 140_000), data.subarray(140_000)];
        await withPair(backend, kind, (server) => sendPieces(backend, server, pieces), async (client) => {
          const got: Uint8Array[] = [];
          assert.equal(client.readable, client.readable, "the same stream each time");
          got.push(await client.receiveExactly(5));
          let reader = client.readable.getReader();
          const first = await reader.read();
          assert.ok(!first.done && first.value.length > 0);
          got.push(first.value);
          reader.releaseLock();
          got.push(await client.receiveUntil(new Uint8Array([data[90_000]]), 1_000_000));
          got.push(new Uint8Array([data[90_000]]));
          const byob = client.readable.getReader({ mode: "byob" });
          const view = await byob.read(new Uint8Array(1000));
          assert.ok(!view.done && view.value !== undefined);
          got.push(view.value);
          byob.releaseLock();
          got.push(await client.recv(100));
          reader = client.readable.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            got.push(value);
          }
          assertSameBytes(concat(got), data);
          assert.equal((await client.recv(10)).length, 0);
        });
      });
    }, options);

    test(`${name}: ${kind} cancelling the readable takes no byte; the writable sends and half-closes`, async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        const go = backend.createEvent();
        await withPair(backend, kind, async (server) => {
          await go.wait();
          const writer = server.writable.getWriter();
          await writer.write(utf8("hello "));
          await writer.write(utf8("web"));
          await writer.close();
          await assert.rejects(
            server.sendall(utf8("late")),
            (error: unknown) => (error as { code?: string }).code === "EPIPE",
          );
        }, async (client) => {
          const reader = client.readable.getReader();
          const pending = reader.read();
          await yieldTimes(backend, 3);
          await reader.cancel();
          assert.deepEqual(await pending, { done: true, value: undefined });
          go.set();
          const chunks: Uint8Array[] = [];
          for await (const chunk of client) chunks.push(chunk);
          assert.equal(text(concat(chunks)), "hello web");
        });
      });
    }, options);

    test(`${name}: ${kind} for-await over a stream, async-iterable sendallFromiter`, async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        const data = pattern(100_000, 5);
        async function* produce(): AsyncGenerator<Uint8Array> {
          for (let at = 0; at < data.length; at += 7000) {
            await backend.coroYield();
            yield data.subarray(at, at + 7000);
          }
        }
        await withPair(backend, kind, async (server) => {
          await server.sendallFromiter(produce());
          await server.sendallFromiter((async function* () {})());
          await server.sendEof();
        }, async (client) => {
          const chunks: Uint8Array[] = [];
          for await (const chunk of client) {
            assert.ok(chunk.length > 0);
            chunks.push(chunk);
          }
          assertSameBytes(concat(chunks), data);
        });
      });
    }, options);
  }

  test(`${name}: for-await over a listener yields what accept() returns`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 16);
      try {
        await backend.createTaskGroup(async (tg) => {
          tg.startSoon(async () => {
            for (let i = 0; i < 3; i++) {
              const stream = await backend.createTcpConnection("127.0.0.1", portOf(listener));
              await stream.sendall(utf8(`client ${i}`));
              await stream.aclose();
            }
          });
          let count = 0;
          for await (const accepted of listener) {
            const stream = await accepted.connect();
            assert.equal(text(await stream.receiveExactly(8)), `client ${count}`);
            await stream.aclose();
            if (++count === 3) break;
          }
        });
        await assert.rejects(
          (async () => {
            await listener.aclose();
            for await (const _ of listener) assert.fail("a closed listener yielded");
          })(),
          (error: unknown) => (error as Error).name === "ClosedResourceError",
        );
      } finally {
        await listener.aclose();
      }
    });
  }, options);

  test(`${name}: for-await over a datagram socket yields data and sender`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const loopback = { hostname: "127.0.0.1", port: 0 };
      const a = await backend.createUdpEndpoint({ localAddress: loopback });
      const b = await backend.createUdpEndpoint({ localAddress: loopback });
      try {
        for (let i = 0; i < 3; i++) await a.sendto(utf8(`datagram ${i}`), b.getLocalAddress());
        const got: string[] = [];
        for await (const [data, sender] of b) {
          assert.deepEqual(sender, a.getLocalAddress());
          got.push(text(data));
          if (got.length === 3) break;
        }
        assert.deepEqual(got, ["datagram 0", "datagram 1", "datagram 2"]);
      } finally {
        await a.aclose();
        await b.aclose();
      }
    });
  }, options);

  test(`${name}: buffered reads and iterables reject bad arguments naming them`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await withPair(backend, "tcp", (server) => server.sendEof(), async (client) => {
        const stream: AsyncStreamSocketAdapter = client;
        const named = (cls: typeof TypeError, argument: string) => (error: unknown) => {
          assert.ok(error instanceof cls, `expected a ${cls.name}, got ${String(error)}`);
          assert.match((error as Error).message, new RegExp(`'${argument}'`));
          return true;
        };
        await assert.rejects(stream.receiveExactly(-1), named(RangeError, "n"));
        await assert.rejects(stream.receiveExactly(1.5), named(RangeError, "n"));
        await assert.rejects(stream.receiveExactly("4" as unknown as number), named(TypeError, "n"));
        await assert.rejects(stream.receiveUntil(""), named(RangeError, "delimiter"));
        await assert.rejects(stream.receiveUntil(new Uint8Array(0)), named(RangeError, "delimiter"));
        await assert.rejects(stream.receiveUntil(10 as unknown as string), named(TypeError, "delimiter"));
        await assert.rejects(stream.receiveUntil("\n", -1), named(RangeError, "maxBytes"));
        await assert.rejects(stream.receiveUntil("\n", NaN), named(RangeError, "maxBytes"));
        await assert.rejects(stream.receiveUntil("\n", Infinity), named(RangeError, "maxBytes"));
        await assert.rejects(stream.sendallFromiter(42 as unknown as Iterable<Uint8Array>), named(TypeError, "chunks"));
        await assert.rejects(
          stream.sendallFromiter((async function* () {
            yield "text" as unknown as Uint8Array;
          })()),
          named(TypeError, "chunks\\[0\\]"),
        );
        await assert.rejects(
          stream.writable.getWriter().write("text" as unknown as Uint8Array),
          named(TypeError, "chunk"),
        );
      });
    });
  }, options);
}
