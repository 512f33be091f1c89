/**
 * Contract tests: instruments (`Runner.addInstrument`) and the events on
 * `node:diagnostics_channel`.
 *
 * @module
 */

import assert from "node:assert/strict";
import diagnostics from "node:diagnostics_channel";
import { DIAGNOSTICS_CHANNELS, type Instrument, type ScopeCancellation } from "../../backend/abc/diagnostics.ts";
import type { Task } from "../../backend/abc/tasks.ts";
import { named } from "../../backend/named.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { errorLike } from "./core_util.ts";

/** An instrument that records every event as a line. */
function recorder(): { instrument: Instrument; events: string[] } {
  const events: string[] = [];
  const instrument: Instrument = {
    taskSpawned: (task) => events.push(`spawned ${task.name}`),
    taskExited: (task) => {
      // The outcome is settled when the hook runs.
      assert.equal(task.done(), true);
      events.push(`exited ${task.name}${task.cancelled() ? " (cancelled)" : ""}`);
    },
    scopeCancelled: ({ task, expired, reason }) =>
      events.push(`cancelled ${task?.name ?? "root"} ${expired ? "by its deadline" : `(${String(reason)})`}`),
  };
  return { instrument, events };
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: an instrument sees tasks start and end and scopes cancelled, in order`, async () => {
    const backend = create();
    const runner = backend.newRunner();
    const { instrument, events } = recorder();
    runner.addInstrument(instrument);
    await runner.run(async function main() {
      await backend.createTaskGroup(async (tg) => {
        const child = tg.startSoon(named("child", () => backend.sleepForever()));
        await backend.sleep(0);
        child.cancel();
      });
      await backend.moveOnAfter(1, () => backend.sleepForever());
      await backend.createTaskGroup((tg) => {
        tg.startSoon(async function failing() {
          await backend.sleep(0);
          throw new Error("boom");
        });
        tg.startSoon(named("sibling", () => backend.sleepForever()));
      }).catch(() => {});
      const scope = backend.openCancelScope();
      await scope.run(() => scope.cancel("enough"));
    });
    await runner.close();
    assert.deepEqual(events, [
      "spawned main",
      "spawned child",
      "cancelled child (undefined)",
      "exited child (cancelled)",
      "cancelled main by its deadline",
      "spawned failing",
      "spawned sibling",
      "exited failing",
      "cancelled main (undefined)",
      "exited sibling (cancelled)",
      "cancelled main (enough)",
      "exited main",
      "cancelled root (undefined)",
    ]);
  });

  test(`${name}: instruments are added once, removed, and a removed one hears nothing`, async () => {
    const backend = create();
    const runner = backend.newRunner();
    const first = recorder();
    const second = recorder();
    runner.addInstrument(first.instrument);
    runner.addInstrument(first.instrument);
    runner.addInstrument(second.instrument);
    await runner.run(async function one() {});
    assert.equal(runner.removeInstrument(first.instrument), true);
    assert.equal(runner.removeInstrument(first.instrument), false);
    await runner.run(async function two() {});
    assert.equal(runner.removeInstrument(second.instrument), true);
    await runner.run(async function three() {});
    await runner.close();
    assert.deepEqual(first.events, ["spawned one", "exited one"]);
    assert.deepEqual(second.events, ["spawned one", "exited one", "spawned two", "exited two"]);
    assert.throws(() => runner.addInstrument(null as never), errorLike(TypeError, /'instrument' argument/));
  });

  test(`${name}: a hook may be left out; an instrument may remove itself from its hook`, async () => {
    const backend = create();
    const runner = backend.newRunner();
    const names: string[] = [];
    const once: Instrument = {
      taskSpawned(task) {
        names.push(task.name);
        runner.removeInstrument(once);
      },
    };
    runner.addInstrument(once);
    await runner.run(async function first() {});
    await runner.run(async function second() {});
    await runner.close();
    assert.deepEqual(names, ["first"]);
  });

  test(`${name}: the events are published on node:diagnostics_channel`, async () => {
    const backend = create();
    const seen: string[] = [];
    const cancellations: ScopeCancellation[] = [];
    const onSpawned = (message: unknown) => seen.push(`spawned ${(message as { task: Task<unknown> }).task.name}`);
    const onExited = (message: unknown) => seen.push(`exited ${(message as { task: Task<unknown> }).task.name}`);
    const onCancelled = (message: unknown) => cancellations.push(message as ScopeCancellation);
    diagnostics.subscribe(DIAGNOSTICS_CHANNELS.taskSpawned, onSpawned);
    diagnostics.subscribe(DIAGNOSTICS_CHANNELS.taskExited, onExited);
    diagnostics.subscribe(DIAGNOSTICS_CHANNELS.scopeCancelled, onCancelled);
    try {
      await backend.bootstrap(async function main() {
        await backend.moveOnAfter(1, () => backend.sleepForever());
      });
    } finally {
      diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.taskSpawned, onSpawned);
      diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.taskExited, onExited);
      diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.scopeCancelled, onCancelled);
    }
    await backend.bootstrap(async function unseen() {});
    assert.deepEqual(seen, ["spawned main", "exited main"]);
    assert.equal(cancellations.length, 2);
    assert.equal(cancellations[0].task?.name, "main");
    assert.equal(cancellations[0].expired, true);
    assert.ok(Number.isFinite(cancellations[0].deadline));
    assert.equal(cancellations[1].task, undefined, "the runner's root, at close");
  });
}
