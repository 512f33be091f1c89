/**
 * Contract tests: the bad-input table of the core (runners, tasks, task groups,
 * scopes, timeouts, sleeps, Lock, Event, Condition, `waitFuture`): wrong types,
 * NaN, negative and huge numbers, closed objects, objects of another runner,
 * and re-entrant misuse (self-join, release by another task, `startSoon` on an
 * exited group, `started()` twice). Each row must answer with a `TypeError` or
 * `RangeError` naming the argument, or the documented error naming the misused
 * call (README, "Error model"), never a hang, a crash or an unhandled rejection.
 * The networking rows are in `bad_input_net.ts`, threads, executors, tasks and
 * the factory in `bad_input_threads.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { TimeoutHandle } from "../../backend/abc/cancel_scope.ts";
import type { Condition, Event, Lock } from "../../backend/abc/sync.ts";
import type { Runner, SystemTask, Task, TaskGroup } from "../../backend/abc/tasks.ts";
import { ClosedResourceError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { report, type Row, runTable, wrong } from "./bad_input_util.ts";

/** The objects the core rows use. */
interface Core {
  b: AsyncBackend;
  lock: Lock;
  condition: Condition;
  event: Event;
  /** A scope's handle, after the scope exited. */
  handle: TimeoutHandle;
  /** A runner that was closed. */
  closedRunner: Runner;
  /** A task group that exited. */
  exitedGroup: TaskGroup;
  /** A lock of another runner and backend instance (locks belong to no runner: it works). */
  foreignLock: Lock;
  /** A lock held by a task of another runner, which ended holding it. */
  foreignHeld: Lock;
}

const fn = () => 1;
const BAD_DELAYS: [string, unknown, ErrorConstructor][] = [
  ['"10"', "10", TypeError],
  ["null", null, TypeError],
  ["NaN", NaN, RangeError],
  ["-1", -1, RangeError],
  ["-Infinity", -Infinity, RangeError],
];

/** The rows of a method taking a delay `ms` and a function. */
function delayRows(method: "timeout" | "moveOnAfter"): Row<Core>[] {
  return [
    ...BAD_DELAYS.map(([text, value, error]): Row<Core> => ({
      what: `${method}(${text}, fn)`,
      call: (c) => c.b[method](wrong(value), fn),
      error,
      names: /'ms'/,
      how: "rejects",
    })),
    { what: `${method}(10, null)`, call: (c) => c.b[method](10, wrong(null)), error: TypeError, names: /'fn'/ },
    { what: `${method}(Number.MAX_VALUE, fn)`, call: (c) => c.b[method](Number.MAX_VALUE, fn), error: "value" },
    { what: `${method}(2 ** 53, fn)`, call: (c) => c.b[method](2 ** 53, fn), error: "value" },
  ];
}

/** The rows of a method taking an absolute `deadline` and a function. */
function deadlineRows(method: "timeoutAt" | "moveOnAt"): Row<Core>[] {
  return [
    { what: `${method}("1", fn)`, call: (c) => c.b[method](wrong("1"), fn), error: TypeError, names: /'deadline'/ },
    { what: `${method}(NaN, fn)`, call: (c) => c.b[method](NaN, fn), error: RangeError, names: /'deadline'/ },
    { what: `${method}(0, "fn")`, call: (c) => c.b[method](0, wrong("fn")), error: TypeError, names: /'fn'/ },
    { what: `${method}(-Infinity, fn) (already expired)`, call: (c) => c.b[method](-Infinity, fn), error: "value" },
    { what: `${method}(Infinity, fn)`, call: (c) => c.b[method](Infinity, fn), error: "value" },
  ];
}

const ROWS: Row<Core>[] = [
  // ---- Sleeps ----
  ...BAD_DELAYS.map(([text, value, error]): Row<Core> => ({
    what: `sleep(${text})`,
    call: (c) => c.b.sleep(wrong(value)),
    error,
    names: /'ms'/,
    how: "rejects",
  })),
  { what: 'sleepUntil("0")', call: (c) => c.b.sleepUntil(wrong("0")), error: TypeError, names: /'deadline'/ },
  { what: "sleepUntil(NaN)", call: (c) => c.b.sleepUntil(NaN), error: RangeError, names: /'deadline'/ },
  { what: "sleepUntil(-Infinity) (a checkpoint)", call: (c) => c.b.sleepUntil(-Infinity), error: "value" },
  // ---- Timeouts and shields ----
  ...delayRows("timeout"),
  ...delayRows("moveOnAfter"),
  ...deadlineRows("timeoutAt"),
  ...deadlineRows("moveOnAt"),
  { what: "ignoreCancellation(42)", call: (c) => c.b.ignoreCancellation(wrong(42)), error: TypeError, names: /'fn'/ },
  {
    what: "handle.deadline = NaN",
    call: (c) => void (c.handle.deadline = NaN),
    error: RangeError,
    names: /'deadline'/,
    how: "throws",
  },
  {
    what: 'handle.reschedule("soon")',
    call: (c) => c.handle.reschedule(wrong("soon")),
    error: RangeError,
    names: /'deadline'/,
    how: "throws",
  },
  {
    what: 'handle.shield = "yes"',
    call: (c) => void (c.handle.shield = wrong("yes")),
    error: TypeError,
    names: /'shield'/,
    how: "throws",
  },
  // ---- Runners, tasks, task groups ----
  { what: "bootstrap(null)", call: (c) => c.b.bootstrap(wrong(null)), error: TypeError, names: /'fn'/, how: "rejects" },
  { what: 'spawnTask("fn")', call: (c) => c.b.spawnTask(wrong("fn")), error: TypeError, names: /'fn'/ },
  {
    what: "createTaskGroup(undefined)",
    call: (c) => c.b.createTaskGroup(wrong(undefined)),
    error: TypeError,
    names: /'body'/,
    how: "rejects",
  },
  {
    what: "tg.startSoon(42)",
    call: (c) => c.b.createTaskGroup((tg) => void tg.startSoon(wrong(42))),
    error: TypeError,
    names: /'fn'/,
  },
  {
    what: "tg.start({})",
    call: (c) => c.b.createTaskGroup((tg) => tg.start(wrong({}))),
    error: TypeError,
    names: /'fn'/,
  },
  {
    what: "run() on a closed runner",
    call: (c) => c.closedRunner.run(fn),
    error: ClosedResourceError,
    names: /run\(\)/,
    how: "rejects",
  },
  {
    what: "startSoon() on an exited task group",
    call: (c) => c.exitedGroup.startSoon(fn),
    error: ClosedResourceError,
    names: /startSoon\(\)/,
    how: "throws",
  },
  {
    what: "start() on an exited task group",
    call: (c) => c.exitedGroup.start((status) => status.started()),
    error: ClosedResourceError,
    names: /start\(\)/,
    how: "rejects",
  },
  {
    what: "a task that joins itself",
    call: (c) =>
      c.b.createTaskGroup((tg) => {
        const task: Task<unknown> = tg.startSoon(async () => {
          await c.b.coroYield();
          return await task.join();
        });
      }),
    error: Error,
    names: /itself/,
  },
  {
    what: "a system task that waits for itself",
    call: (c) => {
      const task: SystemTask<unknown> = c.b.spawnTask(async () => {
        await c.b.coroYield();
        await task.wait();
      });
      return task.join();
    },
    error: Error,
    names: /itself/,
  },
  {
    what: "status.started() called twice",
    call: (c) =>
      c.b.createTaskGroup((tg) =>
        tg.start<[], number>((status) => {
          status.started(1);
          status.started(2);
        })
      ),
    error: Error,
    names: /started\(\) was already called/,
  },
  // ---- Lock, Event, Condition ----
  {
    what: "lock.release() when not held",
    call: (c) => c.b.createLock().release(),
    error: Error,
    names: /release.*not held/,
    how: "throws",
  },
  {
    what: "lock.release() by a task that does not hold it",
    call: (c) => c.b.createTaskGroup((tg) => void tg.startSoon(() => c.lock.release())),
    error: Error,
    names: /another task/,
  },
  {
    what: "createConditionVar({})",
    call: (c) => c.b.createConditionVar(wrong({})),
    error: TypeError,
    names: /'lock'/,
    how: "throws",
  },
  {
    what: "condition.wait() without the lock",
    call: (c) => c.condition.wait(),
    error: Error,
    names: /wait\(\)/,
    how: "rejects",
  },
  {
    what: "condition.notify() without the lock",
    call: (c) => c.condition.notify(),
    error: Error,
    names: /notify\(\)/,
    how: "throws",
  },
  ...([["-1", -1], ["1.5", 1.5], ["NaN", NaN], ['"2"', "2"]] as const).map(([text, value]): Row<Core> => ({
    what: `condition.notify(${text})`,
    call: (c) => c.condition.notify(wrong(value)),
    error: RangeError,
    names: /'n'/,
    how: "throws",
  })),
  {
    what: "a lock of another backend and runner in createConditionVar (accepted: locks belong to no runner)",
    call: (c) => c.b.createConditionVar(c.foreignLock),
    error: "value",
  },
  {
    what: "waitFuture(42)",
    call: (c) => c.b.waitFuture(wrong(42)),
    error: TypeError,
    names: /'future'/,
    how: "rejects",
  },
  {
    what: "waitFuture(null)",
    call: (c) => c.b.waitFuture(wrong(null)),
    error: TypeError,
    names: /'future'/,
    how: "rejects",
  },
  {
    what: "release() of a lock held by a task of another runner",
    call: (c) => c.foreignHeld.release(),
    error: Error,
    names: /another task/,
    how: "throws",
  },
  // ---- New APIs (semaphores, channels, scopes, servers, streams) add their rows here. ----
];

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: bad input: the core table (${ROWS.length} rows) answers each with a named error`, async () => {
    const b = create();
    const closedRunner = b.newRunner();
    await closedRunner.close();
    const other = create();
    const foreignLock = await other.bootstrap(() => other.createLock());
    const foreignHeld = await other.bootstrap(async () => {
      const held = other.createLock();
      await held.acquire();
      return held;
    });
    await b.bootstrap(async () => {
      let handle: TimeoutHandle | undefined;
      await b.moveOnAfter(Infinity, (h) => void (handle = h));
      let exitedGroup: TaskGroup | undefined;
      await b.createTaskGroup((tg) => void (exitedGroup = tg));
      const lock = b.createLock();
      await lock.acquire(); // held by this task: the rows release it from another one
      const c: Core = {
        b,
        lock,
        condition: b.createConditionVar(),
        event: b.createEvent(),
        handle: handle!,
        closedRunner,
        exitedGroup: exitedGroup!,
        foreignLock,
        foreignHeld,
      };
      const bad = await runTable(b, c, ROWS);
      lock.release();
      assert.deepEqual(bad, [], report(bad, ROWS.length));
    });
  });
}
