/**
 * Unit tests of the task tree's text form (backend/_core/task_tree.ts) and of
 * instruments (backend/_core/instruments.ts): the drawing from plain data, and
 * what happens to an instrument whose hook throws.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Task } from "../../../backend/abc/tasks.ts";
import type { TaskTree } from "../../../backend/abc/diagnostics.ts";
import { formatTaskTree } from "../../../backend/_core/task_tree.ts";
import { type DiagnosticsChannel, Instruments } from "../../../backend/_core/instruments.ts";
import { test } from "../../harness.ts";
import { catchUnhandledRejections } from "../../contract/core_tasks.ts";

test("task tree: the text draws tasks, scopes, deadlines, shields, cancellation and stacks", () => {
  const tree: TaskTree = {
    now: 1_000,
    tasks: [{
      id: 1,
      name: "main",
      waitingAt: ["task group"],
      deadline: -Infinity,
      cancelled: true,
      stack: "at main (file:///app.ts:3:1)",
      scopes: [{
        deadline: 3_500.4,
        shield: false,
        cancelled: true,
        scopes: [],
        tasks: [
          {
            id: 2,
            name: "a",
            waitingAt: ["lock"],
            deadline: Infinity,
            cancelled: false,
            scopes: [{ deadline: Infinity, shield: true, cancelled: false, tasks: [], scopes: [] }],
          },
          { id: 3, name: "b", waitingAt: [], deadline: Infinity, cancelled: true, scopes: [] },
        ],
      }],
    }, { id: 4, name: "system", waitingAt: ["signal", "sleep"], deadline: 900, cancelled: false, scopes: [] }],
  };
  assert.equal(
    formatTaskTree(tree),
    [
      "Task tree (4 tasks)",
      "task #1 main (waiting at task group; cancelled)",
      "│  at main (file:///app.ts:3:1)",
      "└─ scope (task group of 2; deadline in 2500 ms; cancelled)",
      "   ├─ task #2 a (waiting at lock)",
      "   │  └─ scope (shielded)",
      "   └─ task #3 b (not at a checkpoint; cancelled)",
      "task #4 system (waiting at signal, sleep; deadline in 0 ms)",
    ].join("\n"),
  );
  assert.equal(formatTaskTree({ now: 0, tasks: [] }), "Task tree (0 tasks)");
});

const fakeTask = { name: "t" } as Task<unknown>;

test("instruments: a hook that throws removes its instrument; its error is reported unhandled", async () => {
  const instruments = new Instruments(null);
  const calls: string[] = [];
  const error = new Error("hook failed");
  instruments.add({ taskSpawned: () => calls.push("good") });
  instruments.add({
    taskSpawned: () => {
      throw error;
    },
    taskExited: () => calls.push("bad exited"),
  });
  const reported = await catchUnhandledRejections(async () => {
    instruments.taskSpawned(fakeTask);
    instruments.taskExited(fakeTask);
    // The rejection is reported once the microtasks have run: a macrotask later.
    await new Promise((resolve) => setTimeout(resolve, 0));
  });
  assert.deepEqual(calls, ["good"]);
  assert.deepEqual(reported, [error]);
});

test("instruments: a channel publishes only while it has subscribers; empty means nothing listens", () => {
  const published: unknown[] = [];
  const channel = (): DiagnosticsChannel & { hasSubscribers: boolean } => ({
    hasSubscribers: false,
    publish: (message) => published.push(message),
  });
  const channels = { taskSpawned: channel(), taskExited: channel(), scopeCancelled: channel() };
  const instruments = new Instruments(channels);
  assert.equal(instruments.empty, false);
  let described = 0;
  const describe = () => {
    described++;
    return { task: undefined, expired: false, reason: "r", deadline: Infinity };
  };
  instruments.taskSpawned(fakeTask);
  instruments.scopeCancelled(describe);
  assert.deepEqual(published, []);
  assert.equal(described, 0, "no message is made while nobody listens");
  channels.taskSpawned.hasSubscribers = true;
  channels.scopeCancelled.hasSubscribers = true;
  instruments.taskSpawned(fakeTask);
  instruments.scopeCancelled(describe);
  assert.deepEqual(published, [{ task: fakeTask }, {
    task: undefined,
    expired: false,
    reason: "r",
    deadline: Infinity,
  }]);
  assert.equal(described, 1);
  const none = new Instruments(null);
  assert.equal(none.empty, true);
  const instrument = {};
  none.add(instrument);
  assert.equal(none.empty, false);
  assert.equal(none.remove(instrument), true);
  assert.equal(none.empty, true);
});
