import { AsyncBackendFactory } from "../../factory/mod.ts";
const backend = AsyncBackendFactory.new();
const trivial = async (): Promise<number> => 1;
await backend.bootstrap(async () => {
  for (let r = 0; r < 30; r++) {
    await backend.createTaskGroup((tg) => {
      for (let i = 0; i < 100_000; i++) tg.startSoon(trivial);
    });
  }
});
