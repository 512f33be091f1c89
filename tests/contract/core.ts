/**
 * Contract tests: runners, tasks, cancellation, timeouts, synchronization.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: bootstrap returns the function's result`, async () => {
    const backend = create();
    assert.equal(await backend.bootstrap(async (a: number, b: number) => a + b, 1, 2), 3);
  });
}
