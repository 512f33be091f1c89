/**
 * The test registration of the Node run (the npm build's flavour of `harness.ts`):
 * `node:test`.
 *
 * @module
 */

import { test as nodeTest } from "node:test";

/** Options of {@linkcode test}. */
export interface TestOptions {
  /** Skip the test; a string gives the reason, printed by the runner. */
  ignore?: boolean | string;
}

/**
 * Registers a test.
 *
 * @param name The test's name.
 * @param fn The test body.
 * @param options Skip it, with a reason.
 */
export function test(name: string, fn: () => Promise<void> | void, options: TestOptions = {}): void {
  nodeTest(name, { skip: options.ignore ?? false }, fn);
}
