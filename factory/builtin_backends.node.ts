/**
 * The built-in backends of the npm package (the npm build's flavour of
 * `builtin_backends.ts`): `"node"`, imported statically so that the factory can
 * make it synchronously and every entry point loads with `require()`. The Deno
 * backend is published on JSR only.
 *
 * @module
 */

import { NodeBackend } from "../backend/node/mod.ts";
import type { BuiltinBackends } from "./types.ts";

export type { AsyncBackendClass, BuiltinBackend, BuiltinBackendName } from "./types.ts";

const NO_DENO = "The 'deno' backend is not part of the npm package (on Deno, use the JSR package)";

/** The built-in backends of this build. */
export const BUILTIN_BACKENDS: BuiltinBackends = {
  deno: {
    unavailableReason: () => NO_DENO,
    load: () => Promise.reject(new Error(NO_DENO)),
  },
  node: {
    unavailableReason: () => null,
    eager: NodeBackend,
    load: () => Promise.resolve(NodeBackend),
  },
};
