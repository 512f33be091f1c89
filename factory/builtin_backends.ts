/**
 * The built-in backends and how each is loaded: lazily, so that importing the
 * factory on Deno never loads the Node backend (and the reverse) until asked.
 *
 * The npm build replaces this file with a Node flavour that has no Deno backend.
 *
 * @module
 */

import type { AsyncBackend } from "../backend/abc/async_backend.ts";

/** The names of the built-in backends. */
export type BuiltinBackendName = "deno" | "node";

/** A backend class: `new cls(options?)` makes a backend. */
// deno-lint-ignore no-explicit-any
export type AsyncBackendClass = new (options?: any) => AsyncBackend;

/** How a built-in backend is found and loaded. */
export interface BuiltinBackend {
  /** `null` when the backend works on this runtime, else why it does not. */
  unavailableReason(): string | null;
  /** Imports the backend's module and returns its class. */
  load(): Promise<AsyncBackendClass>;
}

/** The built-in backends of this build. */
export const BUILTIN_BACKENDS: Readonly<Record<BuiltinBackendName, BuiltinBackend>> = {
  deno: {
    unavailableReason: () => "Deno" in globalThis ? null : "The 'deno' backend needs the Deno runtime",
    load: async () => (await import("../backend/deno/mod.ts")).DenoBackend,
  },
  node: {
    unavailableReason: () => null,
    load: async () => (await import("../backend/node/mod.ts")).NodeBackend,
  },
};
