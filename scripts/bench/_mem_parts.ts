import { ContextVariable } from "../../backend/_core/context.ts";
import { CancelScope } from "../../backend/_core/cancel_scope.ts";
import { TaskCore } from "../../backend/_core/task.ts";
import process from "node:process";
const gc = (globalThis as { gc?: () => void }).gc!;
const N = 100_000;
const R = Promise.resolve();
const f = () => {};
const ctx = new ContextVariable<object>();
async function measure(name: string, make: (i: number) => unknown) {
  const keep = new Array(N);
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < N; i++) keep[i] = make(i);
  gc();
  console.log(name.padEnd(40), ((process.memoryUsage().heapUsed - before) / N).toFixed(0));
  await new Promise((r) => setTimeout(r, 10));
}
const parent = new CancelScope(null);
parent.enter();
await measure("R.then(f)", () => R.then(f));
await measure("ctx.run(o, R.then(f))", (i) => ctx.run(parent, () => R.then(f)));
await measure("new CancelScope", () => new CancelScope(parent));
await measure("new TaskCore", () => new TaskCore(parent, null, null));
await measure("[] ", () => []);
await measure("async fn pending", () => (async () => { await R; })());
