/**
 * Reliability: byte accounting. 10 MiB (x the long-mode factor) streamed over
 * TCP and TLS while the receiving side's `recv` and `recvInto` calls, of random
 * sizes, are cancelled at random (already cancelled, a short deadline, or a
 * canceller task a few yields later; seeded, see `reliability_util.ts`). The
 * bytes received, reassembled, are exactly the bytes sent, and a cancelled
 * `recvInto` never writes into its buffer later.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { AsyncHalfCloseableStreamSocketAdapter, AsyncStreamSocketAdapter } from "../../backend/abc/socket.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { CLIENT_TLS, netOptions, pattern, portOf, SERVER_TLS } from "./net_util.ts";
import { elapsed, eofLossTolerated, type Random, scaled, seeded, Tally } from "./reliability_util.ts";

const KINDS = ["recv", "recvInto"] as const;
type Kind = typeof KINDS[number];

/** How a receive is cancelled. */
type Cancel = "none" | "already" | "deadline" | "canceller";

function cancelKind(random: Random): Cancel {
  const roll = random.next();
  if (roll < 0.15) return "already";
  if (roll < 0.45) return "deadline";
  if (roll < 0.6) return "canceller";
  return "none";
}

/** Sends `data` in chunks of random sizes, pausing now and then so the receiver waits; then closes the write side. */
async function stream(backend: AsyncBackend, random: Random, conn: AsyncStreamSocketAdapter, data: Uint8Array) {
  for (let offset = 0; offset < data.length;) {
    const size = Math.min(Math.round(random.logUniform(1, 131072)), data.length - offset);
    await conn.sendall(data.subarray(offset, offset + size));
    offset += size;
    if (random.chance(0.1)) await backend.sleep(random.logUniform(0.05, 2));
  }
  const closing = conn as Partial<AsyncHalfCloseableStreamSocketAdapter>;
  if (typeof closing.sendEof === "function") await closing.sendEof();
}

/**
 * One receive of up to `size` bytes, cancelled as `cancel` says; the bytes received (empty at end of
 * stream), or `undefined` when cancelled. A cancelled `recvInto`'s buffer is returned in `untouched`.
 */
async function receiveOnce(
  backend: AsyncBackend,
  random: Random,
  tally: Tally<Kind>,
  conn: AsyncStreamSocketAdapter,
  size: number,
  untouched: Uint8Array[],
): Promise<Uint8Array | undefined> {
  const kind: Kind = random.chance(0.5) ? "recv" : "recvInto";
  const cancel = cancelKind(random);
  const limit = cancel === "deadline" ? random.logUniform(0.005, 2) : Infinity;
  const yields = random.int(0, 3);
  const buffer = kind === "recvInto" ? new Uint8Array(size) : undefined;
  // Kept as soon as the receive returns: bytes received are never dropped, whatever happens next.
  let result: Uint8Array | undefined;
  await backend.moveOnAfter(limit, async (handle) => {
    if (cancel === "already") handle.cancel();
    await backend.createTaskGroup(async (tg) => {
      if (cancel === "canceller") {
        tg.startSoon(async () => {
          for (let i = 0; i < yields; i++) await backend.coroYield();
          if (result === undefined) handle.cancel();
        });
      }
      result = buffer === undefined
        ? await tally.at("recv", conn.recv(size))
        : buffer.subarray(0, await tally.at("recvInto", conn.recvInto(buffer)));
    });
  });
  if (result === undefined && buffer !== undefined && untouched.length < 200) untouched.push(buffer);
  return result;
}

async function accounting(backend: AsyncBackend, backendName: string, tls: boolean): Promise<void> {
  const label = `${backendName}: ${tls ? "tls" : "tcp"} byte accounting`;
  const random = seeded(label);
  const total = scaled(10 * 1048576);
  const data = pattern(total, 3);
  const tally = new Tally(KINDS);
  const untouched: Uint8Array[] = [];
  const listener = tls
    ? (await backend.createSslOverTcpListeners("127.0.0.1", 0, 16, SERVER_TLS))[0]
    : (await backend.createTcpListeners("127.0.0.1", 0, 16))[0];
  const start = backend.currentTime();
  let got = 0;
  let calls = 0;
  let eofSeen = true;
  try {
    await backend.timeout(scaled(60_000), async () => {
      await backend.createTaskGroup(async (tg) => {
        tg.startSoon(async () => {
          const conn = await (await listener.accept()).connect();
          try {
            await stream(backend, random, conn, data);
          } finally {
            await conn.aclose();
          }
        });
        const conn = tls
          ? await backend.createSslOverTcpConnection("127.0.0.1", portOf(listener), CLIENT_TLS)
          : await backend.createTcpConnection("127.0.0.1", portOf(listener));
        try {
          while (got < total) {
            calls++;
            const size = Math.round(random.logUniform(1, 65536));
            const chunk = await receiveOnce(backend, random, tally, conn, size, untouched);
            if (chunk === undefined) continue;
            assert.ok(chunk.length > 0, `${label}: end of stream after ${got} of ${total} bytes`);
            assert.ok(chunk.length <= size, `${label}: ${chunk.length} bytes for a receive of ${size}`);
            for (let i = 0; i < chunk.length; i++) {
              if (chunk[i] !== data[got + i]) assert.fail(`${label}: byte ${got + i} differs`);
            }
            got += chunk.length;
          }
          // The end of stream follows (NodeBackend under Deno's node:tls may never report it: issue 12).
          const end = await backend.moveOnAfter(3000, () => conn.recv(16));
          if (end === undefined) eofSeen = false;
          else assert.equal(end.length, 0, `${label}: more bytes than were sent`);
        } finally {
          await conn.aclose();
        }
      });
    });
  } finally {
    await listener.aclose();
  }
  for (const buffer of untouched) {
    assert.ok(buffer.every((byte) => byte === 0), `${label}: a cancelled recvInto wrote into its buffer later`);
  }
  if (!eofLossTolerated(backendName, tls)) assert.ok(eofSeen, `${label}: the end of stream never came`);
  console.log(
    `${label}: ${got} bytes verified in ${elapsed(backend, start)} ms over ${calls} receives, cancelled: ` +
      `${tally} (${untouched.length} cancelled recvInto buffers checked untouched)` +
      (eofSeen ? "" : "; the end of stream never came (Deno's node:tls)"),
  );
  assert.equal(got, total);
  tally.assertEachHit(KINDS, label);
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  const options = netOptions(name);

  test(`${name}: reliability: 10 MiB over TCP, receives cancelled at random, byte-exact`, async () => {
    const backend = create();
    await backend.bootstrap(() => accounting(backend, name, false));
  }, options);

  test(`${name}: reliability: 10 MiB over TLS, receives cancelled at random, byte-exact`, async () => {
    const backend = create();
    await backend.bootstrap(() => accounting(backend, name, true));
  }, options);
}
