/**
 * Unit tests of the leak registry (backend/_core/leaks.ts) and of the debug
 * switch of runners (`debugFromEnv`, the hosts' `env`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { creationStack, LeakRegistry, trackResource } from "../../../backend/_core/leaks.ts";
import { DEBUG_ENV_VARIABLE, debugFromEnv } from "../../../backend/_core/runner.ts";
import { BaseAsyncBackend, type RuntimeHost } from "../../../backend/base_backend.ts";
import { webTimers } from "../../../backend/_core/timers.ts";
import { test } from "../../harness.ts";

function userFrameHere(): string {
  return creationStack();
}

test("leaks: creationStack starts at the first frame outside the library", () => {
  const stack = userFrameHere();
  assert.match(stack.split("\n")[0], /^at userFrameHere \(.*leaks_test\.[jt]s:\d+:\d+\)$/);
  assert.doesNotMatch(stack, /backend[\\/]_core[\\/]leaks\.[jt]s/);
});

test("leaks: a registry keeps what is alive; release is idempotent; stacks only in debug mode", () => {
  const plain = new LeakRegistry(false);
  const entry = plain.add("channel", () => "described late");
  assert.deepEqual(plain.snapshot(), [{ kind: "channel", description: "described late", stack: undefined }]);
  entry.release();
  entry.release();
  assert.deepEqual(plain.snapshot(), []);
  const debug = new LeakRegistry(true);
  debug.add("socket", "a socket");
  assert.match(debug.snapshot()[0].stack ?? "", /leaks_test\.[jt]s/);
});

test("leaks: nothing is tracked outside a runner", () => {
  assert.equal(trackResource("socket", "outside"), null);
});

test("leaks: ASYNC_BACKEND_DEBUG turns debug mode on with 1 or true", () => {
  assert.equal(DEBUG_ENV_VARIABLE, "ASYNC_BACKEND_DEBUG");
  const env = (value: string | undefined) => (name: string) => name === DEBUG_ENV_VARIABLE ? value : undefined;
  assert.equal(debugFromEnv(undefined), false);
  assert.equal(debugFromEnv(env(undefined)), false);
  assert.equal(debugFromEnv(env("0")), false);
  assert.equal(debugFromEnv(env("1")), true);
  assert.equal(debugFromEnv(env(" TRUE ")), true);
});

test("leaks: a backend reads the variable through its host, once, and newRunner's option wins", async () => {
  let reads = 0;
  const host: RuntimeHost = {
    timers: webTimers,
    yieldMacrotask: (callback) => void setTimeout(callback, 0),
    env: (name) => {
      reads++;
      return name === DEBUG_ENV_VARIABLE ? "1" : undefined;
    },
  };
  class EnvBackend extends BaseAsyncBackend {}
  const backend = new EnvBackend(host);
  for (const options of [undefined, {}, { debug: false }]) {
    const runner = backend.newRunner(options);
    await runner.run(() => backend.createMemoryChannel(0));
    await runner.close().catch(() => {});
    const stack = runner.leaks()[0].stack;
    if (options?.debug === false) assert.equal(stack, undefined);
    else assert.match(stack ?? "", /leaks_test\.[jt]s/);
  }
  assert.equal(reads, 1);
});
