/**
 * Reliability: chaos on UDP with loss accounting. Senders send numbered,
 * self-checking datagrams to one receiver, every `sendto` and `recvfrom` under
 * a random short deadline (seeded; see `reliability_util.ts`). A window keeps
 * the receiver's buffer from overflowing, so on loopback no datagram whose
 * `sendto` completed may be lost; a cancelled `sendto` may or may not have sent
 * its datagram. No datagram may arrive twice, corrupted, from the wrong sender,
 * or without having been sent; the receiver still works afterwards.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { AsyncDatagramSocketAdapter, SocketAddress } from "../../backend/abc/socket.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { netOptions, pattern, text, utf8 } from "./net_util.ts";
import { elapsed, type Random, scaled, seeded, Tally } from "./reliability_util.ts";

const KINDS = ["sendto", "recvfrom"] as const;
/** Datagrams sent and not yet received, at most: keeps the receiver's socket buffer far from full. */
const WINDOW = 32;
/** How long the receiver waits for a missing datagram once every sender is done. */
const SETTLE_MS = 2000;

/** A datagram: sender (2 bytes), sequence number (2), payload length (2), then a pattern seeded by both. */
function datagram(sender: number, seq: number, length: number): Uint8Array {
  const bytes = new Uint8Array(6 + length);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, sender);
  view.setUint16(2, seq);
  view.setUint16(4, length);
  bytes.set(pattern(length, sender * 7 + seq), 6);
  return bytes;
}

/** The key of a well-formed datagram; fails on a corrupted one. */
function check(bytes: Uint8Array): number {
  assert.ok(bytes.length >= 6, `a datagram of ${bytes.length} bytes is too short`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [sender, seq, length] = [view.getUint16(0), view.getUint16(2), view.getUint16(4)];
  assert.equal(bytes.length, 6 + length, `datagram ${sender}/${seq} has the wrong length`);
  const expected = pattern(length, sender * 7 + seq);
  for (let i = 0; i < length; i++) {
    if (bytes[6 + i] !== expected[i]) assert.fail(`datagram ${sender}/${seq} is corrupted at byte ${6 + i}`);
  }
  return sender * 65536 + seq;
}

function deadline(random: Random, none: number, max: number): number {
  const roll = random.next();
  if (roll < 0.1) return 0;
  if (roll < 0.1 + none) return Infinity;
  return random.logUniform(0.01, max);
}

/** The accounting of one run. */
interface Accounting {
  sent: Set<number>;
  cancelled: Set<number>;
  received: Set<number>;
  /** Sends started and neither received nor cancelled: the window. */
  inFlight: Set<number>;
}

async function sender(
  backend: AsyncBackend,
  random: Random,
  tally: Tally<typeof KINDS[number]>,
  endpoint: AsyncDatagramSocketAdapter,
  id: number,
  count: number,
  to: SocketAddress,
  book: Accounting,
): Promise<void> {
  for (let seq = 0; seq < count; seq++) {
    const waitEnd = backend.currentTime() + SETTLE_MS;
    while (book.inFlight.size >= WINDOW && backend.currentTime() < waitEnd) await backend.sleep(1);
    const key = id * 65536 + seq;
    book.inFlight.add(key);
    const bytes = datagram(id, seq, random.int(0, 1200));
    const done = await backend.moveOnAfter(deadline(random, 0.6, 2), async () => {
      await tally.at("sendto", endpoint.sendto(bytes, to));
      return true;
    });
    if (done) {
      book.sent.add(key);
    } else {
      book.cancelled.add(key);
      book.inFlight.delete(key); // it may never come
    }
  }
}

async function udpChaos(backend: AsyncBackend, name: string): Promise<void> {
  const label = `${name}: udp chaos`;
  const random = seeded(label);
  const senders = scaled(16);
  const perSender = 40;
  const tally = new Tally(KINDS);
  const book: Accounting = { sent: new Set(), cancelled: new Set(), received: new Set(), inFlight: new Set() };
  const receiver = await backend.createUdpEndpoint({ localAddress: { hostname: "127.0.0.1", port: 0 } });
  const endpoints: AsyncDatagramSocketAdapter[] = [];
  const start = backend.currentTime();
  let late = 0;
  try {
    for (let i = 0; i < senders; i++) {
      endpoints.push(await backend.createUdpEndpoint({ localAddress: { hostname: "127.0.0.1", port: 0 } }));
    }
    const ports = new Map(endpoints.map((endpoint, id) => [endpoint.getLocalAddress().port, id]));
    const to = receiver.getLocalAddress();
    await backend.timeout(scaled(30_000), async () => {
      let sending = senders;
      await backend.createTaskGroup(async (tg) => {
        endpoints.forEach((endpoint, id) =>
          tg.startSoon(async () => {
            try {
              await sender(backend, random, tally, endpoint, id, perSender, to, book);
            } finally {
              sending--;
            }
          })
        );
        let settleEnd = Infinity;
        for (;;) {
          if (sending === 0) {
            if ([...book.sent].every((key) => book.received.has(key))) break;
            if (settleEnd === Infinity) settleEnd = backend.currentTime() + SETTLE_MS;
            if (backend.currentTime() >= settleEnd) break;
          }
          const limit = Math.min(deadline(random, 0.3, 5), sending === 0 ? 50 : Infinity);
          const got = await backend.moveOnAfter(limit, () => tally.at("recvfrom", receiver.recvfrom(2048)));
          if (got === undefined) continue;
          const [bytes, from] = got;
          const key = check(bytes);
          assert.equal(ports.get(from.port), key >>> 16, `datagram ${key >>> 16}/${key & 0xffff} from the wrong port`);
          assert.ok(!book.received.has(key), `datagram ${key >>> 16}/${key & 0xffff} arrived twice`);
          book.received.add(key);
          book.inFlight.delete(key);
        }
      });
    });
    const chaosMs = elapsed(backend, start);
    // The receiver still works: a late datagram of a cancelled send may come first.
    await backend.timeout(5000, async () => {
      await endpoints[0].sendto(utf8("ping"), receiver.getLocalAddress());
      for (;;) {
        const [bytes, from] = await receiver.recvfrom(2048);
        if (text(bytes) === "ping") {
          await receiver.sendto(utf8("pong"), from);
          break;
        }
        const key = check(bytes);
        assert.ok(!book.received.has(key) && book.cancelled.has(key), "a late datagram is a cancelled send's");
        book.received.add(key);
        late++;
      }
      assert.equal(text((await endpoints[0].recvfrom(16))[0]), "pong");
    });
    const lost = [...book.sent].filter((key) => !book.received.has(key));
    const phantom = [...book.received].filter((key) => !book.sent.has(key) && !book.cancelled.has(key));
    const cancelledArrived = [...book.cancelled].filter((key) => book.received.has(key)).length;
    console.log(
      `${label}: ${senders * perSender} datagrams from ${senders} senders in ${chaosMs} ms: ${book.sent.size} sent, ` +
        `${book.cancelled.size} sends cancelled (${cancelledArrived} of them arrived anyway, ${late} late), ` +
        `${book.received.size} received intact and once, ${lost.length} sent but lost; cancellations: ${tally}; ` +
        `the receiver answered a ping afterwards`,
    );
    assert.equal(phantom.length, 0, `${label}: datagrams received that were never sent`);
    assert.equal(lost.length, 0, `${label}: ${lost.length} datagrams sent but never received`);
    tally.assertEachHit(KINDS, label);
  } finally {
    for (const endpoint of endpoints) await endpoint.aclose();
    await receiver.aclose();
  }
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: reliability: chaos on UDP with loss accounting under random deadlines`, async () => {
    const backend = create();
    await backend.bootstrap(() => udpChaos(backend, name));
  }, netOptions(name));
}
