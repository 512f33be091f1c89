/**
 * Contract tests: AsyncExecutor over any executor, AsyncThreadPoolExecutor.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CancelledError, threadModule } from "../../backend/mod.ts";
import { activeThreadWorkers } from "../../backend/testing.ts";
import type { CancellableFuture } from "../../backend/mod.ts";
import { AsyncExecutor, AsyncThreadPoolExecutor, type Executor } from "../../futures/mod.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";

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

/** An executor of plain functions whose futures start when `release()` is called. */
class GatedExecutor implements Executor {
  cancelled = 0;
  shutdowns: { wait: boolean; cancelFutures: boolean }[] = [];
  #gates: (() => void)[] = [];

  submit(fn: (...args: unknown[]) => unknown, ...args: unknown[]): CancellableFuture<unknown> {
    let isCancelled = false;
    let reject!: (error: unknown) => void;
    const promise = new Promise<unknown>((resolve, rejectFn) => {
      reject = rejectFn;
      this.#gates.push(() => {
        try {
          resolve(fn(...args));
        } catch (error) {
          rejectFn(error);
        }
      });
    });
    return {
      then: (onFulfilled, onRejected) => promise.then(onFulfilled, onRejected),
      cancel: () => {
        isCancelled = true;
        this.cancelled++;
        reject(new Error("cancelled by the executor"));
        return true;
      },
      cancelled: () => isCancelled,
    };
  }

  release(): void {
    for (const gate of this.#gates.splice(0)) gate();
  }

  shutdown(options: { wait: boolean; cancelFutures: boolean }): void {
    this.shutdowns.push(options);
  }
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: futures: AsyncExecutor runs through any submit() and cancels its futures`, async () => {
    const backend = create();
    const inner = new GatedExecutor();
    await backend.bootstrap(async () => {
      const executor = new AsyncExecutor(backend, inner);
      const sum = executor.run((a: number, b: number) => a + b, 2, 3);
      inner.release();
      assert.equal(await sum, 5);
      const result = await backend.moveOnAfter(Infinity, async (scope) => {
        const pending = executor.run(() => "never");
        scope.cancel();
        await assert.rejects(pending, CancelledError);
        return "cancelled";
      });
      assert.equal(result, "cancelled");
      assert.equal(inner.cancelled, 1);
      executor.shutdownNowait({ cancelFutures: true });
      await executor.shutdown();
      await assert.rejects(executor.run(() => 1), /shut down/);
    });
    assert.deepEqual(inner.shutdowns, [{ wait: false, cancelFutures: true }, { wait: true, cancelFutures: false }]);
    assert.throws(() => new AsyncExecutor(backend, {} as Executor), { name: "TypeError", message: /'executor'/ });
  });

  test(`${name}: futures: 16 calls on a 2-worker pool use 2 named workers`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 2, threadNamePrefix: "fut" });
      assert.equal(executor.maxWorkers, 2);
      const names: (string | undefined)[] = [];
      await backend.createTaskGroup((tg) => {
        for (let i = 0; i < 16; i++) tg.startSoon(async () => names.push(await executor.run(work.nameAfter, 5)));
      });
      assert.equal(names.length, 16);
      const distinct = new Set(names);
      assert.ok(distinct.size <= 2, [...distinct].join());
      for (const workerName of distinct) assert.match(workerName ?? "", /^fut_\d+$/);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: futures: the initializer runs once per worker with its initargs`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await using executor = new AsyncThreadPoolExecutor(backend, {
        maxWorkers: 1,
        threadNamePrefix: "init",
        initializer: work.init,
        initargs: ["a", 1],
      });
      assert.deepEqual(await executor.run(work.initState), { args: ["a", 1], name: "init_0" });
      assert.deepEqual(await executor.run(work.initState), { args: ["a", 1], name: "init_0" });
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: futures: a failing initializer breaks the pool with an error naming it`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 1, initializer: work.badInit });
      await assert.rejects(executor.run(work.add, 1, 2), /badInit.*initializer failed on purpose/);
      await assert.rejects(executor.run(work.add, 1, 2), /badInit/);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: futures: shutdown() waits for running and queued calls`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 1 });
      const calls = [executor.run(work.addLater, 1, 1), executor.run(work.add, 2, 2), executor.run(work.add, 3, 3)];
      await executor.shutdown();
      assert.equal(activeThreadWorkers(), 0);
      assert.deepEqual(await Promise.all(calls), [2, 4, 6]);
      await assert.rejects(executor.run(work.add, 1, 2), /shut down/);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: futures: shutdown({ cancelFutures: true }) cancels queued calls, finishes the running one`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 1 });
      const { buffer, started } = startedSignal();
      const running = executor.run(work.startedThenWaitCancel, buffer, 200);
      const queued = Promise.allSettled([executor.run(work.add, 1, 1), executor.run(work.add, 2, 2)]);
      await whenStarted(started, running);
      await executor.shutdown({ cancelFutures: true });
      assert.equal(activeThreadWorkers(), 0);
      assert.equal(await running, "timed out");
      for (const outcome of await queued) {
        assert.equal(outcome.status, "rejected");
        assert.ok(outcome.status === "rejected" && outcome.reason instanceof CancelledError);
      }
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: futures: shutdownNowait returns at once; the submitted calls still complete`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 1 });
      const calls = [executor.run(work.addLater, 1, 1), executor.run(work.add, 2, 2)];
      executor.shutdownNowait();
      assert.equal(executor.isShutdown, true);
      assert.deepEqual(await Promise.all(calls), [2, 4]);
      await executor.shutdown();
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: futures: map() keeps order and bounds concurrency`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 2 });
      const squares = await executor.map(work.echo, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], { concurrency: 3 });
      assert.deepEqual(squares, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      await assert.rejects(executor.map(work.echo, [1], { concurrency: 0 }), RangeError);
      const inner = new AsyncExecutor(backend, {
        submit: (fn: (n: number) => number, n: number) => Promise.resolve(fn(n)),
      });
      let inFlight = 0;
      let most = 0;
      const doubled = await inner.map(
        async (n: number) => {
          most = Math.max(most, ++inFlight);
          await backend.sleep(1);
          inFlight--;
          return n * 2;
        },
        [1, 2, 3, 4, 5, 6],
        { concurrency: 2 },
      );
      assert.deepEqual(doubled, [2, 4, 6, 8, 10, 12]);
      assert.ok(most <= 2, `${most} in flight`);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: futures: idle workers retire after idleTimeout and come back on demand`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 1, idleTimeout: 1 });
      assert.equal(await executor.run(work.add, 1, 1), 2);
      assert.equal(activeThreadWorkers(), 1);
      // The retirement timer is unref'd and has no event to await: poll, bounded.
      for (let i = 0; i < 400 && activeThreadWorkers() > 0; i++) await backend.sleep(5);
      assert.equal(activeThreadWorkers(), 0);
      assert.equal(await executor.run(work.add, 2, 2), 4);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: futures: bad options are refused`, () => {
    const backend = create();
    assert.throws(() => new AsyncThreadPoolExecutor(backend, { maxWorkers: 0 }), RangeError);
    assert.throws(() => new AsyncThreadPoolExecutor(backend, { initializer: (() => {}) as never }), TypeError);
    assert.throws(() => new AsyncThreadPoolExecutor({} as never), { name: "TypeError", message: /'backend'/ });
  });
}
