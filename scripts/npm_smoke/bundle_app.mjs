// An app that runs code in worker threads, bundled by esbuild into dist/app.mjs: the
// library's modules move into the bundle, its worker entry does not.
import { AsyncBackendFactory, threadModule } from "@easynetwork/async-backend";

const work = threadModule(new URL("../work.mjs", import.meta.url));
const backend = AsyncBackendFactory.new();
try {
  const [value, name] = await backend.bootstrap(async () => [
    await backend.runInThread(work.fib, 20),
    await backend.runInThread(work.whereAmI),
  ]);
  if (value !== 6765 || typeof name !== "string") throw new Error(`unexpected results: ${value}, ${name}`);
  console.log("bundle: runInThread ok");
} catch (error) {
  console.log(`bundle: error: ${error.message}`);
  process.exitCode = 1;
}
