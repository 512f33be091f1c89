/**
 * The backends the contract suite runs against on this runtime.
 *
 * @module
 */

import type { AsyncBackend } from "../backend/abc/async_backend.ts";

/** A backend under test. */
export interface BackendUnderTest {
  /** Short name, used as the test-name prefix. */
  readonly name: string;
  /** Makes a fresh backend. */
  create(): AsyncBackend;
}

const list: BackendUnderTest[] = [];
if (typeof Deno !== "undefined") {
  const { DenoBackend } = await import("../backend/deno/mod.ts");
  list.push({ name: "deno", create: () => new DenoBackend() });
}
// The Node backend runs everywhere: on Node, and on Deno through its `node:` modules.
{
  const { NodeBackend } = await import("../backend/node/mod.ts");
  list.push({ name: "node", create: () => new NodeBackend() });
}

/** Every backend available on this runtime. */
export const backends: readonly BackendUnderTest[] = list;
