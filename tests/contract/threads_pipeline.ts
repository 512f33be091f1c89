/**
 * Contract tests of the pipelined pool (registered by `threads.ts`): a worker
 * holds several calls and gets the calls of one tick in one message. What
 * must hold: a call still waiting in a worker's inbox is dropped exactly when
 * its caller is cancelled, and never runs; a short call does not wait behind
 * a long one while another worker is idle (it is taken back from the busy
 * worker's inbox); calls run in the order they were submitted. Worker code:
 * `tests/fixtures/pipeline_work.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CancelledError, threadModule } from "../../backend/mod.ts";
import { activeThreadWorkers } from "../../backend/testing.ts";
import { AsyncThreadPoolExecutor } from "../../futures/mod.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";

const work = threadModule<typeof import("../fixtures/pipeline_work.ts")>(
  new URL("../fixtures/pipeline_work.ts", import.meta.url),
);

/** A call blocking its worker until released: `[shared, started, release]`. */
function blocker(): { shared: SharedArrayBuffer; started: Promise<void>; release(): void } {
  const shared = new SharedArrayBuffer(8);
  const slots = new Int32Array(shared);
  const wait = Atomics.waitAsync(slots, 0, 0);
  return {
    shared,
    started: wait.async ? wait.value.then(() => {}) : Promise.resolve(),
    release: () => {
      Atomics.store(slots, 1, 1);
      Atomics.notify(slots, 1);
    },
  };
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: threads pipeline: a call cancelled while in a busy worker's inbox is dropped and never runs`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 1 });
      const counts = new SharedArrayBuffer(4 * 8);
      const long = blocker();
      const first = executor.run(work.blockUntilReleased, long.shared, 30_000);
      await long.started;
      const outcomes: Promise<string>[] = [];
      await backend.moveOnAfter(Infinity, async (scope) => {
        for (let i = 0; i < 8; i++) {
          outcomes.push(executor.run(work.mark, counts, i).then(() => "ran", (error) => error.constructor.name));
        }
        // A macrotask later the calls sit in the worker's inbox, behind the blocked call.
        await new Promise((resolve) => setTimeout(resolve, 20));
        scope.cancel();
      });
      assert.deepEqual(await Promise.all(outcomes), new Array(8).fill(CancelledError.name));
      long.release();
      assert.equal(await first, "released");
      // The worker has read its whole inbox by now: none of the dropped calls ran.
      assert.equal(await executor.run(work.mark, counts, 7), 7);
      assert.deepEqual([...new Int32Array(counts)], [0, 0, 0, 0, 0, 0, 0, 1]);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads pipeline: cancelling calls at any moment runs each at most once, uncancelled ones once`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 2 });
      const calls = 400;
      const counts = new SharedArrayBuffer(4 * calls);
      const outcomes: Promise<string>[] = [];
      for (let batch = 0; batch < calls / 20; batch++) {
        await backend.moveOnAfter(Infinity, async (scope) => {
          for (let i = batch * 20; i < batch * 20 + 20; i++) {
            outcomes.push(executor.run(work.mark, counts, i).then(() => "ran", () => "cancelled"));
          }
          // Cancel after 0 to 3 turns: some calls queued, some in an inbox, some running or done.
          for (let turn = 0; turn < batch % 4; turn++) await new Promise((resolve) => setTimeout(resolve, 0));
          scope.cancel();
        });
      }
      const settled = await Promise.all(outcomes);
      assert.equal(await executor.run(work.mark, new SharedArrayBuffer(4), 0), 0);
      const ran = new Int32Array(counts);
      let dropped = 0;
      for (let i = 0; i < calls; i++) {
        assert.ok(ran[i] <= 1, `call ${i} ran ${ran[i]} times`);
        if (settled[i] === "ran") assert.equal(ran[i], 1, `call ${i} resolved without running`);
        if (ran[i] === 0) dropped++;
      }
      assert.ok(dropped > 0, "no call was dropped");
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads pipeline: a short call behind a long one moves to the idle worker`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 2 });
      const counts = new SharedArrayBuffer(4 * 4);
      // Both workers up and their module loaded.
      assert.deepEqual(await Promise.all([executor.run(work.mark, counts, 3), executor.run(work.mark, counts, 3)]), [
        3,
        3,
      ]);
      const long = blocker();
      // One tick: the first worker gets [long, short], the second the two others.
      const first = executor.run(work.blockUntilReleased, long.shared, 30_000);
      const short = executor.run(work.mark, counts, 0);
      const others = [executor.run(work.mark, counts, 1), executor.run(work.mark, counts, 2)];
      await long.started;
      const outcome = await backend.moveOnAfter(20_000, () => short);
      assert.equal(outcome, 0, "the short call waited behind the long one");
      assert.deepEqual(await Promise.all(others), [1, 2]);
      long.release();
      assert.equal(await first, "released");
      assert.deepEqual([...new Int32Array(counts)], [1, 1, 1, 2]);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads pipeline: calls of one tick run in submission order and results match`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await using executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 1 });
      const count = 200;
      const log = new SharedArrayBuffer(4 * (count + 1));
      const calls = Array.from({ length: count }, (_, i) => executor.run(work.append, log, i));
      assert.deepEqual(await Promise.all(calls), Array.from({ length: count }, (_, i) => i));
      assert.deepEqual([...new Int32Array(log).subarray(1)], Array.from({ length: count }, (_, i) => i));
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: threads pipeline: arguments and results keep their exact value, alone or batched (-0, NaN, lone surrogates)`, async () => {
    const backend = create();
    const echo =
      threadModule<typeof import("../fixtures/work.ts")>(new URL("../fixtures/work.ts", import.meta.url)).echo;
    // Values that JSON text would change or refuse, and plain ones (which may travel as text).
    const values: unknown[] = [-0, 0, NaN, Infinity, -Infinity, undefined, null, true, 1.5, 2 ** 53 + 2, 1e-310];
    values.push("", 'a"b\\c\n\u2028', "\ud800", "\u{1F600}", 10n, [1, [2]], { a: 1 }, [undefined], new Array(2));
    await backend.bootstrap(async () => {
      for (const value of values) assert.deepStrictEqual(await backend.runInThread(echo, value), value);
      // One tick: the calls travel together, and so do their results.
      const batched = await Promise.all(values.map((value) => backend.runInThread(echo, value)));
      assert.deepStrictEqual(batched, values);
      const pairs = await Promise.all(values.map((value) => backend.runInThread(work.pair, value, 1)));
      assert.deepStrictEqual(pairs, values.map((value) => [value, 1]));
    });
    assert.equal(activeThreadWorkers(), 0);
  });
}
