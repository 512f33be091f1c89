/**
 * Contract tests: the leak report of a runner (`runner.leaks()`, strict mode,
 * debug stacks, `assertNoLeaks`), for each kind of resource, with the
 * creation site. Each resource is made in a function named after it, so that
 * the first frame of the recorded stack names it.
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { ResourceLeak } from "../../backend/abc/leaks.ts";
import type { AsyncListenerSocketAdapter } from "../../backend/abc/socket.ts";
import { ResourceLeakError } from "../../backend/errors.ts";
import { createThreadPool } from "../../backend/lowlevel.ts";
import { threadModule } from "../../backend/mod.ts";
import { assertNoLeaks } from "../../backend/testing.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { errorLike } from "./core_util.ts";

const work = threadModule<typeof import("../fixtures/work.ts")>(new URL("../fixtures/work.ts", import.meta.url));

/** Asserts that `leak` is of `kind`, described by `description`, made in the function `site` of this file. */
function assertLeak(leak: ResourceLeak | undefined, kind: string, description: RegExp, site: string): void {
  assert.ok(leak !== undefined, `a ${kind} leak`);
  assert.equal(leak.kind, kind);
  assert.match(leak.description, description);
  assert.ok(leak.stack !== undefined, "debug mode records the stack");
  const first = leak.stack.split("\n")[0];
  assert.match(first, new RegExp(`\\b${site}\\b`), `the creation site is ${site}, got:\n${leak.stack}`);
  assert.match(first, /core_leaks\.[jt]s/);
}

function makeChannelHere(backend: AsyncBackend) {
  return backend.createMemoryChannel<number>(1);
}

async function makeListenerHere(backend: AsyncBackend): Promise<AsyncListenerSocketAdapter> {
  const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 8);
  return listener;
}

async function connectHere(backend: AsyncBackend, port: number) {
  return await backend.createTcpConnection("127.0.0.1", port);
}

async function openUdpHere(backend: AsyncBackend) {
  return await backend.createUdpEndpoint({ localAddress: { hostname: "127.0.0.1", port: 0 } });
}

function listenForSignalsHere(backend: AsyncBackend) {
  return backend.openSignalReceiver(["SIGWINCH"]);
}

function spawnSystemTaskHere(backend: AsyncBackend) {
  return backend.spawnTask(() => backend.sleepForever());
}

/** Registers the leak report tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: a runner that releases everything reports no leak, even in strict mode`, async () => {
    const backend = create();
    const runner = backend.newRunner({ strict: true, debug: true });
    await runner.run(async () => {
      const [send, receive] = backend.createMemoryChannel<number>(1);
      const clone = send.clone();
      send.close();
      await clone.send(1);
      clone.close();
      assert.equal(await receive.receive(), 1);
      receive.close();
      const listener = await makeListenerHere(backend);
      const client = await connectHere(backend, listener.getLocalAddress().port);
      const server = await (await listener.accept()).connect();
      await client.aclose();
      await server.aclose();
      await listener.aclose();
    });
    assert.deepEqual(runner.leaks(), []);
    await runner.close();
    assert.deepEqual(runner.leaks(), []);
  });

  test(`${name}: a channel left open is reported with its creation site`, async () => {
    const backend = create();
    const runner = backend.newRunner({ debug: true });
    const [send, receive] = await runner.run(() => makeChannelHere(backend));
    assert.equal(runner.leaks().length, 1, "alive before close");
    receive.close();
    await runner.close();
    const leaks = runner.leaks();
    assert.equal(leaks.length, 1);
    assertLeak(leaks[0], "channel", /^memory channel, open ends: 1 send, 0 receive$/, "makeChannelHere");
    send.close();
    assert.equal(runner.leaks().length, 1, "the report is the one made at close");
  });

  test(`${name}: sockets and listeners left open are reported with their creation sites`, async () => {
    const backend = create();
    const runner = backend.newRunner({ debug: true });
    const [listener, client, server, udp] = await runner.run(async () => {
      const listener = await makeListenerHere(backend);
      const client = await connectHere(backend, listener.getLocalAddress().port);
      const server = await (await listener.accept()).connect();
      const udp = await openUdpHere(backend);
      return [listener, client, server, udp] as const;
    });
    try {
      await runner.close();
      const leaks = runner.leaks();
      assert.equal(leaks.length, 4, leaks.map((leak) => leak.description).join(", "));
      const port = listener.getLocalAddress().port;
      assertLeak(leaks[0], "listener", new RegExp(`^listener on 127\\.0\\.0\\.1:${port}$`), "makeListenerHere");
      assertLeak(leaks[1], "socket", new RegExp(`^stream socket .* -> 127\\.0\\.0\\.1:${port}$`), "connectHere");
      assert.equal(leaks[2].kind, "socket");
      assert.match(leaks[2].description, new RegExp(`^stream socket 127\\.0\\.0\\.1:${port} -> `));
      assertLeak(leaks[3], "socket", /^datagram socket 127\.0\.0\.1:\d+$/, "openUdpHere");
    } finally {
      await Promise.all([client.aclose(), server.aclose(), listener.aclose(), udp.aclose()]);
    }
  });

  test(`${name}: tasks still running at close are reported, system tasks included`, async () => {
    const backend = create();
    const runner = backend.newRunner({ debug: true });
    const started = backend.createEvent();
    await runner.run(() => spawnSystemTaskHere(backend));
    const pending = runner.run(async function longRunning() {
      started.set();
      await backend.sleepForever();
    }).catch((error) => error);
    await started.wait();
    await runner.close();
    assert.ok(errorLike(Error, /cancel/i)(await pending));
    const leaks = runner.leaks();
    assert.equal(leaks.length, 2);
    assertLeak(leaks[0], "system task", /^system task /, "spawnSystemTaskHere");
    assert.equal(leaks[1].kind, "task");
    assert.equal(leaks[1].description, "task longRunning");
  });

  test(`${name}: worker threads left running are reported with their creation site`, async () => {
    const backend = create();
    const pool = createThreadPool(backend, { maxWorkers: 1 });
    if (pool === undefined) return;
    const runner = backend.newRunner({ debug: true });
    try {
      await runner.run(async function runInPoolHere() {
        assert.equal(await pool.run(work.add, [1, 2]), 3);
      });
      await runner.close();
      const leaks = runner.leaks();
      const worker = leaks.find((leak) => leak.kind === "worker");
      assertLeak(worker, "worker", /^worker thread async-backend-thread_0$/, "runInPoolHere");
      // The idle worker's retirement timer is armed by the pool, not by user code: no user frame.
      const timer = leaks.find((leak) => leak.kind === "timer");
      assert.equal(timer?.description, "the idle sweep of a thread pool");
    } finally {
      await pool.shutdown(true);
    }
    // The run's own pool (runInThread) is closed by close(): no leak.
    const clean = backend.newRunner({ strict: true });
    await clean.run(() => backend.runInThread(work.add, 2, 3));
    await clean.close();
  });

  test(`${name}: a signal receiver left open is reported with its creation site`, async () => {
    const backend = create();
    const runner = backend.newRunner({ debug: true });
    const receiver = await runner.run(() => listenForSignalsHere(backend));
    try {
      await runner.close();
      const leaks = runner.leaks();
      assert.equal(leaks.length, 1);
      assertLeak(leaks[0], "signal receiver", /^signal receiver for SIGWINCH$/, "listenForSignalsHere");
    } finally {
      receiver.close();
    }
  }, { ignore: process.platform === "win32" ? "no SIGWINCH on Windows" : false });

  test(`${name}: without debug mode the report has no stacks`, async () => {
    const backend = create();
    const runner = backend.newRunner({ debug: false });
    const [send] = await runner.run(() => makeChannelHere(backend));
    await runner.close();
    assert.deepEqual(runner.leaks().map((leak) => [leak.kind, leak.stack]), [["channel", undefined]]);
    send.close();
  });

  test(`${name}: a strict runner's close() rejects with ResourceLeakError listing the leaks`, async () => {
    const backend = create();
    const runner = backend.newRunner({ strict: true, debug: true });
    await runner.run(() => makeChannelHere(backend));
    const error = await runner.close().then(() => null, (error) => error);
    assert.ok(error instanceof ResourceLeakError);
    assert.equal(error.leaks.length, 1);
    assert.match(error.message, /1 resource\(s\) still alive:\n- channel: memory channel/);
    assert.match(error.message, /makeChannelHere/);
    // Idempotent: the same outcome.
    await assert.rejects(runner.close(), ResourceLeakError);
  });

  test(`${name}: assertNoLeaks returns the result, throws the leaks, prefers the body's error`, async () => {
    const backend = create();
    assert.equal(await assertNoLeaks(backend, (a: number) => a + 1, 41), 42);
    const error = await assertNoLeaks(backend, () => makeChannelHere(backend)).then(() => null, (error) => error);
    assert.ok(error instanceof ResourceLeakError);
    assertLeak(error.leaks[0], "channel", /memory channel/, "makeChannelHere");
    await assert.rejects(
      assertNoLeaks(backend, () => {
        makeChannelHere(backend);
        throw new RangeError("the body's");
      }),
      errorLike(RangeError, /the body's/),
    );
  });

  test(`${name}: newRunner() rejects bad options with TypeError`, () => {
    const backend = create();
    // deno-lint-ignore no-explicit-any
    const newRunner = backend.newRunner.bind(backend) as (options?: any) => unknown;
    assert.throws(() => newRunner(null), errorLike(TypeError, /'options' argument must be an object/));
    assert.throws(() => newRunner({ debug: 1 }), errorLike(TypeError, /'options\.debug' argument must be a boolean/));
    assert.throws(() => newRunner({ strict: "yes" }), errorLike(TypeError, /'options\.strict' argument/));
  });
}
