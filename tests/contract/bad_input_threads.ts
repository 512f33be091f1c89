/**
 * Contract tests: the bad-input table of threads (`runInThread`,
 * `threadModule`, portals), executors (`AsyncExecutor`,
 * `AsyncThreadPoolExecutor`), `SingleTaskRunner` and `AsyncBackendFactory`:
 * wrong types, closures where a thread function reference is needed, bad
 * numbers, closed objects (a portal of a closed runner, a shut-down executor),
 * blocking portal calls on the loop's own thread, and calls made outside any
 * runner. Each row must answer with a `TypeError`/`RangeError` naming the
 * argument, or the documented error naming the misused call.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { ThreadsPortal } from "../../backend/abc/threads.ts";
import { ClosedResourceError } from "../../backend/errors.ts";
import { threadModule } from "../../backend/mod.ts";
import { AsyncBackendFactory } from "../../factory/mod.ts";
import { AsyncExecutor, AsyncThreadPoolExecutor } from "../../futures/mod.ts";
import { SingleTaskRunner } from "../../tasks/mod.ts";
import type { BackendUnderTest } from "../backends.ts";
import type { LoopFunctions } from "../fixtures/work.ts";
import { test } from "../harness.ts";
import { report, type Row, runTable, wrong } from "./bad_input_util.ts";

const work = threadModule<typeof import("../fixtures/work.ts")>(new URL("../fixtures/work.ts", import.meta.url));

/** The objects the rows use. */
interface Threads {
  b: AsyncBackend;
  portal: ThreadsPortal<LoopFunctions>;
  /** A portal of a runner that was closed. */
  closedPortal: ThreadsPortal<LoopFunctions>;
  executor: AsyncThreadPoolExecutor;
  /** An executor that was shut down. */
  shutDown: AsyncThreadPoolExecutor;
}

const loopFunctions = (): LoopFunctions => ({
  double: (n: number) => n * 2,
  later: (n: number) => Promise.resolve(n * 10),
  fails: (message: string) => {
    throw new TypeError(message);
  },
  forever: () => new Promise<never>(() => {}),
  sleep: () => Promise.resolve("slept"),
  unclonable: () => () => 1,
});

const BAD_WORKERS: [string, unknown, ErrorConstructor][] = [
  ["0", 0, RangeError],
  ["1.5", 1.5, RangeError],
  ["NaN", NaN, RangeError],
  ["-1", -1, RangeError],
  ['"2"', "2", RangeError],
];

const ROWS: Row<Threads>[] = [
  // ---- runInThread, threadModule ----
  {
    what: "runInThread(() => 1) (a closure)",
    call: (c) => c.b.runInThread(wrong(() => 1)),
    error: TypeError,
    names: /'fn'.*closures/,
    how: "rejects",
  },
  {
    what: "runInThread(null)",
    call: (c) => c.b.runInThread(wrong(null)),
    error: TypeError,
    names: /'fn'/,
    how: "rejects",
  },
  {
    what: 'runInThread({ moduleUrl: 5, exportName: "x" })',
    call: (c) => c.b.runInThread(wrong({ moduleUrl: 5, exportName: "x" })),
    error: TypeError,
    names: /'fn'/,
    how: "rejects",
  },
  {
    what: "runInThread(work.noSuchExport)",
    call: (c) => c.b.runInThread(wrong(work).noSuchExport),
    error: TypeError,
    names: /noSuchExport/,
    how: "rejects",
  },
  {
    what: "runInThread(work.echo, () => 1) (an uncloneable argument)",
    call: (c) => c.b.runInThread(work.echo, () => 1),
    error: TypeError,
    names: /echo.*could not be structured-cloned|could not be structured-cloned.*echo/,
    how: "rejects",
  },
  {
    what: 'threadModule("./relative.ts")',
    call: () => threadModule("./relative.ts"),
    error: TypeError,
    names: /'url'/,
    how: "throws",
  },
  { what: "threadModule(5)", call: () => threadModule(wrong(5)), error: TypeError, names: /'url'/, how: "throws" },
  {
    what: "work.add.with(5)",
    call: () => work.add.with(wrong(5)),
    error: TypeError,
    names: /'options'/,
    how: "throws",
  },
  {
    what: 'work.add.with({ onCancel: "never" })',
    call: () => work.add.with({ onCancel: wrong("never") }),
    error: TypeError,
    names: /'onCancel'/,
    how: "throws",
  },
  // ---- Portals ----
  {
    what: "createThreadsPortal(5)",
    call: (c) => c.b.createThreadsPortal(wrong(5)),
    error: TypeError,
    names: /'functions'/,
    how: "throws",
  },
  {
    what: "createThreadsPortal({ f: 5 })",
    call: (c) => c.b.createThreadsPortal(wrong({ f: 5 })),
    error: TypeError,
    names: /'functions.f'/,
    how: "throws",
  },
  {
    what: "portal.runSync() on the loop's thread",
    call: (c) => c.portal.runSync("double", 1),
    error: Error,
    names: /runSync.*loop's own thread/,
    how: "throws",
  },
  {
    what: "portal.runCoroutine() on the loop's thread",
    call: (c) => c.portal.runCoroutine("later", 1),
    error: Error,
    names: /runCoroutine.*loop's own thread/,
    how: "throws",
  },
  {
    what: 'portal.call("nope")',
    call: (c) => c.portal.call(wrong("nope")),
    error: TypeError,
    names: /'nope'/,
    how: "rejects",
  },
  {
    what: "portal.call() on a portal of a closed runner",
    call: (c) => c.closedPortal.call("double", 1),
    error: ClosedResourceError,
    names: /closed/,
    how: "rejects",
  },
  // ---- Executors ----
  ...BAD_WORKERS.map(([t, v, e]): Row<Threads> => ({
    what: `new AsyncThreadPoolExecutor(b, { maxWorkers: ${t} })`,
    call: (c) => new AsyncThreadPoolExecutor(c.b, { maxWorkers: wrong(v) }),
    error: e,
    names: /'maxWorkers'/,
    how: "throws",
  })),
  {
    what: "new AsyncThreadPoolExecutor(b, { threadNamePrefix: 5 })",
    call: (c) => new AsyncThreadPoolExecutor(c.b, { threadNamePrefix: wrong(5) }),
    error: TypeError,
    names: /'threadNamePrefix'/,
    how: "throws",
  },
  {
    what: "new AsyncThreadPoolExecutor(b, { initializer: () => {} })",
    call: (c) => new AsyncThreadPoolExecutor(c.b, { initializer: wrong(() => {}) }),
    error: TypeError,
    names: /'initializer'/,
    how: "throws",
  },
  {
    what: 'new AsyncThreadPoolExecutor(b, { initargs: "x" })',
    call: (c) => new AsyncThreadPoolExecutor(c.b, { initargs: wrong("x") }),
    error: TypeError,
    names: /'initargs'/,
    how: "throws",
  },
  {
    what: "new AsyncThreadPoolExecutor(b, { idleTimeout: -1 })",
    call: (c) => new AsyncThreadPoolExecutor(c.b, { idleTimeout: -1 }),
    error: RangeError,
    names: /'idleTimeout'/,
    how: "throws",
  },
  {
    what: "new AsyncThreadPoolExecutor(b, { idleTimeout: NaN })",
    call: (c) => new AsyncThreadPoolExecutor(c.b, { idleTimeout: NaN }),
    error: RangeError,
    names: /'idleTimeout'/,
    how: "throws",
  },
  {
    what: 'new AsyncThreadPoolExecutor("b")',
    call: () => new AsyncThreadPoolExecutor(wrong("b")),
    error: TypeError,
    names: /'backend'/,
    how: "throws",
  },
  {
    what: "new AsyncExecutor(null, executor)",
    call: () => new AsyncExecutor(wrong(null), { submit: () => Promise.resolve(1) }),
    error: TypeError,
    names: /'backend'/,
    how: "throws",
  },
  {
    what: "new AsyncExecutor(b, {})",
    call: (c) => new AsyncExecutor(c.b, wrong({})),
    error: TypeError,
    names: /'executor'/,
    how: "throws",
  },
  {
    what: "executor.run(() => 1) (a closure)",
    call: (c) => c.executor.run(wrong(() => 1)),
    error: TypeError,
    names: /'fn'/,
    how: "rejects",
  },
  {
    what: "executor.map(work.echo, 5)",
    call: (c) => c.executor.map(work.echo, wrong(5)),
    error: TypeError,
    names: /'items'/,
    how: "rejects",
  },
  {
    what: "executor.map(work.echo, [1], { concurrency: 0 })",
    call: (c) => c.executor.map(work.echo, [1], { concurrency: 0 }),
    error: RangeError,
    names: /'concurrency'/,
    how: "rejects",
  },
  {
    what: "run() on a shut-down executor",
    call: (c) => c.shutDown.run(work.add, 1, 2),
    error: ClosedResourceError,
    names: /shut down/,
    how: "rejects",
  },
  // ---- SingleTaskRunner ----
  {
    what: "new SingleTaskRunner(b, 5)",
    call: (c) => new SingleTaskRunner(c.b, wrong(5)),
    error: TypeError,
    names: /'fn'/,
    how: "throws",
  },
  {
    what: "new SingleTaskRunner(null, fn)",
    call: () => new SingleTaskRunner(wrong(null), () => 1),
    error: TypeError,
    names: /'backend'/,
    how: "throws",
  },
  // ---- AsyncBackendFactory ----
  {
    what: 'AsyncBackendFactory.new("nope")',
    call: () => AsyncBackendFactory.new(wrong("nope")),
    error: RangeError,
    names: /'name'/,
    how: "throws",
  },
  {
    what: "AsyncBackendFactory.new(5)",
    call: () => AsyncBackendFactory.new(wrong(5)),
    error: TypeError,
    names: /'name'/,
    how: "throws",
  },
  {
    what: "AsyncBackendFactory.new(undefined, 5)",
    call: () => AsyncBackendFactory.new(undefined, wrong(5)),
    error: TypeError,
    names: /'options'/,
    how: "throws",
  },
  {
    what: "AsyncBackendFactory.ensure(5)",
    call: () => AsyncBackendFactory.ensure(wrong(5)),
    error: TypeError,
    names: /'backend'/,
    how: "throws",
  },
  {
    what: "AsyncBackendFactory.setDefaultBackend(5)",
    call: () => AsyncBackendFactory.setDefaultBackend(wrong(5)),
    error: TypeError,
    names: /'backend'/,
    how: "throws",
  },
  {
    what: 'AsyncBackendFactory.setDefaultBackend("nope")',
    call: () => AsyncBackendFactory.setDefaultBackend(wrong("nope")),
    error: RangeError,
    names: /'backend'/,
    how: "throws",
  },
  {
    what: "AsyncBackendFactory.setDefaultBackend(class {})",
    call: () => AsyncBackendFactory.setDefaultBackend(wrong(class {})),
    error: TypeError,
    names: /'backend'/,
    how: "throws",
  },
  {
    what: 'AsyncBackendFactory.extend("nope", null)',
    call: () => AsyncBackendFactory.extend(wrong("nope"), null),
    error: RangeError,
    names: /'name'/,
    how: "throws",
  },
  {
    what: 'AsyncBackendFactory.load("nope")',
    call: () => AsyncBackendFactory.load(wrong("nope")),
    error: RangeError,
    names: /'name'/,
    how: "rejects",
  },
  // ---- New APIs (channels, semaphores, limiters, scopes) add their rows here. ----
];

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: bad input: the threads, executors and factory table (${ROWS.length + 3} rows) answers each with a named error`, async () => {
    const b = create();
    // Outside any runner: the calls that need one say so.
    assert.throws(
      () => b.spawnTask(() => 1),
      (e: unknown) => e instanceof Error && /spawnTask\(\) must be called/.test(e.message),
    );
    await assert.rejects(
      b.runInThread(work.add, 1, 2),
      (e: unknown) => e instanceof Error && /runInThread\(\) must be called/.test(e.message),
    );
    assert.throws(
      () => b.createThreadsPortal(loopFunctions()),
      (e: unknown) => e instanceof Error && /must be called from code run by a runner/.test(e.message),
    );
    const closedPortal = await b.bootstrap(() => b.createThreadsPortal(loopFunctions()));
    await b.bootstrap(async () => {
      const executor = new AsyncThreadPoolExecutor(b, { maxWorkers: 1 });
      const shutDown = new AsyncThreadPoolExecutor(b, { maxWorkers: 1 });
      await shutDown.shutdown();
      try {
        const c: Threads = { b, portal: b.createThreadsPortal(loopFunctions()), closedPortal, executor, shutDown };
        const bad = await runTable(b, c, ROWS);
        assert.deepEqual(bad, [], report(bad, ROWS.length));
        // The executor still works after the bad calls.
        assert.equal(await executor.run(work.add, 1, 2), 3);
      } finally {
        await executor.shutdown();
      }
    });
  });
}
