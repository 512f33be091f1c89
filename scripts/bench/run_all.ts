/**
 * The benchmark suite (`deno task bench`): every `scripts/bench/*_bench.ts` on
 * Deno, then the runtime-neutral ones, compiled by the npm build into
 * `npm/scripts/bench/`, on Node 20 (`node`) and Node 24 (`npx -y node@24`).
 * Each bench runs in its own process, so that one benchmark's heap and timers
 * cannot skew the next; the peers (Effection, piscina, tinypool, synckit,
 * pinned in `deno.json`'s imports) resolve through the import map on Deno and
 * from `npm/node_modules/` on Node.
 *
 * Every bench reports through `measure.ts`'s `report()`, which appends each
 * row as a line of JSON to the file named by `BENCH_RESULTS` (set here). At the
 * end the rows of every runtime are written to `scripts/bench/results.md` (one
 * table: scenario, reference, ours, ratio (min–max), goal, met, runtime, load
 * average) and `scripts/bench/results.json` (the rows, the runs and the
 * machine).
 *
 * Usage: `deno task bench [name...] [--quick] [--runtime=deno,node20,node24] [--no-build] [--render] [--out=DIR]`
 *
 * - names pick some benches (`deno task bench core thread`: a prefix of the
 *   area); a partial run (names or `--runtime`) replaces only its own rows in
 *   the recorded results;
 * - `--quick` (also `BENCH_QUICK=1`, passed on to every bench): tiny sizes and
 *   one round, results in a temporary folder (never over the recorded ones); it
 *   asserts nothing about speed and fails only when a bench fails. The test
 *   command runs it;
 * - `--no-build` uses the npm build already in `npm/` (the test command runs
 *   this after `test:node`, which built it);
 * - `--render` runs nothing and writes results.md again from results.json;
 * - `--out=DIR` writes the results into `DIR` (an existing folder) instead;
 * - `BENCH_TIMEOUT` (seconds; default 900, 300 in quick mode): a bench running
 *   longer is killed and counts as failed.
 *
 * A new benchmark needs no registration: name it `<area>_bench.ts`, build it
 * on `measure.ts`, and it runs here (on Node too once the regex of
 * `scripts/build_npm.ts` compiles it).
 *
 * @module
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg, release, type as osType } from "node:os";
import { join } from "node:path";
import type { RecordedRow } from "./measure.ts";

const BENCH_DIR = new URL(".", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;
const NPM_BENCH_DIR = join(ROOT, "npm", "scripts", "bench");
const RUNTIMES = ["deno", "node20", "node24"] as const;
type RuntimeId = typeof RUNTIMES[number];
/** The peers every runtime must resolve (deno.json's imports, the npm build's devDependencies). */
const PEERS = ["effection", "piscina", "tinypool", "synckit"];

// ---- Command line ----

const flags = Deno.args.filter((arg) => arg.startsWith("--"));
const names = Deno.args.filter((arg) => !arg.startsWith("--"));
const quick = flags.includes("--quick") || Deno.env.get("BENCH_QUICK") === "1";
const noBuild = flags.includes("--no-build");
// --render: run nothing, write results.md again from results.json (after merging runs made apart).
const render = flags.includes("--render");
const outFlag = flags.find((flag) => flag.startsWith("--out="));
const runtimeFlag = flags.find((flag) => flag.startsWith("--runtime="));
const runtimes: RuntimeId[] = runtimeFlag === undefined
  ? [...RUNTIMES]
  : runtimeFlag.slice("--runtime=".length).split(",").map((id) => {
    if (!(RUNTIMES as readonly string[]).includes(id)) throw new Error(`Unknown runtime '${id}' (${RUNTIMES})`);
    return id as RuntimeId;
  });
for (const flag of flags) {
  if (!["--quick", "--no-build", "--render"].includes(flag) && !/^--(runtime|out)=/.test(flag)) {
    throw new Error(`Unknown option ${flag} (--quick, --no-build, --runtime=${RUNTIMES}, --out=DIR)`);
  }
}
const timeoutMs = Number(Deno.env.get("BENCH_TIMEOUT") ?? (quick ? 300 : 900)) * 1000;
const partial = names.length > 0 || runtimeFlag !== undefined;

// A name picks every bench it starts ("thread" picks thread_pool_bench.ts).
const picked = (area: string) =>
  names.length === 0 || names.some((name) => name.startsWith(area) || area.startsWith(name));

/** The benches in `dir` whose file names end with `suffix`, core first. */
function benchesIn(dir: string, suffix: string): string[] {
  if (!existsSync(dir)) return [];
  const found = readdirSync(dir).filter((file) => {
    if (!file.endsWith(suffix)) return false;
    return picked(file.slice(0, -suffix.length));
  });
  return found.sort((a, b) => (a.startsWith("core_") ? -1 : b.startsWith("core_") ? 1 : a.localeCompare(b)));
}

// ---- Processes ----

/** One bench process: which, where, how long, how it ended. */
interface Run {
  readonly bench: string;
  readonly runtime: RuntimeId;
  readonly seconds: number;
  readonly code: number;
  readonly timedOut: boolean;
}

const runs: Run[] = [];
const resultsDir = outFlag !== undefined
  ? Deno.realPathSync(outFlag.slice("--out=".length))
  : quick
  ? await Deno.makeTempDir({ prefix: "bench-quick-" })
  : BENCH_DIR;
const rowsFile = join(await Deno.makeTempDir({ prefix: "bench-rows-" }), "rows.jsonl");
Deno.writeTextFileSync(rowsFile, "");
const env = { BENCH_RESULTS: rowsFile, ...(quick ? { BENCH_QUICK: "1" } : {}) };

/** Runs a command to the end (or the timeout), output inherited; returns its exit code and time. */
async function spawn(
  cmd: string,
  args: string[],
  cwd: string,
): Promise<{ code: number; seconds: number; timedOut: boolean }> {
  const start = performance.now();
  const child = new Deno.Command(cmd, { args, cwd, env, stdin: "null" }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, timeoutMs);
  const { code } = await child.status;
  clearTimeout(timer);
  return { code, seconds: (performance.now() - start) / 1000, timedOut };
}

async function runBench(runtime: RuntimeId, bench: string, cmd: string, args: string[], cwd: string): Promise<void> {
  console.log(`\n### ${bench} on ${runtime}${quick ? " (quick)" : ""}`);
  const { code, seconds, timedOut } = await spawn(cmd, args, cwd);
  runs.push({ bench, runtime, seconds: Math.round(seconds * 10) / 10, code, timedOut });
  const outcome = timedOut ? `killed after ${timeoutMs / 1000} s` : code === 0 ? "ok" : `failed (exit code ${code})`;
  console.log(`### ${bench} on ${runtime}: ${outcome}, ${seconds.toFixed(1)} s wall`);
}

/** Captures a command's stdout; throws with its stderr when it fails. */
async function output(cmd: string, args: string[], cwd: string): Promise<string> {
  const result = await new Deno.Command(cmd, { args, cwd, stdin: "null" }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim();
  if (!result.success) throw new Error(`${cmd} ${args.join(" ")} failed:\n${decode(result.stderr)}`);
  return decode(result.stdout);
}

/** The source importing every peer and printing what it resolved (the same text on Deno and Node). */
const PEER_CHECK = `const names = ${JSON.stringify(PEERS)};
for (const name of names) {
  const module = await import(name);
  if (Object.keys(module).length === 0) throw new Error(name + " exports nothing");
}
console.log(names.join(", "));`;

/** The peers' versions pinned in deno.json's imports (what Deno resolves). */
function pinnedPeers(): string {
  const imports = (JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as { imports: Record<string, string> })
    .imports;
  return PEERS.map((name) => `${name} ${imports[name]?.replace(/^npm:[^@]+@/, "") ?? "?"}`).join(", ");
}

/** The peers' versions installed in npm/node_modules (what Node resolves). */
function installedPeers(): string {
  return PEERS.map((name) => {
    const file = join(ROOT, "npm", "node_modules", name, "package.json");
    return `${name} ${(JSON.parse(readFileSync(file, "utf8")) as { version: string }).version}`;
  }).join(", ");
}

// ---- Deno ----

const started = new Date();
const loadAtStart = loadavg();
const peers: Record<string, string> = {};

if (runtimes.includes("deno") && !render) {
  const benches = benchesIn(BENCH_DIR, ".ts").filter((file) => file.endsWith("_bench.ts"));
  // Through the import map, fetched from npm on first use.
  await output(Deno.execPath(), ["eval", "--ext=ts", PEER_CHECK], ROOT);
  peers.deno = pinnedPeers();
  console.log(`Peers on Deno ${Deno.version.deno}: ${peers.deno}`);
  for (const file of benches) {
    const args = ["run", "-A", "--unstable-net", "--v8-flags=--expose-gc", join(BENCH_DIR, file)];
    await runBench("deno", file.replace(/\.ts$/, ""), Deno.execPath(), quick ? [...args, "--quick"] : args, ROOT);
  }
}

// ---- Node 20 and 24, from the npm build ----

/** The Node binary of a runtime id: `node` (checked to be 20) or Node 24's binary, fetched once by npx. */
async function nodeBinary(runtime: RuntimeId): Promise<string> {
  if (runtime === "node20") {
    const version = await output("node", ["--version"], ROOT);
    if (!version.startsWith("v20.")) throw new Error(`'node' is ${version}, expected Node 20`);
    return "node";
  }
  // The binary itself, not npx: no npx start-up per bench, and a timeout kills the bench.
  return await output("npx", ["-y", "node@24", "-p", "process.execPath"], ROOT);
}

const nodeRuntimes = runtimes.filter((id) => id !== "deno");
if (nodeRuntimes.length > 0 && !render) {
  if (!noBuild || !existsSync(join(ROOT, "npm", "package.json"))) {
    const build = await spawn(Deno.execPath(), ["run", "-A", join(ROOT, "scripts", "build_npm.ts")], ROOT);
    console.log(`npm build: ${build.seconds.toFixed(1)} s`);
    if (build.code !== 0) throw new Error(`The npm build failed with exit code ${build.code}`);
  }
  const benches = benchesIn(NPM_BENCH_DIR, ".js").filter((file) => file.endsWith("_bench.js"));
  const npmDir = join(ROOT, "npm");
  const checkFile = join(npmDir, "peer_check.mjs");
  Deno.writeTextFileSync(checkFile, PEER_CHECK);
  try {
    for (const runtime of nodeRuntimes) {
      const node = await nodeBinary(runtime);
      const version = await output(node, ["--version"], npmDir);
      await output(node, [checkFile], npmDir);
      peers[runtime] = installedPeers();
      console.log(`\nPeers on Node ${version}: ${peers[runtime]}`);
      for (const file of benches) {
        const args = ["--expose-gc", join(NPM_BENCH_DIR, file)];
        await runBench(runtime, file.replace(/\.js$/, ""), node, quick ? [...args, "--quick"] : args, npmDir);
      }
    }
  } finally {
    Deno.removeSync(checkFile);
  }
}

// ---- Results ----

const RUNTIME_LABEL: Record<RuntimeId, string> = { deno: "Deno", node20: "Node 20", node24: "Node 24" };

/** The runtime id of a recorded row: `deno`, `node20`, `node24`. */
function runtimeOf(row: RecordedRow): string {
  return row.runtime === "Node" ? `node${row.version.split(".")[0]}` : row.runtime.toLowerCase();
}

const newRows = readFileSync(rowsFile, "utf8").split("\n").filter(Boolean).map((line) =>
  JSON.parse(line) as RecordedRow
);
Deno.removeSync(rowsFile.slice(0, rowsFile.lastIndexOf("/")), { recursive: true });

/** What results.json holds. */
interface Recorded {
  readonly generated: string;
  readonly quick: boolean;
  readonly machine: { readonly cpus: string; readonly os: string };
  readonly peers: Record<string, string>;
  readonly runs: readonly (Run & { readonly started?: string })[];
  readonly rows: readonly RecordedRow[];
}

// A partial run keeps the recorded rows (and runs) of the benches and runtimes it did not run.
const jsonPath = join(resultsDir, "results.json");
const ran = new Set(runs.map((run) => `${run.bench} ${run.runtime}`));
let oldRows: RecordedRow[] = [];
let oldRuns: Run[] = [];
let oldPeers: Record<string, string> = {};
if (partial && !quick && existsSync(jsonPath)) {
  const old = JSON.parse(readFileSync(jsonPath, "utf8")) as Recorded;
  oldRows = old.rows.filter((row) => !ran.has(`${row.bench} ${runtimeOf(row)}`));
  oldRuns = old.runs.filter((run) => !ran.has(`${run.bench} ${run.runtime}`));
  oldPeers = old.peers;
}
const cpuList = cpus();
const recorded: Recorded = render ? JSON.parse(readFileSync(jsonPath, "utf8")) as Recorded : {
  generated: started.toISOString(),
  quick,
  machine: {
    cpus: `${cpuList.length} × ${cpuList[0]?.model ?? "unknown"}`,
    os: `${osType()} ${release()}`,
  },
  peers: { ...oldPeers, ...peers },
  runs: [...oldRuns, ...runs.map((run) => ({ ...run, started: started.toISOString() }))],
  rows: [...oldRows, ...newRows],
};

// A ratio over a reference of 0 is Infinity, which JSON records as null.
const fixed = (value: number | null) => (value === null || !Number.isFinite(value) ? "∞" : value.toFixed(2));
function perOp(ms: number, unit: "ms" | "bytes" = "ms"): string {
  if (unit === "bytes") return ms >= 10240 ? `${(ms / 1024).toFixed(1)} KiB` : `${ms.toFixed(0)} B`;
  const ns = ms * 1e6;
  if (ns < 1000) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1000).toFixed(2)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

/** results.md: one table, the rows of a bench together, each scenario's runtimes side by side. */
function markdown(data: Recorded): string {
  const order = new Map<string, number>();
  const benchOrder = (bench: string) => (bench.startsWith("core_") ? "" : bench);
  // Within a bench: scenarios in the order first reported, then Deno, Node 20, Node 24.
  const rows = [...data.rows];
  rows.forEach((row) => {
    const key = `${row.bench}\u0000${row.scenario}`;
    if (!order.has(key)) order.set(key, order.size);
  });
  rows.sort((a, b) =>
    benchOrder(a.bench).localeCompare(benchOrder(b.bench)) ||
    order.get(`${a.bench}\u0000${a.scenario}`)! - order.get(`${b.bench}\u0000${b.scenario}`)! ||
    runtimeOf(a).localeCompare(runtimeOf(b))
  );
  const lines = [
    `# Benchmark results${data.quick ? " (quick mode: sizes tiny, figures meaningless)" : ""}`,
    "",
    `Recorded by \`deno task bench\` (scripts/bench/run_all.ts), started ${data.generated}, on ${data.machine.cpus}, ` +
    `${data.machine.os}. Each row: ours against the reference in the same process, rounds interleaved (ABBA); ` +
    "ours and the reference are median times per operation, the ratio is the median of the per-round ratios " +
    "ours / reference with their min–max, the goal is the ratio to stay under; the load average (1, 5, 15 min) " +
    "is the machine's when the row's rounds ended.",
    "",
    `Peers: ${Object.entries(data.peers).map(([runtime, list]) => `${runtime}: ${list}`).join("; ") || "—"}.`,
    "",
    "| Scenario | Reference | Ours | Ratio (min–max) | Goal | Met | Runtime | Load average |",
    "|---|---|---:|---:|---:|---|---|---|",
  ];
  let bench = "";
  for (const row of rows) {
    if (row.bench !== bench) {
      bench = row.bench;
      lines.push(`| **${bench}** | | | | | | | |`);
    }
    const cells = [
      row.scenario,
      `${row.reference}: ${perOp(row.referencePerOp, row.unit)}`,
      perOp(row.oursPerOp, row.unit),
      `${fixed(row.ratio)}× (${fixed(row.min)}–${fixed(row.max)})`,
      row.goal === null ? "—" : `≤ ${row.goal}×`,
      row.met === null ? "—" : row.met ? "yes" : "**no**",
      `${row.runtime} ${row.version}`,
      row.load.map(fixed).join(" "),
    ];
    lines.push(`| ${cells.map((cell) => cell.replaceAll("|", "\\|")).join(" | ")} |`);
  }
  lines.push("", "Runs (wall time of each bench process):", "");
  lines.push("| Bench | Runtime | Wall time | Outcome |", "|---|---|---:|---|");
  for (const run of data.runs) {
    const outcome = run.timedOut ? "**killed (timeout)**" : run.code === 0 ? "ok" : `**failed (${run.code})**`;
    lines.push(`| ${run.bench} | ${RUNTIME_LABEL[run.runtime]} | ${run.seconds.toFixed(1)} s | ${outcome} |`);
  }
  return lines.join("\n") + "\n";
}

const mdPath = join(resultsDir, "results.md");
Deno.writeTextFileSync(jsonPath, JSON.stringify(recorded, null, 2) + "\n");
Deno.writeTextFileSync(mdPath, markdown(recorded));
// In the house format, so that `deno fmt --check` passes with the results committed.
const fmt = await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", mdPath, jsonPath], cwd: ROOT }).output();
if (!fmt.success) console.error(`deno fmt of the results failed:\n${new TextDecoder().decode(fmt.stderr)}`);

// ---- Summary ----

const total = runs.reduce((sum, run) => sum + run.seconds, 0);
const failed = runs.filter((run) => run.code !== 0 || run.timedOut);
console.log(`\n== ${runs.length} bench runs, ${newRows.length} rows, ${total.toFixed(0)} s of benches ==`);
for (const id of runtimes) {
  const mine = runs.filter((run) => run.runtime === id);
  const seconds = mine.reduce((sum, run) => sum + run.seconds, 0);
  console.log(
    `${RUNTIME_LABEL[id]}: ${mine.map((run) => `${run.bench} ${run.seconds.toFixed(1)} s`).join(", ")}` +
      ` (${seconds.toFixed(0)} s)`,
  );
}
const silent = runs.filter((run) =>
  run.code === 0 && !newRows.some((row) => row.bench === run.bench && runtimeOf(row) === run.runtime)
);
if (silent.length > 0) {
  console.log(
    `Recorded no row (not reporting through measure.ts's report()): ${
      silent.map((run) => `${run.bench} on ${run.runtime}`).join(", ")
    }`,
  );
}
console.log(`Load average: ${loadAtStart.map(fixed).join(" ")} at the start, ${loadavg().map(fixed).join(" ")} now`);
console.log(`Results: ${mdPath}, ${jsonPath}`);
if (failed.length > 0) {
  console.error(`Failed: ${failed.map((run) => `${run.bench} on ${run.runtime}`).join(", ")}`);
  Deno.exit(1);
}
