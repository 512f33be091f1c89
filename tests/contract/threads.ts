/**
 * Contract tests: runInThread, the worker pool, cancellation of thread calls,
 * threads portals. Worker code lives in `tests/fixtures/work.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CancelledError, threadModule } from "../../backend/mod.ts";
import { activeThreadWorkers } from "../../backend/testing.ts";
import type { AsyncBackend } from "../../backend/mod.ts";
import { AsyncThreadPoolExecutor } from "../../futures/mod.ts";
import type { BackendUnderTest } from "../backends.ts";
import { type LoopFunctions, PortalOutcome } from "../fixtures/work.ts";
import { test } from "../harness.ts";
import * as pipeline from "./threads_pipeline.ts";

const work = threadModule<typeof import("../fixtures/work.ts")>(new URL("../fixtures/work.ts", import.meta.url));

/** A shared slot the worker sets to 1 when the function started; resolves then. */
function startedSignal(): { buffer: SharedArrayBuffer; started: Promise<void> } {
  const buffer = new SharedArrayBuffer(8);
  const result = Atomics.waitAsync(new Int32Array(buffer), 0, 0);
  return { buffer, started: result.async ? result.value.then(() => {}) : Promise.resolve() };
}

/** Waits until the worker function started; fails fast if the call ends first. */
async function whenStarted(started: Promise<void>, call: Promise<unknown>): Promise<void> {
  await Promise.race([
    started,
    call.then(
      () => Promise.reject(new Error("The call ended before its function started")),
      (error) => Promise.reject(error),
    ),
  ]);
}

function loopFunctions(backend: AsyncBackend): LoopFunctions {
  return {
    double: (n: number) => n * 2,
    later: async (n: number) => {
      await backend.sleep(1);
      return n * 10;
    },
    fails: (message: string) => {
      throw new TypeError(message);
    },
    forever: () => backend.sleepForever(),
    sleep: async (ms: number) => {
      await backend.sleep(ms);
      return "slept";
    },
    unclonable: () => () => 1,
  };
}

/** Checks an error made by a value that could not cross a thread: `TypeError`, named subject, `DataCloneError` cause. */
function assertCloneError(error: unknown, subject: RegExp): true {
  assert.ok(error instanceof TypeError, `a TypeError, got ${error}`);
  assert.match(error.message, subject);
  assert.match(error.message, /could not be structured-cloned/);
  assert.equal((error.cause as Error | undefined)?.name, "DataCloneError");
  return true;
}

/** Polls `slot` of `shared` (every 5 ms, at most `ms`) until it is non-zero; returns it. */
async function pollSlot(backend: AsyncBackend, shared: SharedArrayBuffer, slot: number, ms: number): Promise<number> {
  const view = new Int32Array(shared);
  const end = backend.currentTime() + ms;
  while (Atomics.load(view, slot) === 0 && backend.currentTime() < end) await backend.sleep(5);
  return Atomics.load(view, slot);
}

/** Registers this area's tests for `backend`. */
export function register(backend: BackendUnderTest): void {
  const { name, create } = backend;
  // The pipelined pool's own tests (inbox cancellation, stealing, order) live next door.
  pipeline.register(backend);
  test(`${name}: threads: results of sync and async functions, structured-cloned`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      assert.equal(await backend.runInThread(work.add, 40, 2), 42);
      assert.equal(await backend.runInThread(work.addLater, 1, 2), 3);
      const value = { list: [1, 2], map: new Map([["a", 1]]), bytes: new Uint8Array([1, 2, 3]) };
      assert.deepEqual(await backend.runInThread(work.echo, value), value);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: errors keep their name, message, stack and code`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await assert.rejects(backend.runInThread(work.fail, "range", "out of range"), (error: Error) => {
        assert.ok(error instanceof RangeError);
        assert.equal(error.message, "out of range");
        assert.match(error.stack ?? "", /fail/);
        return true;
      });
      await assert.rejects(backend.runInThread(work.fail, "custom", "mine"), (error: Error & { code?: string }) => {
        assert.equal(error.name, "CustomError");
        assert.equal(error.message, "mine");
        assert.equal(error.code, "ECUSTOM");
        assert.match(error.stack ?? "", /work\.[jt]s/); // .js in the npm build
        return true;
      });
      await assert.rejects(
        backend.runInThread(work.unclonable),
        (error) => assertCloneError(error, /^The result of unclonable \(/),
      );
      const missing = threadModule<{ nope(): void }>(new URL("../fixtures/work.ts", import.meta.url));
      await assert.rejects(backend.runInThread(missing.nope), { name: "TypeError", message: /'nope'/ });
      // The pool still works after errors.
      assert.equal(await backend.runInThread(work.add, 1, 1), 2);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: a value that is not an Error thrown in a worker reaches the caller as that value`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      for (const later of [false, true]) {
        const caught = async (kind: "object" | "string" | "number" | "undefined" | "uncloneable") => {
          try {
            await backend.runInThread(work.throwValue, kind, later);
          } catch (error) {
            return error;
          }
          assert.fail(`throwValue(${kind}) did not throw`);
        };
        assert.deepEqual(await caught("object"), { reason: "nope", detail: [1, 2], when: new Date(0) });
        assert.equal(await caught("string"), "a string");
        assert.equal(await caught("number"), 42);
        assert.equal(await caught("undefined"), undefined);
        const uncloneable = await caught("uncloneable") as Error;
        assert.ok(uncloneable instanceof TypeError);
        assert.match(uncloneable.message, /not an Error was thrown \(an object with message "has a function"\)/);
        assert.equal((uncloneable.cause as Error).name, "DataCloneError");
      }
      // The pool still works after them.
      assert.equal(await backend.runInThread(work.add, 2, 3), 5);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: a closure or a non-reference is refused with a TypeError`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const closure = (() => 1) as unknown as typeof work.name;
      await assert.rejects(backend.runInThread(closure), {
        name: "TypeError",
        message: /cannot receive closures.*threadModule/s,
      });
      await assert.rejects(backend.runInThread({} as typeof work.name), { name: "TypeError", message: /'fn'/ });
    });
    assert.throws(() => threadModule("./relative.ts"), { name: "TypeError", message: /'url'/ });
    assert.throws(() => work.add.with({ onCancel: "later" as "wait" }), { name: "TypeError", message: /onCancel/ });
    assert.equal((work as unknown as { then?: unknown }).then, undefined);
    await assert.rejects(create().runInThread(work.add, 1, 2), /runner/);
  });

  test(`${name}: threads: 16 concurrent calls share the bounded pool`, async () => {
    const backend = create();
    const names = await backend.bootstrap(async () => {
      const results: (string | undefined)[] = [];
      await backend.createTaskGroup((tg) => {
        for (let i = 0; i < 16; i++) {
          tg.startSoon(async () => results.push(await backend.runInThread(work.nameAfter, 5)));
        }
      });
      return results;
    });
    assert.equal(names.length, 16);
    const distinct = new Set(names);
    assert.ok(
      distinct.size >= 1 && distinct.size <= (globalThis.navigator?.hardwareConcurrency ?? 4),
      `${distinct.size} workers`,
    );
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: a cancelled caller waits for the function (which sees the flag), then rejects`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const { buffer, started } = startedSignal();
      let settledWhileRunning = false;
      const outcome = await backend.createTaskGroup(async (tg) => {
        const task = tg.startSoon(() => backend.runInThread(work.startedThenWaitCancel, buffer, 30_000));
        await whenStarted(started, task.join());
        task.cancel();
        await task.wait();
        settledWhileRunning = true;
        return task.cancelled();
      });
      assert.ok(settledWhileRunning);
      assert.equal(outcome, true);
      assert.equal(Atomics.load(new Int32Array(buffer), 1), 2, "the function saw the flag and ended first");
      // The function returned (it saw the flag) before the caller was released: the next call runs at once.
      assert.equal(await backend.runInThread(work.add, 2, 2), 4);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: default cancellation delivers CancelledError after the function ends`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const { buffer, started } = startedSignal();
      const result = await backend.moveOnAfter(Infinity, async (scope) => {
        const call = backend.runInThread(work.startedThenThrowIfCancelled, buffer, 30_000);
        await whenStarted(started, call);
        scope.cancel();
        await assert.rejects(call, CancelledError);
        return "rejected";
      });
      assert.equal(result, "rejected");
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: threadSignal() aborts in an async worker function`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const { buffer, started } = startedSignal();
      await backend.moveOnAfter(Infinity, async (scope) => {
        const call = backend.runInThread(work.startedThenAwaitSignal, buffer);
        await whenStarted(started, call);
        scope.cancel();
        await assert.rejects(call, CancelledError);
      });
      assert.equal(await backend.runInThread(work.add, 1, 2), 3);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: onCancel "terminate" returns at once and the pool still works`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const { buffer, started } = startedSignal();
      const forever = work.startedThenBlockForever.with({ onCancel: "terminate" });
      const before = backend.currentTime();
      await backend.moveOnAfter(Infinity, async (scope) => {
        const call = backend.runInThread(forever, buffer);
        await whenStarted(started, call);
        scope.cancel();
        await assert.rejects(call, CancelledError);
      });
      assert.ok(backend.currentTime() - before < 10_000);
      assert.equal(await backend.runInThread(work.add, 5, 5), 10);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: onCancel "abandon" returns at once; runner close ends the worker`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const { buffer, started } = startedSignal();
      await backend.moveOnAfter(Infinity, async (scope) => {
        const call = backend.runInThread(work.startedThenBlockForever.with({ onCancel: "abandon" }), buffer);
        await whenStarted(started, call);
        scope.cancel();
        await assert.rejects(call, CancelledError);
      });
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: a queued call cancelled before it starts never runs`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 1 });
      const { buffer, started } = startedSignal();
      await backend.moveOnAfter(Infinity, async (scope) => {
        const first = executor.run(work.startedThenWaitCancel, buffer, 30_000);
        const second = executor.run(work.add, 1, 2);
        await whenStarted(started, first);
        scope.cancel();
        await assert.rejects(second, CancelledError);
        await assert.rejects(first, CancelledError);
      });
      assert.equal(await executor.run(work.add, 1, 2), 3);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: a dying worker rejects its call naming the function, and is replaced`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await assert.rejects(backend.runInThread(work.crash), (error: Error) => {
        assert.match(error.message, /crash/);
        assert.match(error.message, /boom from a timer/);
        return true;
      });
      await assert.rejects(backend.runInThread(work.closeSelf), /closeSelf/);
      assert.equal(await backend.runInThread(work.add, 3, 4), 7);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: portal runSync, runCoroutine and errors from a worker`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const portal = backend.createThreadsPortal(loopFunctions(backend));
      assert.deepEqual(await backend.runInThread(work.usePortal, portal), [42, 50, "TypeError", "no good"]);
      // Reused by the same worker (the channel is cached) and by async calls.
      assert.deepEqual(await backend.runInThread(work.usePortalAsync, portal), [10, 4, 30]);
      assert.deepEqual(await backend.runInThread(work.usePortal, portal), [42, 50, "TypeError", "no good"]);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: portal blocking calls throw on the loop's thread; call() works there`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const portal = backend.createThreadsPortal(loopFunctions(backend));
      assert.throws(() => portal.runSync("double", 1), /loop's own thread/);
      assert.throws(() => portal.runCoroutine("later", 1), /deadlock/);
      assert.equal(await portal.call("later", 2), 20);
      await assert.rejects(portal.call("nope" as "double", 1), /no function named 'nope'/);
    });
    assert.throws(() => create().createThreadsPortal({}), /runner/);
  });

  test(`${name}: threads: after the runner closed, portal calls throw instead of blocking`, async () => {
    const backend = create();
    await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 1 });
    await backend.bootstrap(async () => {
      const portal = backend.createThreadsPortal(loopFunctions(backend));
      await executor.run(work.keepPortal, portal);
      assert.equal(await executor.run(work.callKeptPortal), "2");
    });
    assert.match(await executor.run(work.callKeptPortal), /threw: .*closed/);
  });

  test(`${name}: threads: closing the runner wakes a worker blocked in a portal call`, async () => {
    const backend = create();
    const runner = backend.newRunner();
    const { buffer, started } = startedSignal();
    await runner.run(async () => {
      const portal = backend.createThreadsPortal(loopFunctions(backend));
      const task = backend.spawnTask(() => backend.runInThread(work.blockInPortal, portal, buffer));
      await whenStarted(started, task.join());
    });
    await runner.close();
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: uncloneable arguments reject naming the function and give the worker back`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      // Bounded: a lost worker leaves the last call queued, and the deadline fails the test instead of hanging.
      await backend.timeout(20_000, async () => {
        const workers = globalThis.navigator?.hardwareConcurrency ?? 4;
        const bad = (() => 1) as unknown as number;
        for (let i = 0; i < workers + 2; i++) {
          await assert.rejects(backend.runInThread(work.add, 1, bad), (error) => {
            assertCloneError(error, /^The arguments of add \(.*work\.[jt]s\) could not be structured-cloned to a/);
            return true;
          });
        }
        // Concurrent bad calls while every worker is busy: the ones that reach a freed worker fail there.
        const { buffer, started } = startedSignal();
        await backend.createTaskGroup(async (tg) => {
          const busy = tg.startSoon(() => backend.runInThread(work.startedThenWaitCancel, buffer, 200));
          await whenStarted(started, busy.join());
          for (let i = 0; i < workers + 2; i++) {
            tg.startSoon(() => assert.rejects(backend.runInThread(work.echo, bad), TypeError));
          }
        });
        assert.equal(await backend.runInThread(work.add, 1, 2), 3);
      });
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: uncloneable results reject naming the function and the worker is reused`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await backend.timeout(20_000, async () => {
        const workers = globalThis.navigator?.hardwareConcurrency ?? 4;
        for (let i = 0; i < workers + 2; i++) {
          await assert.rejects(backend.runInThread(work.unclonable), (error) => {
            assertCloneError(error, /^The result of unclonable \(.*work\.[jt]s\) could not be structured-cloned back/);
            return true;
          });
        }
        assert.equal(await backend.runInThread(work.add, 2, 3), 5);
      });
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: an executor's pool survives uncloneable arguments and results`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 1 });
      await backend.timeout(20_000, async () => {
        const bad = (() => 1) as unknown as number;
        for (let i = 0; i < 3; i++) {
          await assert.rejects(
            executor.run(work.add, bad, 1),
            (error) => assertCloneError(error, /^The arguments of add/),
          );
          await assert.rejects(
            executor.run(work.unclonable),
            (error) => assertCloneError(error, /^The result of unclonable/),
          );
        }
        assert.equal(await executor.run(work.add, 1, 2), 3);
        // Queued behind a busy worker: when it frees, the bad calls fail in turn and the good one runs.
        const { buffer, started } = startedSignal();
        const results = await backend.createTaskGroup(async (tg) => {
          const busy = tg.startSoon(() => executor.run(work.startedThenWaitCancel, buffer, 100));
          await whenStarted(started, busy.join());
          const queued = [
            tg.startSoon(() => executor.run(work.echo, bad).then(() => "resolved", (error) => error.name)),
            tg.startSoon(() => executor.run(work.echo, bad).then(() => "resolved", (error) => error.name)),
            tg.startSoon(() => executor.run(work.add, 2, 2)),
            tg.startSoon(() => executor.run(work.echo, bad).then(() => "resolved", (error) => error.name)),
          ];
          return Promise.all([busy.join(), ...queued.map((task) => task.join())]);
        });
        assert.deepEqual(results, ["timed out", "TypeError", "TypeError", 4, "TypeError"]);
        // Initializer arguments that cannot be cloned break that executor's pool with a clear error, at once.
        await using broken = new AsyncThreadPoolExecutor(backend, { initializer: work.init, initargs: [bad] });
        await assert.rejects(broken.run(work.add, 1, 2), (error) => {
          assertCloneError(error, /^The arguments of the thread pool's initializer init \(/);
          return true;
        });
      });
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: portal calls with uncloneable arguments or results throw in the worker`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const portal = backend.createThreadsPortal(loopFunctions(backend));
      const summaries = await backend.timeout(20_000, () => backend.runInThread(work.portalCloneErrors, portal));
      const subjects = [
        /^The arguments of ThreadsPortal\.runSync\('double'\) could not be structured-cloned to the loop/,
        /^The arguments of ThreadsPortal\.runCoroutine\('double'\) could not be/,
        /^The arguments of ThreadsPortal\.call\('double'\) could not be/,
        /^The result of the threads portal function 'unclonable' could not be structured-cloned back to the worker/,
        /^The result of the threads portal function 'unclonable' could not be/,
      ];
      assert.equal(summaries.length, subjects.length + 1);
      subjects.forEach((subject, i) => {
        const [errorName, message, causeName] = summaries[i];
        assert.equal(errorName, "TypeError", message);
        assert.match(message, subject);
        assert.equal(causeName, "DataCloneError");
      });
      assert.deepEqual(summaries[subjects.length], ["double", "8", undefined]);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  for (const method of ["runCoroutine", "call", "runSync"] as const) {
    test(`${name}: threads: cancelling the caller cancels a pending portal ${method}(), which throws CancelledError in the worker`, async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        const portal = backend.createThreadsPortal(loopFunctions(backend));
        const { buffer, started } = startedSignal();
        const before = backend.currentTime();
        let rejection: unknown;
        await backend.moveOnAfter(Infinity, async (scope) => {
          // The loop function sleeps 10 s: without rule 5 the call only ends then, and the bound below fails.
          const call = backend.runInThread(work.sleepInPortal, portal, buffer, method, 10_000);
          await whenStarted(started, call);
          await backend.sleep(20); // let the request reach the loop
          scope.cancel();
          await call.catch((error) => rejection = error);
        });
        assert.ok(rejection instanceof CancelledError, `CancelledError, got ${rejection}`);
        const elapsed = backend.currentTime() - before;
        assert.ok(elapsed < 5_000, `settled after ${elapsed} ms`);
        assert.equal(Atomics.load(new Int32Array(buffer), 1), PortalOutcome.Cancelled, "the worker saw CancelledError");
        // The worker is free again and the portal still works.
        assert.deepEqual(await backend.runInThread(work.usePortal, portal), [42, 50, "TypeError", "no good"]);
      });
      assert.equal(activeThreadWorkers(), 0);
    });
  }

  test(`${name}: threads: a caller's deadline cancels a portal call blocking the worker; moveOnAfter resolves`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const portal = backend.createThreadsPortal(loopFunctions(backend));
      // The worker up first: a call still waiting in its inbox at the deadline would be dropped, never run.
      assert.equal(await backend.runInThread(work.add, 1, 2), 3);
      const { buffer } = startedSignal();
      const before = backend.currentTime();
      const result = await backend.moveOnAfter(100, async () => {
        await backend.runInThread(work.sleepInPortal, portal, buffer, "runCoroutine", 10_000);
        return "completed";
      });
      assert.equal(result, undefined);
      const elapsed = backend.currentTime() - before;
      assert.ok(elapsed < 5_000, `settled after ${elapsed} ms`);
      assert.equal(Atomics.load(new Int32Array(buffer), 1), PortalOutcome.Cancelled);
      // A timeout() around the call rejects with TimeoutError the same way.
      await assert.rejects(
        backend.timeout(
          50,
          () => backend.runInThread(work.sleepInPortal, portal, startedSignal().buffer, "call", 10_000),
        ),
        { name: "TimeoutError" },
      );
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: a portal call made in a caller's cancelled scope throws CancelledError at once`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const portal = backend.createThreadsPortal(loopFunctions(backend));
      const { buffer, started } = startedSignal();
      await backend.moveOnAfter(Infinity, async (scope) => {
        // The worker first waits for the cancel flag, then makes the portal call: the caller is cancelled already.
        const call = backend.runInThread(work.waitCancelThenSleepInPortal, portal, buffer, 10_000);
        await whenStarted(started, call);
        scope.cancel();
        await assert.rejects(call, CancelledError);
      });
      assert.equal(Atomics.load(new Int32Array(buffer), 1), PortalOutcome.Cancelled);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads: a portal call made outside any thread call runs in the runner, not in a past caller's scope`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const portal = backend.createThreadsPortal(loopFunctions(backend));
      const shared = new SharedArrayBuffer(8);
      await backend.moveOnAfter(Infinity, async (scope) => {
        assert.equal(await backend.runInThread(work.callPortalAfterReturn, portal, shared), "returned");
        scope.cancel(); // the caller's scope is cancelled before the worker's later call reaches the loop
      });
      assert.equal(await pollSlot(backend, shared, 0, 10_000), 40);
    });
    assert.equal(activeThreadWorkers(), 0);
  });
}
