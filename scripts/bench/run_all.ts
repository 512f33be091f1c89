/**
 * Runs every `scripts/bench/*_bench.ts` (`deno task bench`), each in its own
 * Deno process so that one benchmark's heap and timers cannot skew the next.
 * Names on the command line pick some: `deno task bench core threads`.
 *
 * A new benchmark needs no registration: name it `<area>_bench.ts`, build it
 * on `measure.ts`, and it runs here.
 *
 * @module
 */

const dir = new URL(".", import.meta.url);
const wanted = new Set(Deno.args);
// "thread" and "threads" both pick thread_bench.ts.
const picked = (area: string) => [...wanted].some((name) => name.startsWith(area) || area.startsWith(name));
const benches: string[] = [];
for await (const entry of Deno.readDir(dir)) {
  const area = entry.name.match(/^(.+)_bench\.ts$/)?.[1];
  if (entry.isFile && area !== undefined && (wanted.size === 0 || picked(area))) benches.push(entry.name);
}
benches.sort((a, b) => (a === "core_bench.ts" ? -1 : b === "core_bench.ts" ? 1 : a.localeCompare(b)));
if (benches.length === 0) throw new Error(`No benchmark matches ${[...wanted].join(", ")}`);

let failed = 0;
for (const name of benches) {
  console.log(`\n### ${name}`);
  const path = new URL(name, dir).pathname;
  const args = ["run", "-A", "--unstable-net", "--v8-flags=--expose-gc", path];
  const { code } = await new Deno.Command(Deno.execPath(), { args, stdin: "null" }).spawn().status;
  if (code !== 0) {
    console.error(`${name} failed with exit code ${code}`);
    failed++;
  }
}
if (failed > 0) Deno.exit(1);
