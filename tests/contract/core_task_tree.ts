/**
 * Contract tests: the task tree (`taskTree()`, `dumpTaskTree()`, the
 * signal-triggered dump) of a deliberately hung program, and task names.
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import type { TaskTree, TaskTreeScope, TaskTreeTask } from "../../backend/abc/diagnostics.ts";
import type { Runner, TaskGroup } from "../../backend/abc/tasks.ts";
import type { Semaphore } from "../../backend/abc/sync.ts";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import { CancelledError } from "../../backend/errors.ts";
import { named } from "../../backend/named.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { errorLike, yieldUntil } from "./core_util.ts";
import { portOf } from "./net_util.ts";
import { threadModule } from "../../backend/thread_module.ts";

const work = threadModule<typeof import("../fixtures/work.ts")>(new URL("../fixtures/work.ts", import.meta.url));

/** Every task of the tree, depth first. */
function allTasks(tree: TaskTree): TaskTreeTask[] {
  const found: TaskTreeTask[] = [];
  const visitScope = (scope: TaskTreeScope): void => {
    scope.tasks.forEach(visitTask);
    scope.scopes.forEach(visitScope);
  };
  const visitTask = (task: TaskTreeTask): void => {
    found.push(task);
    task.scopes.forEach(visitScope);
  };
  tree.tasks.forEach(visitTask);
  return found;
}

function byName(tree: TaskTree, name: string): TaskTreeTask {
  const task = allTasks(tree).find((task) => task.name === name);
  assert.ok(task !== undefined, `no task named ${name} in ${JSON.stringify(tree)}`);
  return task;
}

/**
 * A program that hangs: every task waits at a different checkpoint, none of
 * which ever ends. `main` waits for its children at the end of its group.
 * The shielded child waits on `semaphore`: only a release ends it.
 */
function hungProgram(
  backend: AsyncBackend,
  semaphore: Semaphore,
  onGroup?: (tg: TaskGroup) => void,
): () => Promise<void> {
  return async function main(): Promise<void> {
    const lock = backend.createLock();
    const never = backend.createEvent();
    const [_send, receive] = backend.createMemoryChannel<number>(0);
    await backend.createTaskGroup(async (tg) => {
      onGroup?.(tg);
      const holder = tg.startSoon(async function holder() {
        await lock.acquire();
        await never.wait();
      });
      await yieldUntil(backend, () => lock.locked(), "the holder takes the lock");
      tg.startSoon(named("waiter", () => lock.acquire()));
      tg.startSoon(named("sleeper", () => backend.moveOnAfter(60_000, () => backend.sleepForever())));
      tg.startSoon(named("receiver", () => receive.receive()));
      tg.startSoon(named("joiner", () => holder.join()));
      tg.startSoon(named("shielded", () => backend.ignoreCancellation(() => semaphore.acquire())));
      tg.startSoon(async () => await backend.sleep(60_000));
    });
  };
}

const HUNG: Record<string, string> = {
  main: "task group",
  holder: "event",
  waiter: "lock",
  sleeper: "sleep",
  receiver: "channel receive",
  joiner: "join",
  shielded: "semaphore",
  "<anonymous>": "sleep",
};

/** Runs the hung program on `runner` until every task waits where it hangs; returns the run's promise. */
async function hang(
  backend: AsyncBackend,
  runner: Runner,
  onGroup?: (tg: TaskGroup) => void,
): Promise<{ run: Promise<void>; close: () => Promise<void> }> {
  const semaphore = backend.createSemaphore(0);
  const run = runner.run(hungProgram(backend, semaphore, onGroup));
  run.catch(() => {});
  await yieldUntil(backend, () => {
    const tasks = allTasks(runner.taskTree());
    return tasks.length === 8 && tasks.every((task) => task.waitingAt.length > 0);
  }, "every task of the hung program waits");
  // Closing cancels every task but the shielded one, which the release ends.
  const close = async () => {
    semaphore.release();
    await runner.close();
    await assert.rejects(run, CancelledError);
  };
  return { run, close };
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: the task tree of a hung program shows every task, its scopes and where it waits`, async () => {
    const backend = create();
    const runner = backend.newRunner();
    const { close } = await hang(backend, runner);
    const tree = runner.taskTree();
    assert.equal(tree.tasks.length, 1);
    const [main] = tree.tasks;
    assert.equal(main.name, "main");
    // main's group holds the seven children, in the order they started.
    assert.equal(main.scopes.length, 1);
    const group = main.scopes[0];
    assert.deepEqual(group.tasks.map((task) => task.name), [
      "holder",
      "waiter",
      "sleeper",
      "receiver",
      "joiner",
      "shielded",
      "<anonymous>",
    ]);
    for (const task of allTasks(tree)) assert.deepEqual(task.waitingAt, [HUNG[task.name]], task.name);
    // Deadlines: the sleeper's move-on scope, and the anonymous sleep's own timer is no scope.
    const sleeper = byName(tree, "sleeper");
    assert.equal(sleeper.scopes.length, 1);
    assert.ok(sleeper.scopes[0].deadline - tree.now > 50_000 && sleeper.scopes[0].deadline - tree.now <= 60_000);
    assert.equal(sleeper.deadline, sleeper.scopes[0].deadline);
    assert.equal(byName(tree, "<anonymous>").deadline, Infinity);
    assert.equal(byName(tree, "shielded").scopes[0].shield, true);
    // Ids are distinct and stable from one snapshot to the next.
    const ids = allTasks(tree).map((task) => task.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.deepEqual(allTasks(runner.taskTree()).map((task) => task.id), ids);
    assert.equal(main.stack, undefined, "no stacks outside debug mode");
    await close();
    assert.deepEqual(runner.taskTree().tasks, []);
  });

  test(`${name}: a cancelled group shows as cancelled; its owner waits at its end for a shielded child`, async () => {
    const backend = create();
    const runner = backend.newRunner();
    let group: TaskGroup | undefined;
    const { close } = await hang(backend, runner, (tg) => group = tg);
    group!.cancelScope.cancel();
    await yieldUntil(backend, () => allTasks(runner.taskTree()).length === 2, "every unshielded child ends");
    const tree = runner.taskTree();
    const [main] = tree.tasks;
    assert.equal(main.scopes[0].cancelled, true);
    assert.deepEqual(main.waitingAt, ["task group"]);
    assert.equal(main.cancelled, true);
    assert.equal(main.deadline, -Infinity);
    const shielded = byName(tree, "shielded");
    assert.deepEqual(shielded.waitingAt, ["semaphore"]);
    assert.equal(shielded.cancelled, false);
    // Another task of the same runner sees the hung program beside it.
    await runner.run(() => {
      const tasks = backend.taskTree().tasks;
      assert.deepEqual(tasks.map((task) => task.name), ["main", "<anonymous>"]);
    });
    await close();
  });

  test(`${name}: dumpTaskTree() draws the tree with names, scopes and waits`, async () => {
    const backend = create();
    const runner = backend.newRunner();
    const { close } = await hang(backend, runner);
    let text = "";
    await runner.run(named("dumper", () => {
      let written = "";
      text = backend.dumpTaskTree((out) => written = out);
      assert.equal(written, text);
    }));
    const lines = text.split("\n");
    assert.equal(lines[0], "Task tree (9 tasks)");
    assert.match(lines[1], /^task #\d+ main \(waiting at task group\)$/);
    assert.match(lines[2], /^└─ scope \(task group of 7\)$/);
    assert.match(lines[3], /^ {3}├─ task #\d+ holder \(waiting at event\)$/);
    assert.match(
      text,
      /\n {3}├─ task #\d+ sleeper \(waiting at sleep; deadline in \d+ ms\)\n {3}│ {2}└─ scope \(deadline in \d+ ms\)\n/,
    );
    assert.match(text, /\n {3}│ {2}└─ scope \(shielded\)\n/);
    assert.match(text, /\n {3}└─ task #\d+ <anonymous> \(waiting at sleep\)\n/);
    assert.match(lines.at(-1)!, /^task #\d+ dumper \(not at a checkpoint\)$/);
    await close();
  });

  test(`${name}: in debug mode each task carries the stack where it was started`, async () => {
    const backend = create();
    const runner = backend.newRunner({ debug: true });
    const { close } = await hang(backend, runner);
    const tree = runner.taskTree();
    for (const task of allTasks(tree)) {
      assert.ok(task.stack !== undefined, task.name);
      // The first frame is the test's own code, not the library's.
      assert.match(task.stack.split("\n")[0], /core_task_tree/, task.name);
    }
    const text = await runner.run(() => backend.dumpTaskTree(() => {}));
    assert.match(text, /task #\d+ waiter \(waiting at lock\)\n {3}│ {5}at .*core_task_tree/);
    await close();
  });

  // SIGWINCH, ignored by default: SIGUSR2 makes Node write a diagnostic report under `node --test`.
  test(`${name}: the signal-triggered dump writes the tree on each signal until cancelled`, async () => {
    const backend = create();
    const before = process.listenerCount("SIGWINCH");
    await backend.bootstrap(() =>
      backend.timeout(10_000, async () => {
        const dumps: string[] = [];
        const dumper = backend.dumpTaskTreeOnSignal("SIGWINCH", (text) => dumps.push(text));
        assert.equal(dumper.name, "dumpTaskTreeOnSignalLoop");
        process.kill(process.pid, "SIGWINCH");
        await yieldUntil(backend, () => dumps.length === 1, "the first dump");
        assert.match(dumps[0], /task #\d+ dumpTaskTreeOnSignalLoop \(not at a checkpoint\)/);
        process.kill(process.pid, "SIGWINCH");
        await yieldUntil(backend, () => dumps.length === 2, "the second dump");
        dumper.cancel();
        await dumper.wait();
        assert.equal(dumper.cancelled(), true);
      })
    );
    assert.equal(process.listenerCount("SIGWINCH"), before);
  });

  test(`${name}: the task tree shows I/O and thread waits: accept, recv, thread`, async () => {
    const backend = create();
    await backend.bootstrap(() =>
      backend.timeout(10_000, async () => {
        const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 4);
        const client = await backend.createTcpConnection("127.0.0.1", portOf(listener));
        try {
          await backend.createTaskGroup(async (tg) => {
            tg.startSoon(named("acceptor", async () => {
              // Takes the client's connection, then waits for another one.
              const server = await (await listener.accept()).connect();
              try {
                await listener.accept();
              } finally {
                await server.aclose();
              }
            }));
            tg.startSoon(named("reader", () => client.recv(10)));
            const started = new SharedArrayBuffer(8);
            tg.startSoon(named("worker", () => backend.runInThread(work.startedThenWaitCancel, started, 30_000)));
            const waits = () =>
              Object.fromEntries(allTasks(backend.taskTree()).map((task) => [task.name, task.waitingAt.join()]));
            const expected = { "<anonymous>": "", acceptor: "accept", reader: "recv", worker: "thread" };
            await yieldUntil(backend, () => {
              const now = waits();
              return Object.keys(expected).every((name) => now[name] === expected[name as keyof typeof expected]);
            }, "every task waits");
            tg.cancelScope.cancel();
          });
        } finally {
          await client.aclose();
          await listener.aclose();
        }
      })
    );
  });

  test(`${name}: the task tree is for code run by a runner; its arguments are checked`, async () => {
    const backend = create();
    assert.throws(() => backend.taskTree(), errorLike(Error, /taskTree\(\) must be called from code run by a runner/));
    assert.throws(() => backend.dumpTaskTree(), errorLike(Error, /dumpTaskTree\(\) must be called/));
    assert.throws(() => backend.dumpTaskTreeOnSignal(), errorLike(Error, /dumpTaskTreeOnSignal\(\) must be called/));
    await backend.bootstrap(() => {
      assert.throws(() => backend.dumpTaskTreeOnSignal("SIGUSR2", 1 as never), errorLike(TypeError, /'write'/));
      assert.throws(() => backend.dumpTaskTreeOnSignal("SIGNOPE"), TypeError);
    });
  });

  test(`${name}: a task is named by its function, or by named()`, async () => {
    const backend = create();
    await backend.bootstrap(async function main() {
      await backend.createTaskGroup((tg) => {
        assert.equal(tg.startSoon(async function worker() {}).name, "worker");
        const handler = async (): Promise<void> => {};
        assert.equal(tg.startSoon(handler).name, "handler");
        assert.equal(tg.startSoon(() => {}).name, "<anonymous>");
        const conn = named("conn 10.0.0.7:51234", async (a: number, b: number) => a + b);
        const task = tg.startSoon(conn, 1, 2);
        assert.equal(task.name, "conn 10.0.0.7:51234");
        tg.startSoon(async () => assert.equal(await task.join(), 3));
      });
      assert.equal(backend.spawnTask(named("system", () => {})).name, "system");
    });
    assert.throws(() => named(1 as never, () => {}), errorLike(TypeError, /'name' argument must be a string/));
    assert.throws(() => named("x", 1 as never), errorLike(TypeError, /'fn' argument must be a function/));
  });
}
