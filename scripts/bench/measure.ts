/**
 * A small, runtime-neutral benchmark harness shared by every `*_bench.ts`:
 * paired measurements (ours vs a raw baseline) interleaved in one process,
 * medians, and a printed summary plus a ready-to-paste markdown table.
 *
 * Only `performance.now()`, `console` and a few `node:` modules are used, so a
 * bench written on this harness runs unchanged on Deno and Node.
 *
 * ## Recording
 *
 * When `BENCH_RESULTS` names a file (`run_all.ts` sets it), {@linkcode report}
 * also appends each row to it as one line of JSON (a {@linkcode RecordedRow}):
 * the bench, the runtime and its version, the load average while the row was
 * measured, and the figures. `run_all.ts` gathers the lines of every bench on
 * every runtime into `results.md` and `results.json`.
 *
 * @module
 */

import { appendFileSync } from "node:fs";
import { loadavg } from "node:os";
import process from "node:process";

/**
 * Quick mode (`--quick` on the command line or `BENCH_QUICK=1`): tiny sizes and
 * one round, so the test command runs every benchmark and none can rot. It
 * asserts nothing about speed.
 */
export const QUICK: boolean = process.argv.includes("--quick") || process.env.BENCH_QUICK === "1";

/**
 * A workload size: `n` normally, `quick` (default: n / 1000, at least 1) in
 * quick mode. Every count a benchmark loops over goes through it.
 *
 * @param n The full size.
 * @param quick The size in quick mode.
 */
export function sized(n: number, quick: number = Math.max(1, Math.ceil(n / 1000))): number {
  return QUICK ? quick : n;
}

/** Runs a workload of `ops` operations once and resolves when it is done. */
export type Workload = () => Promise<void> | void;

/** One comparison: our operation against the fastest raw equivalent. */
export interface Comparison {
  /** Row label, e.g. "spawn+join 100k tasks". */
  readonly name: string;
  /** Operations per run (the per-op times divide by it). */
  readonly ops: number;
  /** Our implementation. */
  readonly ours: Workload;
  /** Label of the raw baseline, e.g. "Promise.all". */
  readonly rawName: string;
  /** The raw baseline. */
  readonly raw: Workload;
  /** The goal: ours / raw must not exceed it. Without one, the row is for reference. */
  readonly goal?: number;
  /** Timed runs of each side for this row, when {@linkcode compare}'s options give none (not in quick mode). */
  readonly rounds?: number;
  /** Untimed runs of each side first, when {@linkcode compare}'s options give none (not in quick mode). */
  readonly warmups?: number;
  /** What the per-op figures are: ms (the default) or bytes (a memory row, made without {@linkcode compare}). */
  readonly unit?: "ms" | "bytes";
}

/** Options of {@linkcode compare}. */
export interface CompareOptions {
  /** Untimed runs of each side first (default 2). */
  readonly warmups?: number;
  /** Timed runs of each side (default 7). */
  readonly rounds?: number;
}

/** The outcome of a {@linkcode Comparison}. */
export interface Result {
  readonly comparison: Comparison;
  /** Median ms per op of ours. */
  readonly oursPerOp: number;
  /** Median ms per op of the raw baseline. */
  readonly rawPerOp: number;
  /** Median of the per-round ratios ours / raw. */
  readonly ratio: number;
  /** Smallest and largest per-round ratio: the spread shows how noisy the run was. */
  readonly spread: readonly [number, number];
  /** The load average (1, 5, 15 min) when the rounds ended; {@linkcode report} reads it then if absent. */
  readonly load?: readonly number[];
  /** The timed rounds of each side. */
  readonly rounds?: number;
}

/** V8's `gc()`, exposed by `--v8-flags=--expose-gc` (Deno) or `--expose-gc` (Node). */
const gc = (globalThis as { gc?: () => void }).gc;

const SELF_TIMED = Symbol("selfTimed");

/**
 * A workload that times itself: `run` sets up, times the part that is measured
 * and resolves with its ms (the set-up, such as parking 100k waiters, is left
 * out). {@linkcode compare} takes the returned ms instead of the run's wall
 * time; `gc()` is the workload's own business (see {@linkcode collectGarbage}).
 *
 * @param run Resolves with the ms of the measured part.
 */
export function selfTimed(run: () => Promise<number> | number): Workload {
  const workload = async (): Promise<void> => void await run();
  return Object.assign(workload, { [SELF_TIMED]: run });
}

/** V8's `gc()` when exposed (a self-timed workload calls it before its timed part), else nothing. */
export function collectGarbage(): void {
  gc?.();
}

/**
 * Times one run. With `gc()` exposed, the heap is collected first, so that a
 * run does not pay for the garbage of the run before it (of the other side).
 */
async function time(workload: Workload): Promise<number> {
  gc?.();
  const own = (workload as { [SELF_TIMED]?: () => Promise<number> | number })[SELF_TIMED];
  if (own !== undefined) return await own();
  const start = performance.now();
  await workload();
  return performance.now() - start;
}

/** The median of `values` (not modified). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Measures ours and raw alternately (ABBA order, so that drift hits both
 * alike), after warm-up runs, and returns the medians.
 *
 * @param comparison What to measure.
 * @param options Warm-up and round counts.
 */
export async function compare(comparison: Comparison, options: CompareOptions = {}): Promise<Result> {
  const {
    warmups = QUICK ? 0 : comparison.warmups ?? 2,
    rounds = QUICK ? 1 : comparison.rounds ?? 7,
  } = options;
  for (let i = 0; i < warmups; i++) {
    await comparison.ours();
    await comparison.raw();
  }
  const ours: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      ours.push(await time(comparison.ours));
      raw.push(await time(comparison.raw));
    } else {
      raw.push(await time(comparison.raw));
      ours.push(await time(comparison.ours));
    }
  }
  const ratios = ours.map((t, i) => t / raw[i]);
  return {
    comparison,
    oursPerOp: median(ours) / comparison.ops,
    rawPerOp: median(raw) / comparison.ops,
    ratio: median(ratios),
    spread: [Math.min(...ratios), Math.max(...ratios)],
    load: loadavg(),
    rounds,
  };
}

/**
 * Formats ms per op in the most readable unit (or bytes, for a memory row).
 *
 * @param ms The figure: ms per op, or bytes per item when `unit` is `"bytes"`.
 * @param unit What the figure is.
 */
export function formatPerOp(ms: number, unit: "ms" | "bytes" = "ms"): string {
  if (unit === "bytes") return ms >= 10240 ? `${(ms / 1024).toFixed(1)} KiB` : `${ms.toFixed(0)} B`;
  const ns = ms * 1e6;
  if (ns < 1000) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1000).toFixed(2)} µs`;
  return `${(ns / 1e6).toFixed(2)} ms`;
}

function row(result: Result): string[] {
  const { comparison: c, ratio, spread } = result;
  return [
    c.name,
    formatPerOp(result.oursPerOp, c.unit),
    `${formatPerOp(result.rawPerOp, c.unit)} (${c.rawName})`,
    `${ratio.toFixed(2)}× (${spread[0].toFixed(2)}–${spread[1].toFixed(2)})`,
    c.goal === undefined ? "—" : `≤ ${c.goal}×`,
    c.goal === undefined ? "—" : ratio <= c.goal ? "yes" : "no",
  ];
}

const HEADER = ["Workload", "Ours / op", "Raw / op", "Ratio (min–max)", "Goal", "Met"];

/**
 * Prints the results as an aligned text table and as a markdown table ready to
 * paste into the README.
 *
 * @param title What was measured and where (runtime, version).
 * @param results The results, one row each.
 */
export function report(title: string, results: readonly Result[]): void {
  record(title, results);
  const rows = [HEADER, ...results.map(row)];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log(`\n${title}\n`);
  for (const r of rows) console.log(r.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd());
  console.log("\nMarkdown:\n");
  console.log(`| ${HEADER.join(" | ")} |`);
  console.log(`|${HEADER.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
  for (const r of rows.slice(1)) console.log(`| ${r.map((cell) => (cell === "no" ? "**no**" : cell)).join(" | ")} |`);
}

/** The runtime running this process: `{ name: "Deno", version: "2.9.6" }` or Node's. */
export function currentRuntime(): { readonly name: string; readonly version: string } {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.deno !== undefined) return { name: "Deno", version: versions.deno };
  if (versions.bun !== undefined) return { name: "Bun", version: versions.bun };
  return { name: "Node", version: process.versions.node };
}

/** One row as {@linkcode report} appends it to the `BENCH_RESULTS` file (one JSON object a line). */
export interface RecordedRow {
  /** The bench's file name without its extension (`core_bench`). */
  readonly bench: string;
  /** The title given to {@linkcode report}. */
  readonly title: string;
  /** `"Deno"`, `"Node"` (or `"Bun"`). */
  readonly runtime: string;
  /** The runtime's version, e.g. `"2.9.6"`, `"20.19.5"`. */
  readonly version: string;
  /** Whether the bench ran in quick mode (figures meaningless). */
  readonly quick: boolean;
  /** ISO time of the report. */
  readonly time: string;
  /** The load average (1, 5, 15 min) when the row's rounds ended. */
  readonly load: readonly number[];
  /** The row's label. */
  readonly scenario: string;
  /** The reference's label. */
  readonly reference: string;
  /** Operations per run. */
  readonly ops: number;
  /** Timed rounds of each side, when known. */
  readonly rounds: number | null;
  /** What the per-op figures are: ms per op, or bytes per item (memory rows). */
  readonly unit: "ms" | "bytes";
  /** Median ms per op (or bytes per item) of ours. */
  readonly oursPerOp: number;
  /** Median ms per op (or bytes per item) of the reference. */
  readonly referencePerOp: number;
  /** Median of the per-round ratios ours / reference. */
  readonly ratio: number;
  /** Smallest per-round ratio. */
  readonly min: number;
  /** Largest per-round ratio. */
  readonly max: number;
  /** The goal (ours / reference at most), `null` for a reference row. */
  readonly goal: number | null;
  /** Whether the goal is met, `null` without a goal. */
  readonly met: boolean | null;
}

/** The bench's name: its main module's file name without the extension. */
function benchName(): string {
  const main = process.argv[1] ?? "";
  const file = main.split(/[\\/]/).pop() ?? main;
  return file.replace(/\.[cm]?[jt]s$/, "") || "unknown";
}

/** Appends the rows to the `BENCH_RESULTS` file, when there is one. */
function record(title: string, results: readonly Result[]): void {
  const file = process.env.BENCH_RESULTS;
  if (file === undefined || file === "") return;
  const { name, version } = currentRuntime();
  const bench = benchName();
  const time = new Date().toISOString();
  const lines = results.map((result): string => {
    const c = result.comparison;
    const row: RecordedRow = {
      bench,
      title,
      runtime: name,
      version,
      quick: QUICK,
      time,
      load: (result.load ?? loadavg()).map((value) => Math.round(value * 100) / 100),
      scenario: c.name,
      reference: c.rawName,
      ops: c.ops,
      rounds: result.rounds ?? null,
      unit: c.unit ?? "ms",
      oursPerOp: result.oursPerOp,
      referencePerOp: result.rawPerOp,
      ratio: result.ratio,
      min: result.spread[0],
      max: result.spread[1],
      goal: c.goal ?? null,
      met: c.goal === undefined ? null : result.ratio <= c.goal,
    };
    return JSON.stringify(row) + "\n";
  });
  appendFileSync(file, lines.join(""));
}
