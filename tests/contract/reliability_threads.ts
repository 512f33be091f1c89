/**
 * Reliability: chaos on `runInThread` in its three cancel modes (`"wait"`,
 * `"abandon"`, `"terminate"`). Many calls at once, blocking and async
 * functions of random length, each under a random short deadline (seeded; see
 * `reliability_util.ts`): each call either returns the right result or rejects
 * with `CancelledError`, nothing else; the pool still works afterwards; no
 * worker is left alive once the runner closes.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { RunInThreadOptions } from "../../backend/abc/threads.ts";
import { CancelledError, threadModule } from "../../backend/mod.ts";
import { activeThreadWorkers } from "../../backend/testing.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { describeError, elapsed, type Random, scaled, seeded } from "./reliability_util.ts";

const work = threadModule<typeof import("../fixtures/reliability_work.ts")>(
  new URL("../fixtures/reliability_work.ts", import.meta.url),
);

type Mode = NonNullable<RunInThreadOptions["onCancel"]>;
const MODES: readonly Mode[] = ["wait", "abandon", "terminate"];

/** A call's deadline: 15% already expired, 30% none, the rest log-uniform between 0.2 and 25 ms. */
function deadline(random: Random): number {
  const roll = random.next();
  if (roll < 0.15) return 0;
  if (roll < 0.45) return Infinity;
  return random.logUniform(0.2, 25);
}

/** What the calls of one mode did. */
interface Outcome {
  completed: number;
  cancelled: number;
  /** The longest call, in ms. */
  slowest: number;
}

async function storm(backend: AsyncBackend, random: Random, mode: Mode, calls: number): Promise<Outcome> {
  const outcome: Outcome = { completed: 0, cancelled: 0, slowest: 0 };
  const failures: string[] = [];
  await backend.createTaskGroup(async (tg) => {
    for (let i = 0; i < calls; i++) {
      const ms = random.int(0, 12);
      const blocking = random.chance(0.6);
      const limit = deadline(random);
      tg.startSoon(async () => {
        let ran = false;
        const callStart = backend.currentTime();
        try {
          const result = await backend.moveOnAfter(limit, async () => {
            const value = blocking
              ? await backend.runInThread(work.sumAfter.with({ onCancel: mode }), ms, i, 1)
              : await backend.runInThread(work.productLater.with({ onCancel: mode }), ms, i, 3);
            ran = true;
            return value;
          });
          outcome.slowest = Math.max(outcome.slowest, elapsed(backend, callStart));
          if (result === undefined) {
            outcome.cancelled++;
          } else {
            assert.ok(ran);
            assert.equal(result, blocking ? i + 1 : i * 3, `call ${i} (${mode}) returned the wrong result`);
            outcome.completed++;
          }
        } catch (error) {
          failures.push(`call ${i} (${mode}): ${error instanceof CancelledError ? "escaped" : describeError(error)}`);
        }
      });
    }
  });
  assert.deepEqual(failures, [], `runInThread ${mode}: calls ended otherwise than with a result or a cancellation`);
  return outcome;
}

async function threadChaos(backend: AsyncBackend, name: string): Promise<void> {
  const label = `${name}: thread chaos`;
  const random = seeded(label);
  const calls = scaled(60);
  const lines: string[] = [];
  const start = backend.currentTime();
  await backend.timeout(scaled(60_000), async () => {
    for (const mode of MODES) {
      const modeStart = backend.currentTime();
      const outcome = await storm(backend, random, mode, calls);
      lines.push(
        `${mode}: ${outcome.completed} completed, ${outcome.cancelled} cancelled in ${
          elapsed(backend, modeStart)
        } ms ` +
          `(slowest call ${outcome.slowest} ms)`,
      );
      assert.ok(outcome.completed > 0, `${label}: no ${mode} call completed`);
      assert.ok(outcome.cancelled > 0, `${label}: no ${mode} call was cancelled`);
      // The pool still works.
      assert.equal(await backend.runInThread(work.sumAfter, 0, 40, 2), 42, `${label}: the pool after ${mode}`);
    }
  });
  console.log(`${label}: ${calls} calls per mode in ${elapsed(backend, start)} ms: ${lines.join("; ")}`);
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: reliability: chaos on runInThread in every cancel mode under random deadlines`, async () => {
    const backend = create();
    await backend.bootstrap(() => threadChaos(backend, name));
    assert.equal(activeThreadWorkers(), 0, "a worker outlived the runner");
  });
}
