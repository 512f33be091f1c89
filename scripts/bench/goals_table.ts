/**
 * Prints the README's goal table from a recorded run (`deno run -A
 * scripts/bench/goals_table.ts [results.json]`): every row of
 * `scripts/bench/results.json` that has a goal, one line per scenario, the
 * runtimes side by side (ratio, min–max, met or not), then the load averages
 * the rows were measured at. The README's tables are pasted from its output,
 * so they come from one run.
 *
 * @module
 */

interface Row {
  readonly bench: string;
  readonly runtime: string;
  readonly version: string;
  readonly scenario: string;
  readonly reference: string;
  readonly ratio: number;
  readonly min: number;
  readonly max: number;
  readonly goal: number | null;
  readonly met: boolean | null;
  readonly load: readonly number[];
}

interface Recorded {
  readonly generated: string;
  readonly quick: boolean;
  readonly rows: readonly Row[];
}

const path = Deno.args[0] ?? new URL("./results.json", import.meta.url).pathname;
const data: Recorded = JSON.parse(await Deno.readTextFile(path));
const label = (row: Row): string =>
  `${row.runtime} ${row.version.split(".").slice(0, row.runtime === "Deno" ? 3 : 1).join(".")}`;
const runtimes = [...new Set(data.rows.map(label))].sort((a, b) =>
  (a.startsWith("Deno") ? "0" : "1") + a < (b.startsWith("Deno") ? "0" : "1") + b ? -1 : 1
);
const fixed = (value: number | null): string => (value === null || !Number.isFinite(value) ? "∞" : value.toFixed(2));

const scenarios = new Map<string, Map<string, Row>>();
for (const row of data.rows) {
  if (row.goal === null) continue;
  const key = `${row.bench}\u0000${row.scenario}\u0000${row.reference}`;
  if (!scenarios.has(key)) scenarios.set(key, new Map());
  scenarios.get(key)!.set(label(row), row);
}

console.log(`Recorded ${data.generated}${data.quick ? " (quick mode: figures meaningless)" : ""}.\n`);
console.log(`| Bench | Scenario (against) | Goal | ${runtimes.join(" | ")} |`);
console.log(`|---|---|---:|${runtimes.map(() => "---:").join("|")}|`);
for (const [key, byRuntime] of scenarios) {
  const [bench, scenario, reference] = key.split("\u0000");
  const goal = [...byRuntime.values()][0].goal;
  const cells = runtimes.map((runtime) => {
    const row = byRuntime.get(runtime);
    if (row === undefined) return "—";
    const figure = `${fixed(row.ratio)}× (${fixed(row.min)}–${fixed(row.max)})`;
    return row.met ? figure : `**${figure}**`;
  });
  const name = `${scenario} (${reference})`.replaceAll("|", "\\|");
  console.log(`| ${bench.replace(/_bench$/, "")} | ${name} | ≤ ${goal}× | ${cells.join(" | ")} |`);
}
console.log("\nLoad average (1 min) at the rows' ends, lowest–highest:");
for (const runtime of runtimes) {
  const loads = data.rows.filter((row) => label(row) === runtime).map((row) => row.load[0]);
  if (loads.length > 0) console.log(`- ${runtime}: ${fixed(Math.min(...loads))}–${fixed(Math.max(...loads))}`);
}
