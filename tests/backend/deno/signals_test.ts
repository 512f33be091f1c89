/**
 * Deno only: a signal sent with `Deno.kill` reaches the Deno backend's signal
 * receiver, and a name Deno refuses is reported with Deno's reason.
 *
 * @module
 */

import assert from "node:assert/strict";
import { DenoBackend } from "../../../backend/deno/mod.ts";
import { test } from "../../harness.ts";

test("deno: a signal sent with Deno.kill while a receive waits is received", async () => {
  const backend = new DenoBackend();
  const name = await backend.bootstrap(async () => {
    using signals = backend.openSignalReceiver(["SIGUSR2"]);
    // Sent from a timer callback: the receive below is parked by then.
    setTimeout(() => Deno.kill(Deno.pid, "SIGUSR2"), 5);
    return await backend.timeout(10_000, () => signals.receive());
  });
  assert.equal(name, "SIGUSR2");
});

test("deno: a signal Deno refuses throws a TypeError with Deno's reason", () => {
  const backend = new DenoBackend();
  assert.throws(() => backend.openSignalReceiver(["SIGSTOP"]), (error: unknown) => {
    assert.ok(error instanceof TypeError);
    assert.match(error.message, /'SIGSTOP' cannot be received: .*not allowed/);
    return true;
  });
});
