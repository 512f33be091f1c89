/**
 * Checks the import rule of the layers (SPEC 7, `ARCHITECTURE.md`):
 *
 * ```
 * abc/, errors.ts ← _util/ ← _core/ ← _net/, _threads/ ← backend/*.ts ← deno/, node/
 * factory/, tasks/, futures/, mod.ts → public files and _util/ only
 * ```
 *
 * and where the runtimes may be touched: only `backend/deno/**` uses `Deno.*`;
 * only `backend/node/**`, `backend/_core/context.ts` and the files listed in
 * {@linkcode NODE_IMPORTS_ALLOWED} import `node:*`. Prints every offending
 * import and exits with 1 when there is one.
 *
 * Usage: `deno run -A scripts/check_layers.ts` (part of `deno task test`).
 *
 * @module
 */

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The layers, from the bottom up. */
type Layer = "abc" | "util" | "core" | "net" | "threads" | "top" | "deno" | "node" | "public";

/** What each layer may import (itself included). */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  abc: ["abc"],
  util: ["abc", "util"],
  core: ["abc", "util", "core"],
  net: ["abc", "util", "core", "net"],
  threads: ["abc", "util", "core", "threads"],
  top: ["abc", "util", "core", "net", "threads", "top"],
  deno: ["abc", "util", "core", "net", "threads", "top", "deno"],
  node: ["abc", "util", "core", "net", "threads", "top", "node"],
  public: ["abc", "util", "top", "public"],
};

/** Files besides `backend/node/**` and `backend/_core/context.ts` that may import `node:*`. */
const NODE_IMPORTS_ALLOWED: readonly string[] = [
  // Deno's pooled workers run on node:worker_threads (terminate stops a spinning worker; heap limits).
  "backend/deno/_host.ts",
  // Deno's workers read a MessagePort synchronously with node:worker_threads.
  "backend/deno/_worker.ts",
  // Deno's Node-compat fallback (bind before connect, server STARTTLS), reached by import() only.
  "backend/deno/_node_compat.ts",
  // Deno has node:diagnostics_channel, where runners publish their events.
  "backend/deno/_diagnostics.ts",
];

/**
 * Files that only `import()` may reach (never a static import): Deno's
 * Node-compat fallback, so that a Deno program that never binds before
 * connecting nor upgrades a server connection never loads Deno's `node:` network
 * stack. `backend/deno/tcp.ts` imports it with no task context (a module's
 * evaluation and what it sets up keep the importer's async context: imported
 * from inside a task, it made a later test see that finished task's scope).
 */
const DYNAMIC_ONLY: readonly string[] = ["backend/deno/_node_compat.ts"];

/** The layer of a file (a path relative to the root), or `null` when outside the checked tree. */
function layerOf(path: string): Layer | null {
  if (path === "mod.ts" || /^(factory|tasks|futures)\//.test(path)) return "public";
  if (!path.startsWith("backend/")) return null;
  const rest = path.slice("backend/".length);
  if (rest.startsWith("abc/") || rest === "errors.ts") return "abc";
  if (rest.startsWith("_util/")) return "util";
  if (rest.startsWith("_core/")) return "core";
  if (rest.startsWith("_net/")) return "net";
  if (rest.startsWith("_threads/")) return "threads";
  if (rest.startsWith("deno/")) return "deno";
  if (rest.startsWith("node/")) return "node";
  if (!rest.includes("/")) return "top";
  return null;
}

/** Whether a public file may import `target`: only public paths (no `_` folder but `_util/`, no `_` file). */
function isPublicTarget(target: string): boolean {
  const parts = target.split("/");
  return parts.every((part, i) => !part.startsWith("_") || (i === 1 && part === "_util"));
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** The source without comments, so that prose naming `Deno.connect` or `node:net` does not count. */
function stripComments(source: string): string {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, ""))
    .replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

interface Import {
  specifier: string;
  dynamic: boolean;
  line: number;
}

function importsOf(source: string): Import[] {
  const found: Import[] = [];
  const patterns: [RegExp, boolean][] = [
    [/(?:^|[\s;])(?:import|export)\s[^;]*?from\s*["']([^"']+)["']/gm, false],
    [/(?:^|[\s;])import\s*["']([^"']+)["']/gm, false],
    [/\bimport\(\s*["'`]([^"'`]+)["'`]\s*\)/g, true],
    [/new URL\(\s*["'`]([^"'`]+)["'`]\s*,\s*import\.meta\.url/g, true],
  ];
  for (const [pattern, dynamic] of patterns) {
    for (const match of source.matchAll(pattern)) {
      // A type-only import is erased: it loads nothing.
      if (/^\s*(import|export)\s+type\s/.test(match[0].replace(/^[\s;]/, ""))) continue;
      const at = match.index + match[0].indexOf(match[1]);
      const line = source.slice(0, at).split("\n").length;
      found.push({ specifier: match[1], dynamic, line });
    }
  }
  return found;
}

const problems: string[] = [];
const files = ["mod.ts", ...["backend", "factory", "tasks", "futures"].flatMap((dir) => walk(join(ROOT, dir)))]
  .map((path) => relative(ROOT, resolve(ROOT, path)).split("\\").join("/"));

for (const file of files) {
  const layer = layerOf(file);
  if (layer === null) continue;
  const source = stripComments(readFileSync(join(ROOT, file), "utf8"));
  for (const { specifier, dynamic, line } of importsOf(source)) {
    const where = `${file}:${line}`;
    if (specifier.startsWith("node:")) {
      const allowed = layer === "node" || file === "backend/_core/context.ts" || NODE_IMPORTS_ALLOWED.includes(file);
      if (!allowed) problems.push(`${where}: imports ${specifier}; only backend/node/** and the listed files may`);
      continue;
    }
    if (!specifier.startsWith(".")) continue;
    const target = normalize(join(dirname(file), specifier)).split("\\").join("/");
    const targetLayer = layerOf(target);
    if (targetLayer === null) continue;
    if (DYNAMIC_ONLY.includes(target) && !dynamic) {
      problems.push(`${where}: imports ${target} statically; it is loaded with import() on first use only`);
    }
    if (!ALLOWED[layer].includes(targetLayer)) {
      // A public package may load a concrete backend's public module lazily (the factory).
      const lazyBackend = layer === "public" && dynamic && /^backend\/(deno|node)\/mod\.ts$/.test(target);
      // The factory's built-in table imports the runtime's own backend statically (its two
      // flavours: builtin_backends.ts on JSR, builtin_backends.node.ts on npm).
      const ownBackend = /^factory\/builtin_backends(\.node)?\.ts$/.test(file) &&
        /^backend\/(deno|node)\/mod\.ts$/.test(target);
      if (!lazyBackend && !ownBackend) {
        problems.push(`${where}: ${layer} layer imports ${target} (${targetLayer} layer)`);
      }
      continue;
    }
    if (layer === "public" && !isPublicTarget(target)) {
      problems.push(`${where}: a public package imports the private ${target}`);
    }
  }
  if (layer !== "deno" && /\bDeno\.[A-Za-z]/.test(source)) {
    const line = source.slice(0, source.search(/\bDeno\.[A-Za-z]/)).split("\n").length;
    problems.push(`${file}:${line}: uses Deno.*; only backend/deno/** may`);
  }
}

if (problems.length > 0) {
  console.error(`check_layers: ${problems.length} import(s) break the layer rule:`);
  for (const problem of problems) console.error(`  ${problem}`);
  process.exit(1);
}
console.log(`check_layers: ${files.length} files follow the layer rule`);
