/**
 * What diagnostics cost (`deno task bench diagnostics`): spawning tasks with an
 * instrument installed, and in debug mode (a stack per task), each against
 * the same runner without it, interleaved in one process; and a task tree
 * snapshot of 10k waiting tasks, for reference.
 *
 * With no instrument installed, a spawn pays one field read and null check,
 * plus the diagnostics channel's `hasSubscribers` where the runtime supplies
 * channels (Deno and Node do); the issue-15 figures against the build before
 * diagnostics are in the README's "Debugging a hang" section.
 *
 * @module
 */

import { loadavg } from "node:os";
import process from "node:process";
import type { Instrument, Runner } from "../../backend/mod.ts";
import { AsyncBackendFactory } from "../../factory/mod.ts";
import { compare, median, report, type Result } from "./measure.ts";

const backend = AsyncBackendFactory.new();
const runtime = "deno" in process.versions ? `Deno ${process.versions.deno}` : `Node ${process.versions.node}`;
const TASKS = 100_000;
const WAITING = 10_000;
const trivial = async (): Promise<number> => 1;

function spawnIn(runner: Runner): () => Promise<void> {
  return () =>
    runner.run(async () => {
      await backend.createTaskGroup((tg) => {
        for (let i = 0; i < TASKS; i++) tg.startSoon(trivial);
      });
    });
}

const plain = backend.newRunner();
const instrumented = backend.newRunner();
const noop = (): void => {};
const instrument: Instrument = { taskSpawned: noop, taskExited: noop, scopeCancelled: noop };
instrumented.addInstrument(instrument);
const debug = backend.newRunner({ debug: true });

const results: Result[] = [];
results.push(
  await compare({
    name: "spawn+join 100k tasks, a no-op instrument",
    ops: TASKS,
    ours: spawnIn(instrumented),
    rawName: "no instrument",
    raw: spawnIn(plain),
  }),
);
results.push(
  await compare({
    name: "spawn+join 100k tasks, debug mode",
    ops: TASKS,
    ours: spawnIn(debug),
    rawName: "debug off",
    raw: spawnIn(plain),
  }),
);

// A snapshot of many waiting tasks: the cost is in the snapshot, none in the waits.
const snapshots: number[] = [];
await plain.run(async () => {
  const event = backend.createEvent();
  await backend.createTaskGroup(async (tg) => {
    for (let i = 0; i < WAITING; i++) tg.startSoon(() => event.wait());
    await backend.sleep(0);
    for (let i = 0; i < 7; i++) {
      const start = performance.now();
      backend.taskTree();
      snapshots.push(performance.now() - start);
    }
    event.set();
  });
});
await Promise.all([plain.close(), instrumented.close(), debug.close()]);

report(`Diagnostics on ${runtime}, load average ${loadavg().map((n) => n.toFixed(2)).join(" ")}`, results);
console.log(`\ntaskTree() of ${WAITING} waiting tasks: ${median(snapshots).toFixed(2)} ms (median of 7)`);
