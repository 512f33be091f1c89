/**
 * Contract tests: faults a server meets, each a named test: slowloris (hundreds
 * of clients that send a few bytes and fall silent, while a normal client is
 * served promptly by a task-per-connection server), and a datagram larger than
 * the `bufsize` of `recvfrom` (truncated to `bufsize`, the rest dropped: the
 * same on both backends), or larger than UDP allows (`EMSGSIZE`).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { AsyncListenerSocketAdapter, AsyncStreamSocketAdapter, SocketAddress } from "../../backend/abc/socket.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { yieldUntil } from "./core_util.ts";
import { bounded, caught } from "./faults_util.ts";
import { netOptions, pattern, portOf, text, utf8, withCode } from "./net_util.ts";

/** How many slowloris clients hold a connection open while the normal one is served. */
const SLOW_CLIENTS = 300;
/** How long the normal client may wait for its answer, in ms (it takes a few ms when nothing is wrong). */
const PROMPT_MS = 2000;

/** Reads one `\n`-terminated line (or up to end of stream). */
async function readLine(stream: AsyncStreamSocketAdapter): Promise<string> {
  let line = "";
  while (!line.endsWith("\n")) {
    const chunk = await stream.recv(1024);
    if (chunk.length === 0) break;
    line += text(chunk);
  }
  return line;
}

/** A task-per-connection server: each connection gets its own task that reads a line and answers it. */
async function serve(
  backend: AsyncBackend,
  listener: AsyncListenerSocketAdapter,
  counts: { accepted: number; answered: number },
): Promise<void> {
  await backend.createTaskGroup(async (tg) => {
    for (;;) {
      const accepted = await listener.accept();
      counts.accepted++;
      tg.startSoon(async () => {
        const stream = await accepted.connect();
        try {
          const line = await readLine(stream);
          if (line.endsWith("\n")) {
            await stream.sendall(utf8(`you said ${line}`));
            counts.answered++;
          }
        } finally {
          await stream.aclose();
        }
      });
    }
  });
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  const options = netOptions(name);

  test(
    `${name}: fault: slowloris: ${SLOW_CLIENTS} silent clients, a normal one is served within ${PROMPT_MS} ms`,
    async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 512);
        const port = portOf(listener);
        const counts = { accepted: 0, answered: 0 };
        const slow: AsyncStreamSocketAdapter[] = [];
        try {
          await bounded(backend, 60_000, "the slowloris test", () =>
            backend.createTaskGroup(async (tg) => {
              tg.startSoon(() => serve(backend, listener, counts));
              // Each slow client sends the start of a line and falls silent.
              for (let i = 0; i < SLOW_CLIENTS; i++) {
                const stream = await backend.createTcpConnection("127.0.0.1", port);
                slow.push(stream);
                await stream.sendall(utf8("GET /slow"));
              }
              await yieldUntil(
                backend,
                () => counts.accepted === SLOW_CLIENTS,
                "the server to accept every slow client",
              );
              const start = backend.currentTime();
              const normal = await backend.createTcpConnection("127.0.0.1", port);
              try {
                await normal.sendall(utf8("hello\n"));
                const answer = await backend.timeout(PROMPT_MS, () => readLine(normal));
                assert.equal(answer, "you said hello\n");
              } finally {
                await normal.aclose();
              }
              const took = backend.currentTime() - start;
              assert.ok(took < PROMPT_MS, `the normal client waited ${took} ms`);
              assert.equal(counts.answered, 1, "only the normal client was answered");
              // The slow clients go away; their tasks end with the end of stream, unanswered.
              for (const stream of slow.splice(0)) {
                await stream.aclose();
              }
              tg.cancelScope.cancel();
            }));
          assert.equal(counts.accepted, SLOW_CLIENTS + 1);
          assert.equal(counts.answered, 1);
        } finally {
          for (const stream of slow) await stream.aclose();
          await listener.aclose();
        }
      });
    },
    options,
  );

  test(`${name}: fault: a datagram larger than bufsize is truncated to bufsize, the rest dropped`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const loopback: SocketAddress = { hostname: "127.0.0.1", port: 0 };
      const a = await backend.createUdpEndpoint({ localAddress: loopback });
      const b = await backend.createUdpEndpoint({ localAddress: loopback });
      try {
        await bounded(backend, 10_000, "datagrams larger than bufsize", async () => {
          const big = pattern(1000, 3);
          await a.sendto(big, b.getLocalAddress());
          await a.sendto(utf8("next"), b.getLocalAddress());
          const [first, from] = await b.recvfrom(100);
          assert.equal(from.port, a.getLocalAddress().port);
          assert.equal(first.length, 100, "the datagram is truncated to bufsize");
          // (NodeBackend gives a Buffer, a Uint8Array.)
          assert.deepEqual(new Uint8Array(first), big.subarray(0, 100));
          // The rest of the big datagram is dropped, not delivered as another datagram.
          const [second] = await b.recvfrom(65536);
          assert.equal(text(second), "next");
          // The largest UDP payload over IPv4 arrives whole with a large enough bufsize.
          const largest = pattern(65507, 4);
          await a.sendto(largest, b.getLocalAddress());
          const [whole] = await b.recvfrom(65536);
          assert.deepEqual(new Uint8Array(whole), largest);
          // A datagram larger than UDP allows is refused by the sender with EMSGSIZE.
          withCode("EMSGSIZE")(
            await caught(() => a.sendto(new Uint8Array(70_000), b.getLocalAddress()), "a 70,000-byte datagram"),
          );
          // The endpoints still work.
          await a.sendto(utf8("after"), b.getLocalAddress());
          assert.equal(text((await b.recvfrom(100))[0]), "after");
        });
      } finally {
        await a.aclose();
        await b.aclose();
      }
    });
  }, options);
}
