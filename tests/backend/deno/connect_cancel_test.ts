/**
 * Deno-only: a TCP connect cancelled at random moments (before, during and
 * just as the connection completes) leaks no connection. Deno 2.9's
 * `Deno.connect({ signal })` aborted as the connection completes leaks it, so
 * the backend never aborts a connect that may be completing (backend/deno/tcp.ts).
 * Every connection the listener accepts must see its client close; the
 * resource and op sanitizers check the client side.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DenoBackend } from "../../../backend/deno/mod.ts";
import { test } from "../../harness.ts";

const CONNECTS = 2000;
const BATCH = 20;

/** Waits a random moment: a few microtasks, a macrotask, or a timer of 0 to 1 ms. */
async function randomMoment(): Promise<void> {
  const kind = Math.floor(Math.random() * 4);
  if (kind === 0) {
    for (let i = Math.floor(Math.random() * 20); i > 0; i--) await Promise.resolve();
  } else if (kind === 1) {
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  } else if (kind === 2) {
    for (let i = Math.floor(Math.random() * 4); i >= 0; i--) await new Promise<void>((r) => setTimeout(r, 0));
  } else {
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
}

test("deno: connects cancelled at random moments leak no connection", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  let accepted = 0;
  let closedByPeer = 0;
  const serving: Promise<void>[] = [];
  const acceptLoop = (async () => {
    for await (const conn of listener) {
      accepted++;
      serving.push((async () => {
        const buffer = new Uint8Array(16);
        try {
          while ((await conn.read(buffer)) !== null) { /* drain */ }
          closedByPeer++;
        } catch {
          closedByPeer++; // reset by the peer: closed too
        } finally {
          conn.close();
        }
      })());
    }
  })();

  const backend = new DenoBackend();
  let cancelled = 0;
  let connected = 0;
  await backend.bootstrap(async () => {
    for (let done = 0; done < CONNECTS; done += BATCH) {
      await Promise.all(Array.from({ length: BATCH }, async () => {
        const socket = await backend.moveOnAfter(Infinity, (handle) => {
          randomMoment().then(() => handle.cancel());
          return backend.createTcpConnection("127.0.0.1", port);
        });
        if (socket === undefined) cancelled++;
        else {
          connected++;
          await socket.aclose();
        }
      }));
    }
  });

  // Every accepted connection must see its client close (a leaked client never does).
  const deadline = Date.now() + 5_000;
  while (closedByPeer < accepted && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  console.log(`connects: ${CONNECTS}, cancelled: ${cancelled}, connected: ${connected}, accepted: ${accepted}`);
  assert.equal(closedByPeer, accepted, `${accepted - closedByPeer} accepted connection(s) never closed by the client`);
  assert.equal(cancelled + connected, CONNECTS);
  assert.ok(cancelled > 0 && connected > 0, "the cancellations should land both before and after connecting");
  listener.close();
  await acceptLoop.catch(() => {});
  await Promise.all(serving);
});
