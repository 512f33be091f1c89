/**
 * Contract tests: the virtual clock (`MockClock`, `newRunner({ clock })`,
 * `bootstrap({ clock }, fn)`): sleeps and deadlines follow it, `jump`,
 * `advance`, `rate`, autojump and what keeps a runner from being idle, the
 * worker pool's idle retirement, the TLS handshake bound; and bad arguments.
 * Every test bounds its real time: virtual minutes must take real milliseconds.
 *
 * @module
 */

import assert from "node:assert/strict";
import { activeThreadWorkers, MockClock } from "../../backend/testing.ts";
import { threadModule } from "../../backend/mod.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { domException, errorLike, yieldTimes, yieldUntil } from "./core_util.ts";
import { CLIENT_TLS, netOptions, withCode, withServer } from "./net_util.ts";

const work = threadModule<typeof import("../fixtures/work.ts")>(new URL("../fixtures/work.ts", import.meta.url));

/** The most real time a test of virtual minutes may take, in ms (2 shared cores, sanitizers). */
const REAL_BOUND = 5_000;

function realTimer(): () => number {
  const started = performance.now();
  return () => performance.now() - started;
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: clock: a 30-second timeout expires under autojump in milliseconds of real time`, async () => {
    const backend = create();
    const clock = new MockClock({ autojump: true, start: 1_000 });
    const elapsed = realTimer();
    const seen: number[] = [];
    await backend.bootstrap({ clock }, async () => {
      seen.push(backend.currentTime());
      await assert.rejects(backend.timeout(30_000, () => backend.sleepForever()), domException("TimeoutError"));
      seen.push(backend.currentTime());
      await backend.sleep(5_000);
      seen.push(backend.currentTime());
      await backend.sleepUntil(40_000);
      seen.push(backend.currentTime());
      const result = await backend.moveOnAfter(60_000, () => backend.sleep(120_000));
      assert.equal(result, undefined);
      seen.push(backend.currentTime());
    });
    assert.deepEqual(seen, [1_000, 31_000, 36_000, 40_000, 100_000]);
    assert.ok(elapsed() < REAL_BOUND, `took ${elapsed()} ms of real time`);
    // Outside the runner, the runtime's clock again.
    assert.notEqual(backend.currentTime(), clock.now());
  });

  test(`${name}: clock: a frozen clock moves only with advance() and jump(); advance() stops at each deadline`, async () => {
    const backend = create();
    const clock = new MockClock();
    const order: string[] = [];
    const runner = backend.newRunner({ clock });
    try {
      const done = runner.run(() =>
        backend.createTaskGroup((tg) => {
          tg.startSoon(async () => {
            await backend.sleep(300);
            order.push(`b@${backend.currentTime()}`);
          });
          tg.startSoon(async () => {
            await backend.sleep(100);
            order.push(`a@${backend.currentTime()}`);
          });
          tg.startSoon(async () => {
            const early = await backend.moveOnAfter(200, () => backend.sleepForever());
            order.push(`scope@${backend.currentTime()}:${String(early)}`);
          });
        })
      );
      await clock.advance(99);
      assert.deepEqual(order, []);
      assert.equal(clock.now(), 99);
      await clock.advance(1);
      assert.deepEqual(order, ["a@100"]);
      await clock.advance(150);
      assert.deepEqual(order, ["a@100", "scope@200:undefined"]);
      // A jump fires what is due at its end: the sleeper wakes at 350, not 300.
      clock.jump(100);
      assert.equal(clock.now(), 350);
      await done;
      assert.deepEqual(order, ["a@100", "scope@200:undefined", "b@350"]);
    } finally {
      await runner.close();
    }
  });

  test(`${name}: clock: advance() lets woken tasks arm their next timers inside the window`, async () => {
    const backend = create();
    const clock = new MockClock();
    const ticks: number[] = [];
    const runner = backend.newRunner({ clock });
    try {
      const done = runner.run(async () => {
        for (let i = 0; i < 5; i++) {
          await backend.sleep(100);
          ticks.push(backend.currentTime());
        }
      });
      await clock.advance(450);
      assert.deepEqual(ticks, [100, 200, 300, 400]);
      assert.equal(clock.now(), 450);
      await clock.advance(50);
      await done;
      assert.deepEqual(ticks, [100, 200, 300, 400, 500]);
    } finally {
      await runner.close();
    }
  });

  test(`${name}: clock: autojump waits while a task of the runner keeps yielding`, async () => {
    const backend = create();
    const clock = new MockClock({ autojump: true });
    await backend.bootstrap({ clock }, () =>
      backend.createTaskGroup((tg) => {
        let busy = true;
        tg.startSoon(async () => {
          await backend.sleep(1_000);
          // The sleeper woke only once the busy task had stopped.
          assert.equal(busy, false);
          assert.equal(backend.currentTime(), 1_000);
        });
        tg.startSoon(async () => {
          await yieldTimes(backend, 300);
          assert.equal(backend.currentTime(), 0);
          busy = false;
        });
      }));
    assert.equal(clock.now(), 1_000);
  });

  test(`${name}: clock: a clock at rate 1000 runs a 60-second sleep in real milliseconds; rate 0 freezes it`, async () => {
    const backend = create();
    const clock = new MockClock({ rate: 1_000 });
    const elapsed = realTimer();
    await backend.bootstrap({ clock }, async () => {
      await backend.sleep(60_000);
      assert.ok(backend.currentTime() >= 60_000);
      clock.rate = 0;
      const frozen = clock.now();
      await yieldTimes(backend, 10);
      assert.equal(clock.now(), frozen);
    });
    assert.ok(elapsed() < REAL_BOUND, `took ${elapsed()} ms of real time`);
  });

  test(`${name}: clock: the worker pool's idle retirement follows the runner's clock`, async () => {
    const backend = create();
    const clock = new MockClock();
    await backend.bootstrap({ clock }, async () => {
      assert.equal(await backend.runInThread(work.add, 2, 3), 5);
      assert.equal(activeThreadWorkers(), 1);
      await clock.advance(9_999);
      assert.equal(activeThreadWorkers(), 1);
      clock.jump(1);
      await yieldUntil(backend, () => activeThreadWorkers() === 0, "the idle worker to retire");
    });
  });

  test(`${name}: clock: a TLS handshake bound of 30 seconds expires under autojump in real milliseconds`, async () => {
    const backend = create();
    const clock = new MockClock({ autojump: true });
    const elapsed = realTimer();
    await backend.bootstrap({ clock }, async () => {
      const clientDone = backend.createEvent();
      // A plain TCP server that never answers the ClientHello.
      await withServer(backend, () => clientDone.wait(), async (port) => {
        const before = backend.currentTime();
        await assert.rejects(
          backend.createSslOverTcpConnection("127.0.0.1", port, CLIENT_TLS, { sslHandshakeTimeout: 30_000 }),
          withCode("ETIMEDOUT"),
        );
        assert.equal(backend.currentTime() - before, 30_000);
        clientDone.set();
      });
    });
    assert.ok(elapsed() < REAL_BOUND, `took ${elapsed()} ms of real time`);
  }, netOptions(name));

  test(`${name}: clock: bad options and steps are refused`, async () => {
    const backend = create();
    assert.throws(() => new MockClock({ rate: -1 }), errorLike(RangeError, /'rate'/));
    assert.throws(() => new MockClock({ rate: Infinity }), errorLike(RangeError, /'rate'/));
    assert.throws(() => new MockClock({ start: NaN }), errorLike(RangeError, /'start'/));
    assert.throws(() => new MockClock({ autojump: 1 as unknown as boolean }), errorLike(TypeError, /'autojump'/));
    assert.throws(() => new MockClock(null as unknown as object), errorLike(TypeError, /'options'/));
    const clock = new MockClock();
    assert.throws(() => clock.jump(-1), errorLike(RangeError, /'ms'/));
    assert.throws(() => clock.jump(Infinity), errorLike(RangeError, /'ms'/));
    await assert.rejects(clock.advance("1" as unknown as number), errorLike(TypeError, /'ms'/));
    assert.throws(() => {
      clock.rate = -2;
    }, errorLike(RangeError, /'rate'/));
    assert.throws(() => backend.newRunner({ clock: {} as MockClock }), errorLike(TypeError, /'clock'/));
    assert.throws(() => backend.newRunner(5 as unknown as object), errorLike(TypeError, /'options'/));
    const runner = backend.newRunner({ clock });
    try {
      assert.throws(() => backend.newRunner({ clock }), errorLike(Error, /already used/));
    } finally {
      await runner.close();
    }
    // Closing the runner frees the clock.
    assert.equal(await backend.bootstrap({ clock }, () => backend.currentTime()), 0);
  });
}
