/**
 * The backends the contract suite runs against on Deno: the Deno backend, and
 * the Node backend through Deno's `node:` modules. The npm build swaps this file
 * for `backends.node.ts` (the Node backend only).
 *
 * @module
 */

import type { AsyncBackend } from "../backend/abc/async_backend.ts";
import { DenoBackend } from "../backend/deno/mod.ts";
import { NodeBackend } from "../backend/node/mod.ts";

/** A backend under test. */
export interface BackendUnderTest {
  /** Short name, used as the test-name prefix. */
  readonly name: string;
  /** Makes a fresh backend. */
  create(): AsyncBackend;
}

/** Every backend available on this runtime. */
export const backends: readonly BackendUnderTest[] = [
  { name: "deno", create: () => new DenoBackend() },
  { name: "node", create: () => new NodeBackend() },
];
