/**
 * The types shared by both flavours of `builtin_backends.ts` (JSR and npm).
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
  /** The class, when this build imports it statically (the runtime's own backend). */
  readonly eager?: AsyncBackendClass;
  /** Imports the backend's module and returns its class. */
  load(): Promise<AsyncBackendClass>;
}

/** Every built-in backend of a build, by name. */
export type BuiltinBackends = Readonly<Record<BuiltinBackendName, BuiltinBackend>>;
