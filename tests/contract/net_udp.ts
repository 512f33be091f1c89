/**
 * Contract tests: UDP endpoints (unconnected and connected, truncation, cancellation, close, busy).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncDatagramSocketAdapter } from "../../backend/abc/socket.ts";
import { BusyResourceError, CancelledError, ClosedResourceError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { yieldUntil } from "./core_util.ts";
import { netOptions, text, utf8, withCode } from "./net_util.ts";

async function closeAll(...endpoints: AsyncDatagramSocketAdapter[]): Promise<void> {
  for (const endpoint of endpoints) await endpoint.aclose();
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  const options = netOptions(name);
  const loopback = { hostname: "127.0.0.1", port: 0 };

  test(`${name}: udp unconnected endpoints exchange datagrams`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const a = await backend.createUdpEndpoint({ localAddress: loopback });
      const b = await backend.createUdpEndpoint({ localAddress: loopback });
      try {
        assert.equal(a.getRemoteAddress(), null);
        assert.equal(a.getLocalAddress().hostname, "127.0.0.1");
        await a.sendto(utf8("ping"), b.getLocalAddress());
        const [data, from] = await b.recvfrom(1024);
        assert.equal(text(data), "ping");
        assert.deepEqual(from, a.getLocalAddress());
        await b.sendto(utf8("pong"), from);
        const [reply, replyFrom] = await a.recvfrom(1024);
        assert.equal(text(reply), "pong");
        assert.deepEqual(replyFrom, b.getLocalAddress());
        // A datagram larger than bufsize is truncated.
        await a.sendto(utf8("0123456789"), b.getLocalAddress());
        assert.equal(text((await b.recvfrom(4))[0]), "0123");
        await assert.rejects(a.sendto(utf8("x"), null), TypeError);
      } finally {
        await closeAll(a, b);
      }
    });
  }, options);

  test(`${name}: udp connected endpoint talks only to its peer`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const peer = await backend.createUdpEndpoint({ localAddress: loopback });
      const stranger = await backend.createUdpEndpoint({ localAddress: loopback });
      const connected = await backend.createUdpEndpoint({ remoteAddress: peer.getLocalAddress() });
      try {
        assert.deepEqual(connected.getRemoteAddress(), peer.getLocalAddress());
        await connected.sendto(utf8("hello peer"), null);
        const [data, from] = await peer.recvfrom(100);
        assert.equal(text(data), "hello peer");
        // The stranger's datagram is dropped; the peer's (sent after it) arrives.
        await stranger.sendto(utf8("from stranger"), from);
        await peer.sendto(utf8("from peer"), from);
        const [reply, replyFrom] = await connected.recvfrom(100);
        assert.equal(text(reply), "from peer");
        assert.deepEqual(replyFrom, peer.getLocalAddress());
        await connected.sendto(utf8("explicit"), peer.getLocalAddress());
        assert.equal(text((await peer.recvfrom(100))[0]), "explicit");
        await assert.rejects(connected.sendto(utf8("x"), stranger.getLocalAddress()), withCode("EISCONN"));
      } finally {
        await closeAll(connected, stranger, peer);
      }
    });
  }, options);

  test(`${name}: udp over IPv6 loopback`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const a = await backend.createUdpEndpoint({ localAddress: { hostname: "::1", port: 0 } });
      const b = await backend.createUdpEndpoint({ remoteAddress: a.getLocalAddress() });
      try {
        await b.sendto(utf8("v6"), null);
        const [data, from] = await a.recvfrom(10);
        assert.equal(text(data), "v6");
        assert.equal(from.hostname, "::1");
      } finally {
        await closeAll(a, b);
      }
    });
  }, options);

  test(`${name}: udp cancelled recvfrom loses no datagram`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const a = await backend.createUdpEndpoint({ localAddress: loopback });
      const b = await backend.createUdpEndpoint({ localAddress: loopback });
      try {
        assert.equal(
          await backend.moveOnAfter(Infinity, async (handle) => {
            await backend.createTaskGroup(async (tg) => {
              tg.startSoon(async () => {
                await backend.coroYield();
                handle.cancel();
              });
              await b.recvfrom(100);
            });
            return "received";
          }),
          undefined,
        );
        await backend.moveOnAfter(Infinity, async (handle) => {
          handle.cancel();
          await assert.rejects(b.recvfrom(100), CancelledError);
        });
        await a.sendto(utf8("first"), b.getLocalAddress());
        await a.sendto(utf8("second"), b.getLocalAddress());
        assert.equal(text((await b.recvfrom(100))[0]), "first");
        assert.equal(text((await b.recvfrom(100))[0]), "second");
      } finally {
        await closeAll(a, b);
      }
    });
  }, options);

  test(`${name}: udp busy, closed and bad arguments`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const endpoint = await backend.createUdpEndpoint({ localAddress: loopback });
      let state = "idle";
      await backend.createTaskGroup(async (tg) => {
        tg.startSoon(async () => {
          state = "receiving";
          await assert.rejects(endpoint.recvfrom(10), ClosedResourceError);
          state = "woken";
        });
        await yieldUntil(backend, () => state === "receiving", "the receiver to start");
        await assert.rejects(endpoint.recvfrom(10), BusyResourceError);
        await assert.rejects(endpoint.recvfrom(0), RangeError);
        await assert.rejects(endpoint.sendto("x" as unknown as Uint8Array, loopback), TypeError);
        await assert.rejects(endpoint.sendto(utf8("x"), { hostname: "127.0.0.1", port: 99_999 }), RangeError);
        await endpoint.aclose();
        await endpoint.aclose();
      });
      assert.equal(state, "woken");
      assert.equal(endpoint.isClosing(), true);
      await assert.rejects(endpoint.recvfrom(10), ClosedResourceError);
      await assert.rejects(endpoint.sendto(utf8("x"), loopback), ClosedResourceError);
      await assert.rejects(backend.createUdpEndpoint({ localAddress: { hostname: "", port: 0 } }), RangeError);
      await assert.rejects(backend.createUdpEndpoint({ remoteAddress: { hostname: "x", port: -1 } }), RangeError);
      await assert.rejects(backend.wrapUdpSocket({}), TypeError);
    });
  }, options);

  test(`${name}: udp wrapUdpSocket takes a runtime socket`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const a = await backend.createUdpEndpoint({ localAddress: loopback });
      const b = await backend.createUdpEndpoint({ localAddress: loopback });
      const wrapped = await backend.wrapUdpSocket(b.socket());
      try {
        assert.deepEqual(wrapped.getLocalAddress(), b.getLocalAddress());
        await a.sendto(utf8("to wrapped"), wrapped.getLocalAddress());
        assert.equal(text((await wrapped.recvfrom(100))[0]), "to wrapped");
      } finally {
        await closeAll(a, wrapped, b);
      }
    });
  }, options);
}
