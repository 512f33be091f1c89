/**
 * A guided tour of the backend (`deno task demo`): each section bootstraps the
 * backend and prints what happens. The output is deterministic: no timings are
 * printed, and the order of events is fixed by events and locks, not by luck.
 *
 * To add a demo, export a {@linkcode DemoSection} from its own file
 * (`scripts/demo_<area>.ts`) and add it to `sections` below: one line.
 *
 * @module
 */

import type { AsyncBackend } from "../backend/mod.ts";
import { DenoBackend } from "../backend/deno/mod.ts";
import { tcpEcho, tlsEcho } from "./demo_net.ts";

/** One part of the tour: a title and a body run inside `backend.bootstrap()`. */
export interface DemoSection {
  /** Printed as the section's heading. */
  readonly title: string;
  /** Shows something; `say` prints an indented line. */
  run(backend: AsyncBackend, say: (line: string) => void): Promise<void>;
}

/** Describes an error in one line: its name and message. */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError) return `AggregateError of ${error.errors.map(describeError).join(", ")}`;
  if (error instanceof Error || error instanceof DOMException) return `${error.name}("${error.message}")`;
  return String(error);
}

const taskGroup: DemoSection = {
  title: "Task group: one child fails, its siblings are cancelled, the group reports the error",
  async run(backend, say) {
    const workersReady = [backend.createEvent(), backend.createEvent()];
    const worker = async (n: number) => {
      say(`worker ${n}: started, waiting for work that never comes`);
      workersReady[n - 1].set();
      try {
        await backend.sleepForever();
      } catch (error) {
        say(`worker ${n}: stopped by ${describeError(error)}`);
        throw error;
      }
    };
    try {
      await backend.createTaskGroup(async (tg) => {
        tg.startSoon(worker, 1);
        tg.startSoon(worker, 2);
        tg.startSoon(async () => {
          for (const ready of workersReady) await ready.wait();
          say(`failing child: both workers run, now throwing Error("disk full")`);
          throw new Error("disk full");
        });
      });
    } catch (error) {
      say(`createTaskGroup() rejected with ${describeError(error)}`);
    }
  },
};

const timeouts: DemoSection = {
  title: "Timeouts: move on, time out, or extend the deadline from inside",
  async run(backend, say) {
    const movedOn = await backend.moveOnAfter(20, async () => {
      await backend.sleepForever();
      return "never";
    });
    say(`moveOnAfter(20, sleepForever) resolved ${movedOn}`);

    try {
      await backend.timeout(20, () => backend.sleepForever());
    } catch (error) {
      say(`timeout(20, sleepForever) rejected with a DOMException named "${(error as DOMException).name}"`);
    }

    // A watchdog: each step first pushes the deadline 250 ms past now, so four
    // 30 ms steps finish although together they outlast the first deadline.
    const steps = await backend.timeout(50, async (handle) => {
      let done = 0;
      while (done < 4) {
        handle.deadline = backend.currentTime() + 250;
        await backend.sleep(30);
        done++;
      }
      return done;
    });
    say(`timeout(50, ...) extending its deadline before each step: ${steps} steps of 30 ms done`);
  },
};

const lock: DemoSection = {
  title: "Lock: three tasks take turns, first come first served",
  async run(backend, say) {
    const mutex = backend.createLock();
    const turns: string[] = [];
    await backend.createTaskGroup((tg) => {
      for (const name of ["A", "B", "C"]) {
        tg.startSoon(async () => {
          for (let round = 1; round <= 2; round++) {
            using _guard = await mutex.acquire();
            turns.push(`${name}${round}`);
            await backend.sleep(5); // hold the lock across a checkpoint
          }
        });
      }
    });
    say(`A, B and C each take the lock twice; order of turns: ${turns.join(" ")}`);
    say(`locked after the group: ${mutex.locked()}`);
  },
};

/** The tour, in order. Other demo files add their section here. */
const sections: readonly DemoSection[] = [
  taskGroup,
  timeouts,
  lock,
  tcpEcho,
  tlsEcho,
];

const backend = new DenoBackend();
for (const section of sections) {
  console.log(`\n== ${section.title}\n`);
  await backend.bootstrap(() => section.run(backend, (line) => console.log(`  ${line}`)));
}
console.log();
