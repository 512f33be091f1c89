/**
 * Tests of the Node backend's runtime host: its macrotask yield and timers must
 * keep a process alive exactly while something waits on them.
 *
 * Runs on Node (compiled) and on Deno (through its `node:` modules).
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { NodeBackend } from "../backend/node/mod.ts";
import { test } from "./harness.ts";

const moduleUrl = new URL("../backend/node/mod.ts", import.meta.url).href;

/** Runs `source` as an ES module in a child process of this runtime; resolves its exit code and output. */
async function runScript(source: string, limitMs: number): Promise<{ code: number | null; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), "node-backend-test-"));
  try {
    const file = join(dir, "main.mjs");
    await writeFile(file, source);
    const args = "deno" in process.versions ? ["run", "-A", "--quiet", file] : [file];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => output += chunk);
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => output += chunk);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const code = await new Promise<number | null>((resolve, reject) => {
      timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`The child process did not exit within ${limitMs} ms; output: ${output}`));
      }, limitMs);
      child.on("error", reject);
      child.on("close", (exitCode) => resolve(exitCode));
    }).finally(() => clearTimeout(timer));
    return { code, output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("node backend: coroYield lets timers run between yields", async () => {
  const backend = new NodeBackend();
  await backend.bootstrap(async () => {
    let fired = false;
    setTimeout(() => fired = true, 1);
    const start = backend.currentTime();
    while (!fired) {
      await backend.coroYield();
      assert.ok(backend.currentTime() - start < 5_000, "a timer never ran between yields");
    }
  });
});

test("node backend: pending yields keep the process alive, an idle backend does not", async () => {
  const source = `
    import { NodeBackend } from ${JSON.stringify(moduleUrl)};
    const backend = new NodeBackend();
    const result = await backend.bootstrap(async () => {
      for (let i = 0; i < 100; i++) await backend.coroYield();
      await backend.sleep(5);
      return await backend.moveOnAfter(5, () => backend.sleepForever());
    });
    await backend.bootstrap(() => backend.cancelShieldedCoroYield());
    console.log("finished", result);
  `;
  const { code, output } = await runScript(source, 30_000);
  assert.equal(code, 0, output);
  assert.match(output, /^finished undefined$/m);
});
