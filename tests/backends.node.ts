/**
 * The backends the contract suite runs against on Node (the npm build's flavour
 * of `backends.ts`): the Node backend.
 *
 * @module
 */

import type { AsyncBackend } from "../backend/abc/async_backend.ts";
import { NodeBackend } from "../backend/node/mod.ts";

/** A backend under test. */
export interface BackendUnderTest {
  /** Short name, used as the test-name prefix. */
  readonly name: string;
  /** Makes a fresh backend. */
  create(): AsyncBackend;
}

/** Every backend available on this runtime. */
export const backends: readonly BackendUnderTest[] = [{ name: "node", create: () => new NodeBackend() }];
