/**
 * Contract tests: servers (`serveTcp`, `serveTls`, `serveListeners`): echo to
 * many clients, a reset client, handler errors, cancellation, `tg.start()`,
 * accept errors, arguments.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connect as netConnect, type Socket } from "node:net";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { ServeStatus } from "../../backend/abc/serve.ts";
import {
  type AcceptedSocket,
  AsyncListenerSocketAdapter,
  type AsyncStreamSocketAdapter,
  type SocketAddress,
} from "../../backend/abc/socket.ts";
import { CancelledError, ClosedResourceError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { errorLike, yieldUntil } from "./core_util.ts";
import {
  CLIENT_TLS,
  concat,
  echo,
  netOptions,
  pattern,
  portOf,
  recvAll,
  recvExactly,
  SERVER_TLS,
  text,
  utf8,
  withCode,
} from "./net_util.ts";

/** A request: a 4-byte big-endian length, then that many bytes. */
function request(body: Uint8Array): Uint8Array {
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, body.length);
  return concat([header, body]);
}

/** Sends one request and returns the reply, which the length-prefixed echo handler sends back. */
async function exchange(backend: AsyncBackend, port: number, body: Uint8Array): Promise<Uint8Array> {
  const client = await backend.createTcpConnection("127.0.0.1", port);
  try {
    await client.sendall(request(body));
    return await recvAll(client);
  } finally {
    await client.aclose();
  }
}

/** A `node:net` client that resets its connection (RST) when told. */
function nodeClient(port: number): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = netConnect({ host: "127.0.0.1", port }, () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** A listener that fails its accepts with `errors` in order, then waits until closed. */
class ScriptedListener extends AsyncListenerSocketAdapter {
  #backend: AsyncBackend;
  #errors: unknown[];
  closed = false;
  accepts = 0;

  constructor(backend: AsyncBackend, errors: unknown[]) {
    super();
    this.#backend = backend;
    this.#errors = errors;
  }

  isClosing(): boolean {
    return this.closed;
  }

  aclose(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  getLocalAddress(): SocketAddress {
    return { hostname: "127.0.0.1", port: 9 };
  }

  socket(): unknown {
    return null;
  }

  async accept(): Promise<AcceptedSocket> {
    this.accepts++;
    await this.#backend.coroYield();
    const error = this.#errors.shift();
    if (error !== undefined) throw error;
    return await this.#backend.sleepForever();
  }
}

function coded(code: string): Error {
  return Object.assign(new Error(`accept failed (${code})`), { code });
}

/** Runs `body` in a runner, failing it after 20 s rather than hanging. */
function bounded(backend: AsyncBackend, body: () => Promise<void>): Promise<void> {
  return backend.bootstrap(() => backend.timeout(20_000, body));
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  const options = netOptions(name);

  test(`${name}: serveTcp echoes to several clients at once`, async () => {
    const backend = create();
    await bounded(backend, async () => {
      await backend.createTaskGroup(async (tg) => {
        const listeners = await tg.start((status: ServeStatus) =>
          backend.serveTcp(echo, 0, { host: "127.0.0.1", taskStatus: status })
        );
        assert.equal(listeners.length, 1);
        const port = portOf(listeners[0]);
        assert.ok(port > 0);
        await backend.createTaskGroup((clients) => {
          for (let i = 0; i < 8; i++) {
            clients.startSoon(async () => {
              const data = pattern(10_000 + i * 1_000, i);
              const client = await backend.createTcpConnection("127.0.0.1", port);
              try {
                await client.sendall(data);
                await client.sendEof();
                assert.deepEqual(await recvAll(client), data);
              } finally {
                await client.aclose();
              }
            });
          }
        });
        tg.cancelScope.cancel();
      });
    });
  }, options);

  test(`${name}: serveTcp survives a client that resets mid-request while 50 others are served`, async () => {
    const backend = create();
    await bounded(backend, async () => {
      const errors: unknown[] = [];
      let resetReading = false;
      const handler = async (stream: AsyncStreamSocketAdapter) => {
        const length = new DataView((await recvExactly(stream, 4)).buffer).getUint32(0);
        if (length === 999_999) resetReading = true;
        await stream.sendall(await recvExactly(stream, length));
      };
      await backend.createTaskGroup(async (tg) => {
        const [listener] = await tg.start((status: ServeStatus) =>
          backend.serveTcp(handler, 0, { host: "127.0.0.1", taskStatus: status, onError: (e) => void errors.push(e) })
        );
        const port = portOf(listener);
        const resetting = await nodeClient(port);
        try {
          resetting.write(concat([request(new Uint8Array(999_999)).subarray(0, 4), pattern(100)]));
          await backend.createTaskGroup(async (clients) => {
            for (let i = 0; i < 50; i++) {
              clients.startSoon(async () => {
                const body = pattern(1_000 + i * 997, i);
                assert.deepEqual(await exchange(backend, port, body), body);
              });
            }
            await yieldUntil(backend, () => resetReading, "the server to read the resetting client's request");
            resetting.resetAndDestroy();
          });
        } finally {
          resetting.destroy();
        }
        await yieldUntil(backend, () => errors.length === 1, "the reset to reach onError");
        assert.ok(withCode("ECONNRESET")(errors[0]));
        // Still serving.
        assert.equal(text(await exchange(backend, port, utf8("after"))), "after");
        tg.cancelScope.cancel();
      });
      assert.equal(errors.length, 1);
    });
  }, options);

  test(`${name}: serveTcp gives a handler's error to onError with the open stream, and goes on`, async () => {
    const backend = create();
    await bounded(backend, async () => {
      const reported: { error: unknown; open: boolean; peerPort: number }[] = [];
      const handler = async (stream: AsyncStreamSocketAdapter) => {
        const first = text(await stream.recv(1));
        if (first === "x") throw new Error("boom");
        await stream.sendall(utf8(first));
      };
      const onError = async (error: unknown, stream: AsyncStreamSocketAdapter | null) => {
        assert.ok(stream !== null);
        reported.push({ error, open: !stream.isClosing(), peerPort: stream.getRemoteAddress().port });
        await stream.sendall(utf8("sorry"));
      };
      await backend.createTaskGroup(async (tg) => {
        const [listener] = await tg.start((status: ServeStatus) =>
          backend.serveTcp(handler, 0, { host: "127.0.0.1", taskStatus: status, onError })
        );
        const failing = await backend.createTcpConnection("127.0.0.1", portOf(listener));
        try {
          await failing.sendall(utf8("x"));
          assert.equal(text(await recvAll(failing)), "sorry"); // then end of stream: the server closed it
          assert.equal(reported.length, 1);
          assert.match(String(reported[0].error), /boom/);
          assert.equal(reported[0].open, true);
          assert.equal(reported[0].peerPort, failing.getLocalAddress().port);
        } finally {
          await failing.aclose();
        }
        const fine = await backend.createTcpConnection("127.0.0.1", portOf(listener));
        try {
          await fine.sendall(utf8("y"));
          assert.equal(text(await recvAll(fine)), "y");
        } finally {
          await fine.aclose();
        }
        tg.cancelScope.cancel();
      });
    });
  }, options);

  test(`${name}: serveTcp stops with the error onError throws`, async () => {
    const backend = create();
    await bounded(backend, async () => {
      const stop = new Error("stop the server");
      let listener: AsyncListenerSocketAdapter | undefined;
      await assert.rejects(
        backend.createTaskGroup(async (tg) => {
          [listener] = await tg.start((status: ServeStatus) =>
            backend.serveTcp(
              () => {
                throw new Error("handler failed");
              },
              0,
              {
                host: "127.0.0.1",
                taskStatus: status,
                onError: () => {
                  throw stop;
                },
              },
            )
          );
          const client = await backend.createTcpConnection("127.0.0.1", portOf(listener));
          try {
            await backend.sleepForever(); // the server's failure cancels the group
          } finally {
            await client.aclose();
          }
        }),
        (error: unknown) => error === stop,
      );
      assert.ok(listener?.isClosing());
    });
  }, options);

  test(`${name}: cancelling serveTcp stops accepting, cancels the handlers and closes the connections`, async () => {
    const backend = create();
    await bounded(backend, async () => {
      const seen: unknown[] = [];
      let running = 0;
      const handler = async () => {
        running++;
        try {
          await backend.sleepForever();
        } catch (error) {
          seen.push(error);
          throw error;
        }
      };
      const clients: AsyncStreamSocketAdapter[] = [];
      let port = 0;
      let listener: AsyncListenerSocketAdapter | undefined;
      try {
        await backend.createTaskGroup(async (tg) => {
          [listener] = await tg.start((status: ServeStatus) =>
            backend.serveTcp(handler, 0, { host: "127.0.0.1", taskStatus: status })
          );
          port = portOf(listener);
          for (let i = 0; i < 3; i++) clients.push(await backend.createTcpConnection("127.0.0.1", port));
          await yieldUntil(backend, () => running === 3, "three handlers to run");
          tg.cancelScope.cancel();
        });
        assert.equal(seen.length, 3);
        for (const error of seen) assert.ok(error instanceof CancelledError);
        assert.ok(listener?.isClosing());
        for (const client of clients) {
          // The server closed its end: end of stream (or a reset).
          await backend.timeout(5_000, async () => {
            try {
              assert.equal((await client.recv(16)).length, 0);
            } catch (error) {
              withCode("ECONNRESET")(error);
            }
          });
        }
        await assert.rejects(backend.createTcpConnection("127.0.0.1", port), withCode("ECONNREFUSED"));
      } finally {
        for (const client of clients) await client.aclose();
      }
    });
  }, options);

  test(
    `${name}: serveListeners serves given listeners, closes them when it stops, and fails when one is closed`,
    async () => {
      const backend = create();
      await bounded(backend, async () => {
        const listeners = await backend.createTcpListeners("127.0.0.1", 0, 16);
        const port = portOf(listeners[0]);
        await assert.rejects(
          backend.createTaskGroup(async (tg) => {
            const given = await tg.start((status: ServeStatus) =>
              backend.serveListeners(echo, listeners, { taskStatus: status })
            );
            assert.deepEqual(given, listeners);
            const client = await backend.createTcpConnection("127.0.0.1", port);
            try {
              await client.sendall(utf8("ping"));
              await client.sendEof();
              assert.equal(text(await recvAll(client)), "ping");
            } finally {
              await client.aclose();
            }
            await listeners[0].aclose(); // a listener closed under the server stops it
            await backend.sleepForever();
          }),
          ClosedResourceError,
        );
        assert.ok(listeners.every((listener) => listener.isClosing()));
      });
    },
    options,
  );

  test(`${name}: serveListeners skips per-connection accept errors, reports EMFILE, stops on others`, async () => {
    const backend = create();
    await bounded(backend, async () => {
      const fatal = coded("EBADF");
      const listener = new ScriptedListener(backend, [coded("ECONNABORTED"), coded("EMFILE"), fatal]);
      const reported: [unknown, unknown][] = [];
      await assert.rejects(
        backend.serveListeners(() => {}, [listener], {
          onError: (error, stream) => void reported.push([error, stream]),
        }),
        (error: unknown) => error === fatal,
      );
      assert.equal(listener.accepts, 3);
      assert.equal(reported.length, 1);
      assert.ok(withCode("EMFILE")(reported[0][0]));
      assert.equal(reported[0][1], null);
      assert.ok(listener.closed);
    });
  }, options);

  test(`${name}: serveTls serves TLS clients and reports a failed handshake with a null stream`, async () => {
    const backend = create();
    await bounded(backend, async () => {
      const reported: [unknown, unknown][] = [];
      await backend.createTaskGroup(async (tg) => {
        const [listener] = await tg.start((status: ServeStatus) =>
          backend.serveTls(echo, 0, SERVER_TLS, {
            host: "127.0.0.1",
            taskStatus: status,
            onError: (error, stream) => void reported.push([error, stream]),
          })
        );
        const port = portOf(listener);
        // No CA for the server's certificate: the client refuses the handshake.
        await assert.rejects(backend.createSslOverTcpConnection("localhost", port, {}));
        await yieldUntil(backend, () => reported.length === 1, "the failed handshake to reach onError");
        assert.equal(reported[0][1], null);
        const client = await backend.createSslOverTcpConnection("localhost", port, CLIENT_TLS);
        try {
          const data = pattern(200_000, 3);
          await client.sendall(data);
          assert.deepEqual(await recvExactly(client, data.length), data);
        } finally {
          await client.aclose();
        }
        tg.cancelScope.cancel();
      });
      assert.equal(reported.length, 1);
    });
  }, options);

  test(`${name}: serve methods reject bad arguments with errors naming them, opening nothing`, async () => {
    const backend = create();
    await bounded(backend, async () => {
      // deno-lint-ignore no-explicit-any
      const loose = backend as any;
      await assert.rejects(loose.serveTcp("echo", 0), errorLike(TypeError, /'handler'/));
      await assert.rejects(loose.serveTcp(echo, -1), errorLike(RangeError, /'port'/));
      await assert.rejects(loose.serveTcp(echo, 0, { onError: 5 }), errorLike(TypeError, /'onError'/));
      await assert.rejects(loose.serveTcp(echo, 0, { taskStatus: {} }), errorLike(TypeError, /'taskStatus'/));
      await assert.rejects(loose.serveTcp(echo, 0, { backlog: -1 }), errorLike(RangeError, /'backlog'/));
      await assert.rejects(loose.serveTcp(echo, 0, { host: [] }), errorLike(RangeError, /'host'/));
      await assert.rejects(loose.serveTcp(echo, 0, 5), errorLike(TypeError, /'options'/));
      await assert.rejects(loose.serveTls(echo, 0, {}), errorLike(TypeError, /'tls'.*cert/));
      await assert.rejects(loose.serveTls(echo, 0, SERVER_TLS, { sslHandshakeTimeout: -1 }), RangeError);
      await assert.rejects(loose.serveListeners(echo, []), errorLike(RangeError, /'listeners'/));
      await assert.rejects(loose.serveListeners(echo, [{}]), errorLike(TypeError, /'listeners\[0\]'/));
      await assert.rejects(loose.serveListeners(echo, null), errorLike(TypeError, /'listeners'/));
    });
  }, options);
}
