/**
 * The Happy Eyeballs stagger under a mock clock, through the whole backend
 * (`createTcpConnection` on each runtime's host): the runtime's driver, except
 * that the name resolves to two addresses and the first one never answers.
 * A 30-second stagger must take milliseconds of real time.
 *
 * @module
 */

import assert from "node:assert/strict";
import { BaseAsyncBackend, type RuntimeHost } from "../../../backend/lowlevel.ts";
import { MockClock } from "../../../backend/testing.ts";
import type { NetDriver } from "../../../backend/_net/driver.ts";
import { clockHosts } from "./_clock_hosts.ts";
import { test } from "../../harness.ts";

const SILENT = "192.0.2.1"; // TEST-NET-1: never dialled, the fake connect hangs
const LOOPBACK = "127.0.0.1";

class TestBackend extends BaseAsyncBackend {}

/** The host's driver, resolving every name to [SILENT, LOOPBACK]; SILENT's connect waits for its abort. */
function stalledFirst(host: RuntimeHost, attempts: string[]): BaseAsyncBackend {
  // deno-lint-ignore no-explicit-any
  const real = host.net as NetDriver<any>;
  // deno-lint-ignore no-explicit-any
  const net: NetDriver<any> = {
    ...real,
    resolve: () => Promise.resolve([SILENT, LOOPBACK]),
    connect(address, port, local, signal) {
      attempts.push(address);
      if (address !== SILENT) return real.connect(address, port, local, signal);
      return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    },
  };
  return new TestBackend({ ...host, net });
}

for (const [name, host] of clockHosts) {
  test(`${name}: clock: a 30-second Happy Eyeballs stagger runs in real milliseconds under the mock clock`, async () => {
    const attempts: string[] = [];
    const backend = stalledFirst(host, attempts);
    const clock = new MockClock();
    const started = performance.now();
    const runner = backend.newRunner({ clock });
    try {
      const connected = runner.run(async () => {
        const [listener] = await backend.createTcpListeners(LOOPBACK, 0, 8);
        try {
          const port = listener.getLocalAddress().port;
          const stream = await backend.createTcpConnection("example.test", port, { happyEyeballsDelay: 30_000 });
          await stream.aclose();
          return backend.currentTime();
        } finally {
          await listener.aclose();
        }
      });
      await clock.advance(29_999);
      assert.deepEqual(attempts, [SILENT]);
      await clock.advance(1);
      assert.equal(await connected, 30_000);
      assert.deepEqual(attempts, [SILENT, LOOPBACK]);
    } finally {
      await runner.close();
    }
    const real = performance.now() - started;
    assert.ok(real < 5_000, `took ${real} ms of real time`);
  });

  test(`${name}: clock: autojump starts the next Happy Eyeballs attempt once the runner is idle`, async () => {
    const attempts: string[] = [];
    const backend = stalledFirst(host, attempts);
    const clock = new MockClock({ autojump: true });
    const at = await backend.bootstrap({ clock }, async () => {
      const [listener] = await backend.createTcpListeners(LOOPBACK, 0, 8);
      try {
        const stream = await backend.createTcpConnection("example.test", listener.getLocalAddress().port, {
          happyEyeballsDelay: 30_000,
        });
        await stream.aclose();
        return backend.currentTime();
      } finally {
        await listener.aclose();
      }
    });
    assert.equal(at, 30_000);
    assert.deepEqual(attempts, [SILENT, LOOPBACK]);
  });
}
