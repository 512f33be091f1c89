/**
 * Contract tests: worker faults. A worker that spins forever (`onCancel:
 * "terminate"`), runs out of memory, exits, throws a value that is not an
 * `Error`, gets an uncloneable or a 100 MiB argument, or sends a message the
 * other side cannot deserialize: each call ends (no hang), the pool goes on,
 * and the process can exit. Worker code: `tests/fixtures/faults.ts`; the cases
 * that must watch a process end run `tests/fixtures/faults_child.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { BrokenWorkerError, CancelledError, threadModule } from "../../backend/mod.ts";
import { activeThreadWorkers } from "../../backend/testing.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";

const faults = threadModule<typeof import("../fixtures/faults.ts")>(new URL("../fixtures/faults.ts", import.meta.url));
const work = threadModule<typeof import("../fixtures/work.ts")>(new URL("../fixtures/work.ts", import.meta.url));
const CHILD = new URL("../fixtures/faults_child.ts", import.meta.url);
const onDeno = "deno" in process.versions;
/** Calls whose wait is bounded by a deadline must not wait for a hung worker when cancelled. */
const BOUNDED = { onCancel: "terminate" } as const;

/** Runs the fault child for `backend` and `scenario` with a heap of `heapMb` MiB; its exit code and output. */
function runChild(
  backend: string,
  scenario: string,
  heapMb: number,
  limitMs: number,
): Promise<{ code: number | null; output: string }> {
  const heap = `--max-old-space-size=${heapMb}`;
  const file = fileURLToPath(CHILD);
  const args = onDeno ? ["run", "-A", "--quiet", `--v8-flags=${heap}`, file] : [heap, file];
  const child = spawn(process.execPath, [...args, backend, scenario], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => output += chunk);
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => output += chunk);
  let timer: ReturnType<typeof setTimeout> | undefined;
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`The child process did not exit within ${limitMs} ms; output: ${output}`));
    }, limitMs);
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  }).finally(() => clearTimeout(timer));
}

/** A shared slot the worker sets to 1 when the function started; resolves then. */
function startedSignal(): { buffer: SharedArrayBuffer; started: Promise<void> } {
  const buffer = new SharedArrayBuffer(8);
  const result = Atomics.waitAsync(new Int32Array(buffer), 0, 0);
  return { buffer, started: result.async ? result.value.then(() => {}) : Promise.resolve() };
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: thread faults: a call spinning forever is terminated at once; the pool goes on`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      for (let round = 0; round < 3; round++) {
        const { buffer, started } = startedSignal();
        const before = backend.currentTime();
        await backend.moveOnAfter(Infinity, async (scope) => {
          const call = backend.runInThread(faults.spinForever.with({ onCancel: "terminate" }), buffer);
          await Promise.race([started, call]);
          scope.cancel();
          await assert.rejects(call, CancelledError);
        });
        assert.ok(backend.currentTime() - before < 5_000, "the cancelled call took more than 5 s");
        assert.equal(await backend.runInThread(work.add, round, 1), round + 1);
      }
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: thread faults: after terminating a spinning worker, the process exits by itself`, async () => {
    const { code, output } = await runChild(name, "spin", 512, 30_000);
    assert.equal(code, 0, output);
    assert.match(output, /spin: CancelledError\nafter: 5\nend\n/);
  });

  test(`${name}: thread faults: a worker out of memory rejects its call with BrokenWorkerError; the pool goes on`, async () => {
    const { code, output } = await runChild(name, "oom", 128, 60_000);
    // Node 24 (not 20, not Deno) sometimes aborts the whole process instead (V8's fatal "Reached heap limit",
    // about 1 run in 3 here): documented in the README; the child process shows it cannot hang.
    if (!onDeno && Number(process.versions.node.split(".")[0]) >= 24 && /Reached heap limit/.test(output)) return;
    assert.equal(code, 0, output);
    assert.match(output, /oom: BrokenWorkerError ERR_WORKER_OUT_OF_MEMORY\nafter: 5\nend\n/);
  });

  test(`${name}: thread faults: a worker that exits rejects its call with BrokenWorkerError and is replaced`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await assert.rejects(backend.runInThread(faults.exitProcess, 7), (error: Error) => {
        assert.ok(error instanceof BrokenWorkerError, `a BrokenWorkerError, got ${error}`);
        assert.match(error.message, /exitProcess .*died/);
        return true;
      });
      await assert.rejects(backend.runInThread(work.closeSelf), BrokenWorkerError);
      assert.equal(await backend.runInThread(work.add, 1, 2), 3);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: thread faults: non-Error throws and uncloneable arguments reject; the pool goes on`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await assert.rejects(backend.runInThread(work.throwValue, "string"), (error) => error === "a string");
      await assert.rejects(backend.runInThread(work.echo, { callback: () => 1 }), (error: Error) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /^The arguments of echo \(.*could not be structured-cloned/);
        return true;
      });
      assert.equal(await backend.runInThread(work.add, 1, 2), 3);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: thread faults: a 100 MiB argument arrives whole, in bounded time`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const bytes = new Uint8Array(100 * 2 ** 20);
      for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i & 0xff;
      let sum = 0;
      for (let i = 0; i < bytes.length; i += 4096) sum = (sum + bytes[i]) | 0;
      const before = backend.currentTime();
      assert.deepEqual(await backend.runInThread(faults.measure, bytes), [bytes.length, sum]);
      assert.ok(backend.currentTime() - before < 30_000, "the 100 MiB call took more than 30 s");
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: thread faults: a message the other side cannot deserialize rejects the call; the worker is reused`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      // Deeply nested objects serialize at depths where they no longer deserialize (V8's deserializer
      // needs more stack per level): which depths do what depends on the runtime and the thread.
      const seen = new Set<string>();
      for (const depth of [2_000, 2_500, 3_000, 3_500, 4_500, 6_000]) {
        for (
          const [what, call] of [
            ["result", () => backend.runInThread(faults.nested.with(BOUNDED), depth)],
            ["arguments", () => backend.runInThread(work.echo.with(BOUNDED), nestedValue(depth))],
          ] as const
        ) {
          const outcome = await backend.moveOnAfter(20_000, () =>
            call().then(
              () => "ok",
              (error: Error) => {
                if (/could not be deserialized/.test(error.message)) {
                  assert.ok(error instanceof TypeError, `a TypeError, got ${error}`);
                  // Arguments that reach the worker may come back as a result the loop cannot read.
                  assert.match(
                    error.message,
                    what === "result" ? /^The result of / : /^The (arguments|result) of echo/,
                  );
                  return `${what} not deserialized`;
                }
                assert.match(error.message, /could not be structured-cloned|Maximum call stack/, String(error));
                return "not serialized";
              },
            ));
          assert.ok(outcome !== undefined, `the call with a ${what} nested ${depth} deep hung`);
          seen.add(outcome);
          assert.equal(await backend.runInThread(work.add, depth, 1), depth + 1);
        }
      }
      assert.ok(seen.has("result not deserialized"), `no result failed to deserialize: ${[...seen]}`);
    });
    assert.equal(activeThreadWorkers(), 0);
  });

  test(`${name}: thread faults: a portal message the other side cannot deserialize throws in the worker`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const portal = backend.createThreadsPortal({
        accept: (_value: unknown) => 1,
        nested: (depth: number) => nestedValue(depth),
      });
      const seen = new Set<string>();
      for (const depth of [2_000, 2_500, 3_000, 3_500, 4_500, 6_000]) {
        for (const fn of [faults.portalSendNested, faults.portalReceiveNested]) {
          const outcome = await backend.moveOnAfter(20_000, () => backend.runInThread(fn.with(BOUNDED), portal, depth));
          assert.ok(outcome !== undefined, `${fn.exportName}(${depth}) hung`);
          if (/could not be deserialized/.test(outcome)) seen.add(`${fn.exportName} not deserialized`);
          // The portal still serves the worker (a new channel if the old one broke).
          assert.equal(await backend.runInThread(faults.portalSendNested.with(BOUNDED), portal, 10), "no error");
        }
      }
      assert.ok(seen.has("portalSendNested not deserialized"), `no request failed to deserialize: ${[...seen]}`);
      // On Node a worker's stack is larger than the loop's: what the loop can send, the worker can read.
      if (onDeno) assert.ok(seen.has("portalReceiveNested not deserialized"), `no reply failed: ${[...seen]}`);
      assert.equal(await backend.runInThread(work.add, 1, 1), 2);
    });
    assert.equal(activeThreadWorkers(), 0);
  });
}

/** An object nested `depth` levels deep. */
function nestedValue(depth: number): unknown {
  let value: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}
