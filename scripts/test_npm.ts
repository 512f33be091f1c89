/**
 * The Node test run: builds `npm/`, runs the compiled test suite under Node 20
 * (the machine's `node`) and Node 24 (`npx -y node@24`), then packs the package,
 * installs the tarball into a temporary project and runs a smoke test that
 * imports it by name from a plain `.mjs` file.
 *
 * Usage: `deno task test:node` (run by `deno task test`, after the Deno suite).
 * `NODE_VERSIONS=20` limits the Node versions (comma-separated: `20`, `24`).
 *
 * @module
 */

import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildNpm } from "./build_npm.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const NPM = join(ROOT, "npm");

interface Run {
  code: number;
  stdout: string;
}

/** Runs a command; inherits stderr; with `capture`, returns stdout instead of printing it. */
async function run(cmd: string, args: string[], options: { cwd: string; capture?: boolean }): Promise<Run> {
  console.log(`$ ${[cmd, ...args].join(" ")}`);
  const child = new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    stdin: "null",
    stdout: options.capture ? "piped" : "inherit",
    stderr: "inherit",
    env: { NO_COLOR: "1", npm_config_update_notifier: "false", npm_config_fund: "false" },
  });
  const output = await child.output();
  return { code: output.code, stdout: options.capture ? new TextDecoder().decode(output.stdout) : "" };
}

async function mustRun(cmd: string, args: string[], options: { cwd: string; capture?: boolean }): Promise<string> {
  const result = await run(cmd, args, options);
  if (result.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed with exit code ${result.code}`);
  return result.stdout;
}

/** The compiled test files: `npm/tests/*_test.js`. */
function testFiles(): string[] {
  return [...Deno.readDirSync(join(NPM, "tests"))]
    .filter((entry) => entry.isFile && entry.name.endsWith("_test.js"))
    .map((entry) => join("tests", entry.name))
    .sort();
}

/** Runs the compiled suite under one Node version. */
async function runSuite(version: string): Promise<void> {
  const files = testFiles();
  if (version === "20") {
    const actual = (await mustRun("node", ["--version"], { cwd: NPM, capture: true })).trim();
    if (!actual.startsWith("v20.")) throw new Error(`'node' is ${actual}, expected Node 20`);
    await mustRun("node", ["--test", ...files], { cwd: NPM });
  } else {
    await mustRun("npx", ["-y", `node@${version}`, "--test", ...files], { cwd: NPM });
  }
}

const SMOKE = `// Imports the installed package by name and uses it as a Node user would.
import assert from "node:assert/strict";
import { threadModule } from "@easynetwork/async-backend";
import { NodeBackend } from "@easynetwork/async-backend/backend/node";
import { AsyncBackendFactory } from "@easynetwork/async-backend/factory";

const backend = AsyncBackendFactory.new();
assert.ok(backend instanceof NodeBackend, "the default backend on Node is NodeBackend");

await backend.bootstrap(async () => {
  // A timeout.
  const start = backend.currentTime();
  await assert.rejects(backend.timeout(20, () => backend.sleepForever()), { name: "TimeoutError" });
  assert.ok(backend.currentTime() - start >= 19, "the timeout fired early");
  console.log("smoke: timeout ok");

  // A TCP echo over loopback.
  const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 16);
  try {
    await backend.createTaskGroup(async (tg) => {
      tg.startSoon(async () => {
        const server = await (await listener.accept()).connect();
        try {
          for (;;) {
            const data = await server.recv(65536);
            if (data.length === 0) break;
            await server.sendall(data);
          }
        } finally {
          await server.aclose();
        }
      });
      const client = await backend.createTcpConnection("127.0.0.1", listener.getLocalAddress().port);
      try {
        await client.sendall(new TextEncoder().encode("hello, npm"));
        await client.sendEof();
        let text = "";
        for (;;) {
          const data = await client.recv(65536);
          if (data.length === 0) break;
          text += new TextDecoder().decode(data);
        }
        assert.equal(text, "hello, npm");
      } finally {
        await client.aclose();
      }
    });
  } finally {
    await listener.aclose();
  }
  console.log("smoke: tcp echo ok");

  // A function run in a worker thread (a plain .mjs worker module of the user's).
  const work = threadModule(new URL("./work.mjs", import.meta.url));
  assert.equal(await backend.runInThread(work.fib, 20), 6765);
  console.log("smoke: runInThread ok");
});
console.log("smoke: done");
`;

const WORK = `export function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
`;

/** Packs `npm/`, installs the tarball into a temporary project and runs the smoke test. */
async function smokeTest(): Promise<void> {
  const dir = Deno.makeTempDirSync({ prefix: "async-backend-smoke-" });
  try {
    const packed = JSON.parse(
      await mustRun("npm", ["pack", "--json", "--pack-destination", dir], { cwd: NPM, capture: true }),
    ) as { filename: string; files: { path: string }[] }[];
    const files = packed[0].files.map((file) => file.path);
    const leaked = files.filter((path) =>
      path.startsWith("tests/") || path.startsWith("scripts/") || path.includes("backend/deno/")
    );
    if (leaked.length > 0) throw new Error(`The package contains test or Deno-only files: ${leaked.join(", ")}`);
    const project = join(dir, "project");
    Deno.mkdirSync(project);
    Deno.writeTextFileSync(join(project, "package.json"), JSON.stringify({ private: true, type: "module" }));
    Deno.writeTextFileSync(join(project, "smoke.mjs"), SMOKE);
    Deno.writeTextFileSync(join(project, "work.mjs"), WORK);
    // The tarball has no dependencies: the install needs no network.
    await mustRun("npm", ["install", "--offline", "--no-audit", "--no-fund", join(dir, packed[0].filename)], {
      cwd: project,
    });
    const output = await mustRun("node", ["smoke.mjs"], { cwd: project, capture: true });
    console.log(output.trimEnd());
    if (!output.includes("smoke: done")) throw new Error("The smoke test did not finish");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const versions = (Deno.env.get("NODE_VERSIONS") ?? "20,24").split(",").map((v) => v.trim()).filter(Boolean);
  console.log(`npm/: ${buildNpm()} files built`);
  for (const version of versions) {
    console.log(`\n== The test suite on Node ${version} ==`);
    await runSuite(version);
  }
  console.log("\n== The packed-tarball smoke test ==");
  await smokeTest();
}
