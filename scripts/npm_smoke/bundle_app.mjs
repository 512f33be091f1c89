// An app that runs code in worker threads, bundled by esbuild into dist/app.mjs (ESM) and
// dist/app.cjs (CommonJS, esbuild's default on Node): the library's modules move into the
// bundle, its worker entry does not. No top-level await, so that it bundles as CommonJS too.
import process from "node:process";
import { pathToFileURL } from "node:url";
import { AsyncBackendFactory, threadModule } from "@easynetwork/async-backend";

// The user's thread module, beside the working directory (a CommonJS bundle has no import.meta.url).
const work = threadModule(new URL("work.mjs", pathToFileURL(process.cwd() + "/")));
const backend = AsyncBackendFactory.new();

backend.bootstrap(async () => [
  await backend.runInThread(work.fib, 20),
  await backend.runInThread(work.whereAmI),
]).then(([value, name]) => {
  if (value !== 6765 || typeof name !== "string") throw new Error(`unexpected results: ${value}, ${name}`);
  console.log("bundle: runInThread ok");
}).catch((error) => {
  console.log(`bundle: error: ${error.message}`);
  process.exitCode = 1;
});
