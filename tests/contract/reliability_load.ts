/**
 * Reliability: load. Opens as many concurrent TCP connections as the test
 * allows (1,000 by default; in the long mode, as many as the descriptor limit
 * allows, each connection costing two descriptors in this process), holds them
 * all at once, then every one echoes 64 KiB: every byte is accounted for, and
 * the peak RSS is printed. `RELIABILITY_CONNECTIONS=<n>` sets the count
 * (capped by the limit).
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { AsyncHalfCloseableStreamSocketAdapter, AsyncStreamSocketAdapter } from "../../backend/abc/socket.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { yieldUntil } from "./core_util.ts";
import { netOptions, portOf } from "./net_util.ts";
import { descriptorLimit, elapsed, LONG, rssMiB, withRssPeak } from "./reliability_util.ts";

/** Bytes each connection echoes. */
const ECHO_BYTES = 65536;
/** Bytes of each write. */
const CHUNK = 16384;
/** Descriptors kept free for the runtime, the test runner, workers and files. */
const RESERVE = 512;
/** Connections opened at once while filling up. */
const WAVE = 200;

/** The connection count of this run and the limit it came from. */
function connectionCount(): { count: number; limit: number; capped: boolean } {
  const limit = descriptorLimit();
  const allowed = Math.max(1, Math.floor((limit - RESERVE) / 2));
  const asked = Number(process.env.RELIABILITY_CONNECTIONS || (LONG > 1 ? allowed : 1000));
  if (!Number.isSafeInteger(asked) || asked < 1) throw new Error("RELIABILITY_CONNECTIONS must be a positive integer");
  return { count: Math.min(asked, allowed), limit, capped: asked > allowed };
}

/** Byte `j` of connection `i`'s data (recognisable per connection). */
function byteOf(i: number, j: number): number {
  return (j * 31 + i * 7 + (j >>> 8)) & 0xff;
}

function chunkOf(i: number, offset: number): Uint8Array {
  const chunk = new Uint8Array(CHUNK);
  for (let j = 0; j < CHUNK; j++) chunk[j] = byteOf(i, offset + j);
  return chunk;
}

async function echoServer(stream: AsyncStreamSocketAdapter): Promise<void> {
  for (;;) {
    const chunk = await stream.recv(65536);
    if (chunk.length === 0) break;
    await stream.sendall(chunk);
  }
  await (stream as AsyncHalfCloseableStreamSocketAdapter).sendEof();
}

/** Sends connection `i`'s bytes while receiving and checking the echo; returns the bytes verified. */
async function echoClient(backend: AsyncBackend, stream: AsyncHalfCloseableStreamSocketAdapter, i: number) {
  let got = 0;
  await backend.createTaskGroup(async (tg) => {
    tg.startSoon(async () => {
      for (let offset = 0; offset < ECHO_BYTES; offset += CHUNK) await stream.sendall(chunkOf(i, offset));
      await stream.sendEof();
    });
    for (;;) {
      const chunk = await stream.recv(65536);
      if (chunk.length === 0) break;
      for (let j = 0; j < chunk.length; j++) {
        if (chunk[j] !== byteOf(i, got + j)) assert.fail(`connection ${i}: byte ${got + j} differs`);
      }
      got += chunk.length;
    }
  });
  assert.equal(got, ECHO_BYTES, `connection ${i}: ${got} of ${ECHO_BYTES} bytes came back`);
  return got;
}

async function load(backend: AsyncBackend, name: string): Promise<void> {
  const label = `${name}: tcp load`;
  const { count, limit, capped } = connectionCount();
  const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 4096);
  const clients: AsyncHalfCloseableStreamSocketAdapter[] = [];
  const servers: AsyncStreamSocketAdapter[] = [];
  const rssBefore = rssMiB();
  const start = backend.currentTime();
  let held = 0;
  let connectMs = 0;
  let verified = 0;
  let phase = "connect";
  const progress = () =>
    `${label}: ${phase}: ${clients.filter(Boolean).length} connected, ${servers.length} accepted, ` +
    `${verified} bytes verified after ${elapsed(backend, start)} ms of ${count} connections`;
  try {
    const { peakMiB } = await withRssPeak(backend, async () => {
      await backend.timeout(30_000 + count * 20, async () => {
        // Fill up: every connection open and accepted, all at once.
        await backend.createTaskGroup(async (tg) => {
          tg.startSoon(async () => {
            while (servers.length < count) servers.push(await (await listener.accept()).connect());
          });
          for (let first = 0; first < count; first += WAVE) {
            await backend.createTaskGroup(async (wave) => {
              for (let i = first; i < Math.min(first + WAVE, count); i++) {
                wave.startSoon(async () => {
                  clients[i] = await backend.createTcpConnection("127.0.0.1", portOf(listener));
                });
              }
            });
          }
          await yieldUntil(backend, () => servers.length === count, "every connection is accepted", 1_000_000);
        });
        held = Math.min(clients.filter(Boolean).length, servers.length);
        connectMs = elapsed(backend, start);
        phase = "echo";
        // Every connection echoes its bytes, all at once.
        await backend.createTaskGroup(async (tg) => {
          for (const server of servers) tg.startSoon(() => echoServer(server));
          clients.forEach((client, i) =>
            tg.startSoon(async () => {
              const bytes = await echoClient(backend, client, i);
              verified += bytes;
            })
          );
        });
        phase = "done";
      });
    }, LONG > 1 ? () => console.log(`${progress()}; RSS ${rssMiB().toFixed(0)} MiB`) : undefined);
    console.log(
      `${label}: ${held} connections held at once (descriptor limit ${limit}${capped ? ", count capped by it" : ""}) ` +
        `in ${connectMs} ms; each echoed ${ECHO_BYTES} bytes: ${verified} bytes verified in ` +
        `${elapsed(backend, start)} ms; RSS ${rssBefore.toFixed(0)} MiB before, peak ${peakMiB.toFixed(0)} MiB (+${
          (peakMiB - rssBefore).toFixed(0)
        })`,
    );
    assert.equal(held, count);
    assert.equal(verified, count * ECHO_BYTES);
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    throw new Error(progress(), { cause: error });
  } finally {
    for (const client of clients) await client?.aclose();
    for (const server of servers) await server.aclose();
    await listener.aclose();
  }
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: reliability: load, the most concurrent connections allowed, each echoing 64 KiB`, async () => {
    const backend = create();
    await backend.bootstrap(() => load(backend, name));
  }, netOptions(name));
}
