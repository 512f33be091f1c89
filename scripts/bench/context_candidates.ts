/**
 * What the context carrier costs on each runtime, measured without the library:
 * the floor under every cancel scope and every task start (each sets the
 * current scope for the code it runs, `backend/_core/context.ts`).
 *
 * For each candidate, the cost of one operation in a loop of 1M, the median
 * (and min–max) of interleaved rounds, with a second `AsyncLocalStorage` holding
 * a value (the library's variable beside a caller's own):
 *
 * - `run`: `storage.run(value, fn, arg)`, what the library does;
 * - `enterWith + restore`: `enterWith(value)`, call, `enterWith(previous)`,
 *   the other way to set a value for a synchronous call;
 * - `setTimeout + clearTimeout`: the timer pair of the scope row's goal
 *   (`core_bench.ts`), for scale.
 *
 * Usage:
 *
 * - Deno: `deno run -A scripts/bench/context_candidates.ts`
 * - Node 24: `npx -y node@24 scripts/bench/context_candidates.ts` (type stripping)
 * - Node 20: `deno bundle --platform=node -o /tmp/context_candidates.mjs
 *   scripts/bench/context_candidates.ts && node /tmp/context_candidates.mjs`
 *
 * `ROUNDS` (default 7) overrides the round count.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { loadavg } from "node:os";
import process from "node:process";

const OPS = 1_000_000;
const ROUNDS = Number(process.env.ROUNDS ?? 7);

const storage = new AsyncLocalStorage<number>();
const callers = new AsyncLocalStorage<string>();
let sink = 0;

function body(value: number): number {
  sink += value;
  return value;
}

const candidates: Record<string, () => void> = {
  "run": () => {
    for (let i = 0; i < OPS; i++) storage.run(i, body, i);
  },
  "enterWith + restore": () => {
    for (let i = 0; i < OPS; i++) {
      const previous = storage.getStore();
      storage.enterWith(i);
      try {
        body(i);
      } finally {
        storage.enterWith(previous as number);
      }
    }
  },
  "setTimeout + clearTimeout": () => {
    for (let i = 0; i < OPS; i++) clearTimeout(setTimeout(body, 1e9, i));
  },
};

function main(): void {
  const names = Object.keys(candidates);
  const times = new Map<string, number[]>(names.map((name) => [name, []]));
  for (let round = 0; round < ROUNDS + 1; round++) {
    const order = round % 2 === 0 ? names : [...names].reverse();
    for (const name of order) {
      const start = performance.now();
      candidates[name]();
      // The first round warms up.
      if (round > 0) times.get(name)!.push((performance.now() - start) * 1e6 / OPS);
    }
  }
  const runtime = "Deno" in globalThis ? `Deno ${process.versions.deno}` : `Node ${process.versions.node}`;
  console.log(`${runtime}, ${ROUNDS} rounds of ${OPS} ops, load average ${loadavg()[0].toFixed(2)}`);
  for (const name of names) {
    const sorted = times.get(name)!.sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1];
    const range = `${sorted[0].toFixed(0)}–${sorted[sorted.length - 1].toFixed(0)}`;
    console.log(`  ${name.padEnd(26)} ${median.toFixed(0).padStart(5)} ns/op (${range})`);
  }
  if (sink < 0) console.log(sink);
}

callers.run("caller", main);
