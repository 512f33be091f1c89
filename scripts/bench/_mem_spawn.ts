import { AsyncBackendFactory } from "../../factory/mod.ts";
import process from "node:process";
const backend = AsyncBackendFactory.new();
const trivial = async (): Promise<number> => 1;
const gc = (globalThis as { gc?: () => void }).gc!;
await backend.bootstrap(async () => {
  for (let r = 0; r < 3; r++) {
    await backend.createTaskGroup((tg) => {
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < 100_000; i++) tg.startSoon(trivial);
      gc();
      const after = process.memoryUsage().heapUsed;
      console.log("bytes per spawned task:", ((after - before) / 100_000).toFixed(0));
    });
  }
  const ctx = new (await import("../../backend/_core/context.ts")).ContextVariable<object>();
  gc();
  const before = process.memoryUsage().heapUsed;
  const ps = new Array(100_000);
  for (let i = 0; i < 100_000; i++) ps[i] = ctx.run({}, trivial);
  gc();
  console.log("reference bytes per task:", ((process.memoryUsage().heapUsed - before) / 100_000).toFixed(0));
  await Promise.all(ps);
});
