/**
 * The Node test run: builds `npm/`, runs the compiled test suite (every
 * `npm/tests/**\/*_test.js`) under Node 20 (the machine's `node`) and Node 24
 * (`npx -y node@24`), then packs the package and checks the tarball:
 *
 * - `publint` and `@arethetypeswrong/cli` (profile `esm-only`: the package is ESM;
 *   `require()` of it is tested for real below);
 * - installed by name into a scratch project (the files of `scripts/npm_smoke/`),
 *   with the pinned TypeScript, `@types/node` and esbuild: a smoke test, a
 *   `require()` of every entry (Node 20 and 24), a type check of every entry's
 *   `.d.ts` without the DOM lib, and esbuild bundles (ESM and CommonJS) of an app
 *   that calls `runInThread` (it must find its worker entry in the installed
 *   package, and fail with the library's message where there is none).
 *
 * Usage: `deno task test:node` (run by `deno task test`, after the Deno suite).
 * `NODE_VERSIONS=20` limits the Node versions (comma-separated: `20`, `24`).
 *
 * @module
 */

import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildNpm } from "./build_npm.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const NPM = join(ROOT, "npm");
const SMOKE = join(ROOT, "scripts", "npm_smoke");

/** The tools of the checks, pinned. */
const PUBLINT = "publint@0.3.25";
const ATTW = "@arethetypeswrong/cli@0.18.5";
const ESBUILD = "esbuild@0.28.2";
const TYPESCRIPT = "typescript@5.9.3";

const versions = (Deno.env.get("NODE_VERSIONS") ?? "20,24").split(",").map((v) => v.trim()).filter(Boolean);

/** Runs a command; inherits stderr; with `capture`, returns stdout instead of printing it. */
async function run(
  cmd: string,
  args: string[],
  options: { cwd: string; capture?: boolean; check?: boolean },
): Promise<{ code: number; stdout: string }> {
  console.log(`$ ${[cmd, ...args].join(" ")}`);
  const output = await new Deno.Command(cmd, {
    args,
    cwd: options.cwd,
    stdin: "null",
    stdout: options.capture ? "piped" : "inherit",
    stderr: "inherit",
    env: { NO_COLOR: "1", npm_config_update_notifier: "false", npm_config_fund: "false" },
  }).output();
  if (options.check !== false && output.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed with exit code ${output.code}`);
  }
  return { code: output.code, stdout: options.capture ? new TextDecoder().decode(output.stdout) : "" };
}

/** The command line of one Node version: `node` (checked to be Node 20) or `npx -y node@<version>`. */
async function nodeCommand(version: string): Promise<[string, string[]]> {
  if (version !== "20") return ["npx", ["-y", `node@${version}`]];
  const actual = (await run("node", ["--version"], { cwd: ROOT, capture: true })).stdout.trim();
  if (!actual.startsWith("v20.")) throw new Error(`'node' is ${actual}, expected Node 20`);
  return ["node", []];
}

/** Runs a Node script with every Node version; returns each run's stdout, printed. */
async function onEveryNode(args: string[], cwd: string): Promise<void> {
  for (const version of versions) {
    const [cmd, prefix] = await nodeCommand(version);
    console.log((await run(cmd, [...prefix, ...args], { cwd, capture: true })).stdout.trimEnd());
  }
}

/** The compiled test files, nested folders included: `npm/tests/**\/*_test.js`. */
function testFiles(dir = join(NPM, "tests")): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith("_test.js") ? [relative(NPM, path)] : [];
  }).sort();
}

/** Packs `npm/` into `dir`; checks that no test, script or Deno file is in it; returns the tarball's path. */
async function pack(dir: string): Promise<string> {
  const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dir], { cwd: NPM, capture: true });
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  const leaked = packed.files.map((file) => file.path)
    .filter((path) => /^(tests|scripts|node_modules)\//.test(path) || path.includes("deno/"));
  if (leaked.length > 0) throw new Error(`The package contains test or Deno-only files: ${leaked.join(", ")}`);
  return join(dir, packed.filename);
}

/** The tarball in a scratch project, by name, as a Node user has it. */
async function consumerChecks(dir: string, tarball: string): Promise<void> {
  const project = join(dir, "project");
  cpSync(SMOKE, project, { recursive: true });
  const typesNode = (JSON.parse(readFileSync(join(NPM, "package.json"), "utf8")) as {
    devDependencies: Record<string, string>;
  }).devDependencies["@types/node"];
  Deno.writeTextFileSync(join(project, "package.json"), JSON.stringify({ private: true, type: "module" }));
  await run("npm", ["install", "--no-audit", "--no-fund", tarball, TYPESCRIPT, `@types/node@${typesNode}`, ESBUILD], {
    cwd: project,
  });

  console.log("\n-- smoke test, require() of every entry --");
  await onEveryNode(["smoke.mjs"], project);
  await onEveryNode(["require_all.cjs"], project);

  console.log("\n-- the .d.ts with lib es2022 and @types/node, no DOM --");
  await run("npx", ["tsc", "-p", "tsconfig.json"], { cwd: project });

  console.log("\n-- esbuild bundles (ESM, CommonJS) of an app that runs code in threads --");
  for (const format of ["esm", "cjs"]) {
    const outfile = `dist/app.${format === "esm" ? "mjs" : "cjs"}`;
    const args = [
      "esbuild",
      "bundle_app.mjs",
      "--bundle",
      "--platform=node",
      `--format=${format}`,
      `--outfile=${outfile}`,
    ];
    await run("npx", args, { cwd: project });
    await onEveryNode([outfile], project);
    // Without the package beside it, the bundle fails with the library's message, not a crash in a worker.
    const alone = join(dir, `alone-${format}`);
    cpSync(join(project, "dist"), join(alone, "dist"), { recursive: true });
    cpSync(join(project, "work.mjs"), join(alone, "work.mjs"));
    const [cmd, prefix] = await nodeCommand(versions[0]);
    const lonely = await run(cmd, [...prefix, outfile], { cwd: alone, capture: true, check: false });
    console.log(lonely.stdout.trimEnd());
    if (lonely.code === 0 || !lonely.stdout.includes("install @easynetwork/async-backend beside the bundle")) {
      throw new Error("A bundle with no package beside it should fail with the library's message");
    }
  }
}

if (import.meta.main) {
  console.log(`npm/: ${buildNpm()} files built`);
  const files = testFiles();
  for (const version of versions) {
    console.log(`\n== The test suite on Node ${version} (${files.length} files) ==`);
    const [cmd, prefix] = await nodeCommand(version);
    await run(cmd, [...prefix, "--test", ...files], { cwd: NPM });
  }

  const dir = mkdtempSync(join(tmpdir(), "async-backend-npm-"));
  try {
    console.log("\n== The packed tarball ==");
    const tarball = await pack(dir);
    await run("npx", ["-y", PUBLINT, "run", "--strict", tarball], { cwd: dir });
    await run("npx", ["-y", ATTW, "--profile", "esm-only", "--format", "table-flipped", tarball], { cwd: dir });
    await consumerChecks(dir, tarball);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log("\nThe Node run passed");
}
