/**
 * Contract tests: TCP streams (echo, half-close, cancellation, close, busy, errors, arguments).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncHalfCloseableStreamSocketAdapter } from "../../backend/abc/socket.ts";
import { BusyResourceError, CancelledError, ClosedResourceError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { yieldUntil } from "./core_util.ts";
import {
  concat,
  echo,
  netOptions,
  pattern,
  portOf,
  recvAll,
  recvExactly,
  sendUntilFailure,
  text,
  utf8,
  withCode,
  withServer,
} from "./net_util.ts";

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  const options = netOptions(name);

  test(`${name}: tcp echoes 1 MiB in both directions`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await withServer(backend, echo, async (port) => {
        const stream = await backend.createTcpConnection("127.0.0.1", port);
        try {
          const data = pattern(1024 * 1024);
          let received: Uint8Array = new Uint8Array(0);
          await backend.createTaskGroup(async (tg) => {
            tg.startSoon(async () => {
              received = await recvAll(stream);
            });
            await stream.sendall(data);
            await stream.sendEof();
          });
          assert.equal(received.length, data.length);
          assert.deepEqual(received, data);
        } finally {
          await stream.aclose();
        }
      });
    });
  }, options);

  test(`${name}: tcp half-close lets the peer answer after end of stream`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await withServer(backend, async (server) => {
        const request = await recvAll(server);
        assert.equal((await server.recv(10)).length, 0, "end of stream is repeated");
        await server.sendall(utf8(`got ${text(request)}`));
      }, async (port) => {
        const stream = await backend.createTcpConnection("127.0.0.1", port);
        try {
          await stream.sendall(utf8("question"));
          await stream.sendEof();
          await stream.sendEof(); // idempotent
          assert.equal(text(await recvAll(stream)), "got question");
          for (let i = 0; i < 3; i++) assert.equal((await stream.recv(10)).length, 0);
        } finally {
          await stream.aclose();
        }
      });
    });
  }, options);

  test(`${name}: tcp sendallFromiter sends every chunk in order`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await withServer(backend, echo, async (port) => {
        const stream = await backend.createTcpConnection("127.0.0.1", port);
        try {
          const chunks = [pattern(10, 1), pattern(70_000, 2), new Uint8Array(0), pattern(5, 3)];
          await stream.sendallFromiter(chunks);
          await stream.sendEof();
          assert.deepEqual(await recvAll(stream), concat(chunks));
        } finally {
          await stream.aclose();
        }
      });
    });
  }, options);

  test(`${name}: tcp cancelled recv loses no bytes`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const release = backend.createEvent();
      await withServer(backend, async (server) => {
        await release.wait();
        await server.sendall(utf8("0123456789"));
        await (server as AsyncHalfCloseableStreamSocketAdapter).sendEof();
      }, async (port) => {
        const stream = await backend.createTcpConnection("127.0.0.1", port);
        try {
          // A recv that is waiting when its scope is cancelled...
          const outcome = await backend.moveOnAfter(Infinity, async (handle) => {
            await backend.createTaskGroup(async (tg) => {
              tg.startSoon(async () => {
                await backend.coroYield();
                handle.cancel();
              });
              await stream.recv(1024);
            });
            return "received";
          });
          assert.equal(outcome, undefined);
          // ...and one in an already cancelled scope.
          await backend.moveOnAfter(Infinity, async (handle) => {
            handle.cancel();
            await assert.rejects(stream.recv(1024), CancelledError);
          });
          release.set();
          // Bytes arriving after the cancel go to the next recv, split by bufsize.
          assert.equal(text(await stream.recv(4)), "0123");
          assert.equal(text(await recvExactly(stream, 6)), "456789");
          assert.equal((await stream.recv(10)).length, 0);
        } finally {
          await stream.aclose();
        }
      });
    });
  }, options);

  test(
    `${name}: tcp recvInto fills the caller's buffer; a cancelled one neither loses bytes nor writes late`,
    async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        const release = backend.createEvent();
        await withServer(backend, async (server) => {
          await server.sendall(utf8("abc"));
          await release.wait();
          await server.sendall(utf8("0123456789"));
          await (server as AsyncHalfCloseableStreamSocketAdapter).sendEof();
        }, async (port) => {
          const stream = await backend.createTcpConnection("127.0.0.1", port);
          try {
            const buffer = new Uint8Array(8);
            let got = 0;
            while (got < 3) got += await stream.recvInto(buffer.subarray(got));
            assert.equal(text(buffer.subarray(0, 3)), "abc");
            // A recvInto waiting when its scope is cancelled leaves with nothing...
            const mine = new Uint8Array(16).fill(0xee);
            const outcome = await backend.moveOnAfter(Infinity, async (handle) => {
              await backend.createTaskGroup(async (tg) => {
                tg.startSoon(async () => {
                  await backend.coroYield();
                  handle.cancel();
                });
                await stream.recvInto(mine);
              });
              return "received";
            });
            assert.equal(outcome, undefined);
            release.set();
            // ...the bytes that arrive later go to the next call, never into the old buffer.
            const next = new Uint8Array(4);
            assert.equal(await stream.recvInto(next), 4);
            assert.equal(text(next), "0123");
            const rest = await recvAll(stream);
            assert.equal(text(rest), "456789");
            assert.deepEqual(mine, new Uint8Array(16).fill(0xee), "the cancelled call's buffer was written");
            assert.equal(await stream.recvInto(next), 0, "end of stream is 0, repeatedly");
            assert.equal(await stream.recvInto(next), 0);
            await assert.rejects(stream.recvInto(new Uint8Array(0)), RangeError);
            await assert.rejects(stream.recvInto("buffer" as unknown as Uint8Array), TypeError);
          } finally {
            await stream.aclose();
          }
          await assert.rejects(stream.recvInto(new Uint8Array(4)), ClosedResourceError);
        });
      });
    },
    options,
  );

  test(`${name}: tcp a buffer reused once sendall resolved does not change what was sent`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const size = 256 * 1024;
      const rounds = 32;
      let received: Uint8Array = new Uint8Array(0);
      await withServer(backend, async (server) => {
        // A slow reader: the sender's writes queue up in the runtime and the kernel.
        const chunks: Uint8Array[] = [];
        for (;;) {
          await backend.sleep(1);
          const chunk = await server.recv(64 * 1024);
          if (chunk.length === 0) break;
          chunks.push(chunk);
        }
        received = concat(chunks);
      }, async (port) => {
        const stream = await backend.createTcpConnection("127.0.0.1", port);
        try {
          const buffer = new Uint8Array(size);
          for (let round = 0; round < rounds; round++) {
            buffer.fill(round);
            await stream.sendall(buffer);
            buffer.fill(0xff); // the caller owns the buffer again
          }
          await stream.sendEof();
        } finally {
          await stream.aclose();
        }
      });
      assert.equal(received.length, size * rounds);
      for (let round = 0; round < rounds; round++) {
        const part = received.subarray(round * size, (round + 1) * size);
        const wrong = part.findIndex((byte) => byte !== round);
        assert.equal(wrong, -1, `round ${round}: byte ${wrong} is ${part[wrong]}, not ${round}`);
      }
    });
  }, options);

  test(`${name}: tcp a sendall cancelled midway leaves a prefix; the next sendall follows it whole`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const first = pattern(16 * 1024 * 1024, 1);
      const second = pattern(4096, 2).map((byte) => byte | 0x80); // told apart from `first` by its bytes
      const go = backend.createEvent();
      let received: Uint8Array = new Uint8Array(0);
      await withServer(backend, async (server) => {
        await go.wait(); // nobody reads yet: the first sendall blocks
        received = await recvAll(server);
      }, async (port) => {
        const stream = await backend.createTcpConnection("127.0.0.1", port);
        try {
          const outcome = await backend.moveOnAfter(50, async () => {
            await stream.sendall(first);
            return "sent";
          });
          assert.equal(outcome, undefined, "16 MiB went out while the peer read nothing");
          go.set();
          await stream.sendall(second);
          await stream.sendEof();
        } finally {
          await stream.aclose();
        }
      });
      assert.ok(received.length >= second.length, `only ${received.length} bytes arrived`);
      const prefix = received.length - second.length;
      // How much of a cancelled sendall went out is unknown (as in Trio): Deno stops
      // after the write in flight, Node sends all it was handed.
      assert.ok(prefix <= first.length, `${prefix} bytes before the second sendall's`);
      assert.deepEqual(received.subarray(prefix), second, "the second sendall arrived whole, after the first's bytes");
      assert.deepEqual(received.subarray(0, prefix), first.subarray(0, prefix), "the first sendall left a prefix");
    });
  }, options);

  test(`${name}: tcp second concurrent receiver or sender gets BusyResourceError`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await withServer(backend, async (server) => {
        await recvAll(server);
      }, async (port) => {
        const stream = await backend.createTcpConnection("127.0.0.1", port);
        try {
          await backend.createTaskGroup(async (tg) => {
            let firstDone = false;
            const first = tg.startSoon(async () => {
              await assert.rejects(stream.recv(10), ClosedResourceError);
              firstDone = true;
            });
            await backend.coroYield();
            await assert.rejects(stream.recv(10), BusyResourceError);
            // Sending while another task sends: a big write keeps the first sender busy.
            const big = new Uint8Array(64 * 1024 * 1024);
            const sender = tg.startSoon(async () => {
              await assert.rejects(stream.sendall(big), ClosedResourceError);
            });
            await backend.coroYield();
            await assert.rejects(stream.sendall(utf8("x")), BusyResourceError);
            assert.equal(firstDone, false);
            await stream.aclose();
            await first.wait();
            await sender.wait();
          });
        } finally {
          await stream.aclose();
        }
      });
    });
  }, options);

  test(`${name}: tcp calls after aclose reject with ClosedResourceError`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await withServer(backend, async (server) => {
        await recvAll(server);
      }, async (port) => {
        const stream = await backend.createTcpConnection("127.0.0.1", port);
        assert.equal(stream.isClosing(), false);
        await stream.aclose();
        await stream.aclose(); // idempotent
        assert.equal(stream.isClosing(), true);
        await assert.rejects(stream.recv(10), ClosedResourceError);
        await assert.rejects(stream.sendall(utf8("x")), ClosedResourceError);
        await assert.rejects(stream.sendallFromiter([utf8("x")]), ClosedResourceError);
        await assert.rejects(stream.sendEof(), ClosedResourceError);
      });
    });
  }, options);

  test(`${name}: tcp aclose wakes a pending recv with ClosedResourceError`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await withServer(backend, async (server) => {
        await recvAll(server);
      }, async (port) => {
        const stream = await backend.createTcpConnection("127.0.0.1", port);
        let state = "idle";
        await backend.createTaskGroup(async (tg) => {
          tg.startSoon(async () => {
            state = "receiving";
            await assert.rejects(stream.recv(10), ClosedResourceError);
            state = "woken";
          });
          await yieldUntil(backend, () => state === "receiving", "the receiver to start");
          await backend.coroYield();
          await stream.aclose();
        });
        assert.equal(state, "woken");
      });
    });
  }, options);

  test(`${name}: tcp addresses, socket() and wrapTcpClientSocket`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await withServer(backend, async (server) => {
        await echo(server);
      }, async (port) => {
        const first = await backend.createTcpConnection("127.0.0.1", port);
        try {
          assert.deepEqual(first.getRemoteAddress(), { hostname: "127.0.0.1", port });
          assert.equal(first.getLocalAddress().hostname, "127.0.0.1");
          assert.ok(first.getLocalAddress().port > 0);
          assert.ok(first.socket() !== null && typeof first.socket() === "object");
          const wrapped = await backend.wrapTcpClientSocket(first.socket());
          assert.deepEqual(wrapped.getRemoteAddress(), { hostname: "127.0.0.1", port });
          await wrapped.sendall(utf8("wrapped"));
          await wrapped.sendEof();
          assert.equal(text(await recvAll(wrapped)), "wrapped");
          await wrapped.aclose();
        } finally {
          await first.aclose();
        }
      });
    });
  }, options);

  test(`${name}: tcp connects from a local address`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await withServer(backend, async (server) => {
        await echo(server);
      }, async (port) => {
        const stream = await backend.createTcpConnection("127.0.0.1", port, {
          localAddress: { hostname: "127.0.0.1", port: 0 },
        });
        try {
          assert.equal(stream.getLocalAddress().hostname, "127.0.0.1");
          await stream.sendall(utf8("bound"));
          await stream.sendEof();
          assert.equal(text(await recvAll(stream)), "bound");
        } finally {
          await stream.aclose();
        }
      });
    });
  }, options);

  test(`${name}: tcp addresses read for the first time after close are the connection's`, async () => {
    // The Deno driver reads a connection's addresses when first asked (an idle adapter holds none).
    const backend = create();
    await backend.bootstrap(async () => {
      let serverSide: AsyncHalfCloseableStreamSocketAdapter | undefined;
      let listenPort = 0;
      let clientLocal: { hostname: string; port: number } | undefined;
      await withServer(backend, async (server) => {
        serverSide = server as AsyncHalfCloseableStreamSocketAdapter;
        await recvAll(server);
      }, async (port) => {
        listenPort = port;
        const stream = await backend.createTcpConnection("127.0.0.1", port);
        await stream.sendEof();
        await stream.aclose();
        assert.deepEqual(stream.getRemoteAddress(), { hostname: "127.0.0.1", port });
        clientLocal = stream.getLocalAddress();
        assert.equal(clientLocal.hostname, "127.0.0.1");
        assert.ok(clientLocal.port > 0);
      });
      // Closed by withServer once its handler returned.
      assert.ok(serverSide!.isClosing());
      assert.deepEqual(serverSide!.getLocalAddress(), { hostname: "127.0.0.1", port: listenPort });
      assert.deepEqual(serverSide!.getRemoteAddress(), clientLocal);
    });
  }, options);

  test(`${name}: tcp connects to localhost over every resolved address`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      // Only IPv4 listens: an IPv6 attempt (::1) is refused and the race goes on.
      await withServer(backend, echo, async (port) => {
        const stream = await backend.createTcpConnection("localhost", port, { happyEyeballsDelay: 50 });
        try {
          assert.equal(stream.getRemoteAddress().hostname, "127.0.0.1");
          await stream.sendall(utf8("hi"));
          await stream.sendEof();
          assert.equal(text(await recvAll(stream)), "hi");
        } finally {
          await stream.aclose();
        }
      });
    });
  }, options);

  test(`${name}: tcp refused connection carries ECONNREFUSED`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 1);
      const port = portOf(listener);
      await listener.aclose();
      await assert.rejects(backend.createTcpConnection("127.0.0.1", port), withCode("ECONNREFUSED"));
    });
  }, options);

  test(`${name}: tcp unknown host carries ENOTFOUND`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await backend.timeout(10_000, async () => {
        await assert.rejects(backend.createTcpConnection("no-such-host.invalid", 80), withCode("ENOTFOUND"));
      });
    });
  }, options);

  test(`${name}: tcp writing to a reset connection carries EPIPE or ECONNRESET`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const gone = backend.createEvent();
      await withServer(backend, async () => {
        gone.set(); // the handler returns at once: the server side closes
      }, async (port) => {
        const stream = await backend.createTcpConnection("127.0.0.1", port);
        try {
          await gone.wait();
          assert.equal((await stream.recv(10)).length, 0);
          const failure = await sendUntilFailure(stream);
          assert.ok(failure !== undefined, "writing to a closed peer never failed");
          withCode("EPIPE", "ECONNRESET")(failure);
        } finally {
          await stream.aclose();
        }
      });
    });
  }, options);

  test(`${name}: tcp bad arguments reject with TypeError or RangeError`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const rejects = async (call: () => Promise<unknown>, cls: typeof TypeError, message: RegExp) => {
        let promise: Promise<unknown>;
        assert.doesNotThrow(() => void (promise = call()), "async methods reject, never throw");
        await assert.rejects(
          promise!,
          (error: unknown) => error instanceof cls && message.test((error as Error).message),
        );
      };
      await rejects(() => backend.createTcpConnection("127.0.0.1", 70_000), RangeError, /'port'/);
      await rejects(() => backend.createTcpConnection("127.0.0.1", -1), RangeError, /'port'/);
      await rejects(() => backend.createTcpConnection("127.0.0.1", "80" as unknown as number), TypeError, /'port'/);
      await rejects(() => backend.createTcpConnection("", 80), RangeError, /'host'/);
      await rejects(() => backend.createTcpConnection(42 as unknown as string, 80), TypeError, /'host'/);
      await rejects(
        () => backend.createTcpConnection("127.0.0.1", 80, { happyEyeballsDelay: -1 }),
        RangeError,
        /'happyEyeballsDelay'/,
      );
      await rejects(() => backend.wrapTcpClientSocket({}), TypeError, /'conn'/);
      await withServer(backend, async (server) => {
        await recvAll(server);
      }, async (port) => {
        const stream: AsyncHalfCloseableStreamSocketAdapter = await backend.createTcpConnection("127.0.0.1", port);
        try {
          await rejects(() => stream.recv(0), RangeError, /'bufsize'/);
          await rejects(() => stream.recv(1.5), RangeError, /'bufsize'/);
          await rejects(() => stream.sendall("text" as unknown as Uint8Array), TypeError, /'data'/);
          await rejects(
            () => stream.sendallFromiter([utf8("a"), 1 as unknown as Uint8Array]),
            TypeError,
            /chunks\[1\]/,
          );
        } finally {
          await stream.aclose();
        }
      });
    });
  }, options);
}
