/**
 * Contract tests: TCP listeners (hosts, ports, accept cancellation, close, errors, arguments).
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { AsyncListenerSocketAdapter } from "../../backend/abc/socket.ts";
import { BusyResourceError, CancelledError, ClosedResourceError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { yieldUntil } from "./core_util.ts";
import { echo, ipv6Loopback, netOptions, portOf, recvAll, text, utf8, withCode } from "./net_util.ts";

async function closeAll(listeners: readonly AsyncListenerSocketAdapter[]): Promise<void> {
  for (const listener of listeners) await listener.aclose();
}

/** Connects to `host:port`, sends `message`, expects it echoed by some listener among `listeners`. */
async function roundTrip(
  backend: AsyncBackend,
  listeners: readonly AsyncListenerSocketAdapter[],
  host: string,
  port: number,
  message: string,
): Promise<void> {
  await backend.createTaskGroup(async (tg) => {
    const servers = listeners.map((listener) =>
      tg.startSoon(async () => {
        const stream = await (await listener.accept()).connect();
        try {
          await echo(stream);
        } finally {
          await stream.aclose();
        }
      })
    );
    const client = await backend.createTcpConnection(host, port);
    try {
      await client.sendall(utf8(message));
      await client.sendEof();
      assert.equal(text(await recvAll(client)), message);
    } finally {
      await client.aclose();
    }
    // Stop the listeners that got no connection.
    await yieldUntil(backend, () => servers.some((task) => task.done()), "the accepting server to finish");
    for (const task of servers) task.cancel();
  });
}

/** Why the reusePort test cannot run here, or `false`. */
function reusePortSkip(name: string): string | false {
  if (process.platform !== "linux") return "SO_REUSEPORT is Linux-only";
  if (name === "node" && !("deno" in process.versions)) {
    const [major, minor] = process.versions.node.split(".").map(Number);
    if (major < 22 || (major === 22 && minor < 12) || (major === 23 && minor < 1)) {
      return "listen({ reusePort }) needs Node 22.12 or later";
    }
  }
  return false;
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  const options = netOptions(name);

  test(`${name}: listeners on every interface accept IPv4 and IPv6 loopback`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const listeners = await backend.createTcpListeners(null, 0, 16);
      try {
        assert.ok(listeners.length >= 1);
        const port = portOf(listeners[0]);
        for (const listener of listeners) assert.equal(portOf(listener), port, "one port for every listener");
        await roundTrip(backend, listeners, "127.0.0.1", port, "over IPv4");
        if (await ipv6Loopback(backend)) await roundTrip(backend, listeners, "::1", port, "over IPv6");
      } finally {
        await closeAll(listeners);
      }
    });
  }, options);

  test(`${name}: listeners on a host list share one port`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const hosts = (await ipv6Loopback(backend)) ? ["127.0.0.1", "::1"] : ["127.0.0.1"];
      const listeners = await backend.createTcpListeners(hosts, 0, 16);
      try {
        assert.equal(listeners.length, hosts.length);
        assert.deepEqual(listeners.map((listener) => listener.getLocalAddress().hostname).sort(), [...hosts].sort());
        const port = portOf(listeners[0]);
        assert.ok(port > 0);
        for (const listener of listeners) assert.equal(portOf(listener), port);
        for (const host of hosts) await roundTrip(backend, listeners, host, port, `to ${host}`);
      } finally {
        await closeAll(listeners);
      }
    });
  }, options);

  test(`${name}: listeners with reusePort share a port`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const first = await backend.createTcpListeners("127.0.0.1", 0, 16, { reusePort: true });
      try {
        const second = await backend.createTcpListeners("127.0.0.1", portOf(first[0]), 16, { reusePort: true });
        await closeAll(second);
      } finally {
        await closeAll(first);
      }
    });
  }, netOptions(name, reusePortSkip(name)));

  test(`${name}: listener on a busy port carries EADDRINUSE`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const listeners = await backend.createTcpListeners("127.0.0.1", 0, 16);
      try {
        await assert.rejects(backend.createTcpListeners("127.0.0.1", portOf(listeners[0]), 16), withCode("EADDRINUSE"));
      } finally {
        await closeAll(listeners);
      }
    });
  }, options);

  test(`${name}: cancelled accept loses no connection`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 16);
      try {
        assert.equal(
          await backend.moveOnAfter(Infinity, async (handle) => {
            await backend.createTaskGroup(async (tg) => {
              tg.startSoon(async () => {
                await backend.coroYield();
                handle.cancel();
              });
              await listener.accept();
            });
            return "accepted";
          }),
          undefined,
        );
        await backend.moveOnAfter(Infinity, async (handle) => {
          handle.cancel();
          await assert.rejects(listener.accept(), CancelledError);
        });
        // The connection arrives after the cancel: the next accept gets it.
        const client = await backend.createTcpConnection("127.0.0.1", portOf(listener));
        try {
          const server = await (await listener.accept()).connect();
          try {
            await client.sendall(utf8("hello"));
            assert.equal(text(await server.recv(10)), "hello");
            assert.deepEqual(server.getRemoteAddress(), client.getLocalAddress());
          } finally {
            await server.aclose();
          }
        } finally {
          await client.aclose();
        }
      } finally {
        await listener.aclose();
      }
    });
  }, options);

  test(`${name}: listener aclose wakes a pending accept; busy and closed errors`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 16);
      let state = "idle";
      await backend.createTaskGroup(async (tg) => {
        tg.startSoon(async () => {
          state = "accepting";
          await assert.rejects(listener.accept(), ClosedResourceError);
          state = "woken";
        });
        await yieldUntil(backend, () => state === "accepting", "the acceptor to start");
        await assert.rejects(listener.accept(), BusyResourceError);
        assert.equal(listener.isClosing(), false);
        await listener.aclose();
        await listener.aclose();
        assert.equal(listener.isClosing(), true);
      });
      assert.equal(state, "woken");
      await assert.rejects(listener.accept(), ClosedResourceError);
    });
  }, options);

  test(`${name}: listener bad arguments reject with TypeError or RangeError`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await assert.rejects(backend.createTcpListeners([], 0, 16), RangeError);
      await assert.rejects(backend.createTcpListeners(["127.0.0.1", ""], 0, 16), RangeError);
      await assert.rejects(backend.createTcpListeners(7 as unknown as string, 0, 16), TypeError);
      await assert.rejects(backend.createTcpListeners("127.0.0.1", 65536, 16), RangeError);
      await assert.rejects(backend.createTcpListeners("127.0.0.1", 0, -1), /'backlog'/);
      await assert.rejects(backend.createTcpListeners("127.0.0.1", 0, -1), RangeError);
      await assert.rejects(backend.createSslOverTcpListeners("127.0.0.1", 0, 16, {}), TypeError);
    });
  }, options);
}
