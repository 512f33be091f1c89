/**
 * Deno only (not part of the contract suite): proves that the test task turns
 * Deno's op and resource sanitizers on, so that a leaked timer fails a test.
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "./harness.ts";

const isDeno = typeof Deno !== "undefined";
const fixture = new URL("./fixtures/leaky_timer.ts", import.meta.url);
const config = new URL("../deno.json", import.meta.url);

async function denoTest(flags: string[]): Promise<{ success: boolean; output: string }> {
  const command = new Deno.Command(Deno.execPath(), {
    args: ["test", "--config", config.pathname, ...flags, fixture.pathname],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  });
  const { success, stdout, stderr } = await command.output();
  const decoder = new TextDecoder();
  return { success, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

test("sanitizers: the unit test task passes --sanitize-ops --sanitize-resources", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile(config)) as { tasks: Record<string, string> };
  const unit = tasks["test:unit"];
  assert.ok(unit !== undefined, "deno.json has no test:unit task");
  assert.match(unit, /(^|\s)--sanitize-ops(\s|$)/);
  assert.match(unit, /(^|\s)--sanitize-resources(\s|$)/);
}, { ignore: isDeno ? false : "Deno only" });

test("sanitizers: with the sanitizer flags, a test leaking a timer fails and the leak is reported", async () => {
  const { success, output } = await denoTest(["--sanitize-ops", "--sanitize-resources"]);
  assert.equal(success, false, `the leaky fixture passed:\n${output}`);
  assert.match(output, /leaks a timer \.\.\. FAILED/);
  assert.match(output, /leak/i);
  assert.match(output, /timer was started in this test, but never completed/i);
}, { ignore: isDeno ? false : "Deno only" });

test("sanitizers: without the flags (Deno 2.9's default), the same leaky test passes", async () => {
  // This is why the test task must pass the flags: the leak goes unnoticed otherwise.
  const { success, output } = await denoTest([]);
  assert.equal(success, true, `the leaky fixture failed without sanitizer flags:\n${output}`);
  assert.match(output, /leaks a timer \.\.\. ok/);
}, { ignore: isDeno ? false : "Deno only" });
