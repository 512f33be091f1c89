/**
 * The built-in backends of the JSR package and how each is loaded. The runtime's
 * own backend (`DenoBackend`) is imported statically, so that the factory can
 * make it synchronously with no top-level await; the Node backend is loaded with
 * `import()` on demand, so importing the factory on Deno never loads it.
 *
 * The npm build swaps this file for `builtin_backends.node.ts`, which has no
 * Deno backend and imports `NodeBackend` statically.
 *
 * @module
 */

import { DenoBackend } from "../backend/deno/mod.ts";
import type { BuiltinBackends } from "./types.ts";

export type { AsyncBackendClass, BuiltinBackend, BuiltinBackendName } from "./types.ts";

/** The built-in backends of this build. */
export const BUILTIN_BACKENDS: BuiltinBackends = {
  deno: {
    unavailableReason: () => "Deno" in globalThis ? null : "The 'deno' backend needs the Deno runtime",
    eager: DenoBackend,
    load: () => Promise.resolve(DenoBackend),
  },
  node: {
    unavailableReason: () => null,
    load: async () => (await import("../backend/node/mod.ts")).NodeBackend,
  },
};
