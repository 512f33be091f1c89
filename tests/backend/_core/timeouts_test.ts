/**
 * Unit tests of the deadline scopes (backend/_core/timeouts.ts) with bodies that
 * return synchronously: the call settles without awaiting the body, the scope
 * is left at once (its deadline off the queue), and a body that throws is
 * judged like an awaited one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CancelledError } from "../../../backend/errors.ts";
import { type CancelScope, currentScope } from "../../../backend/_core/cancel_scope.ts";
import { throwIfCancelled } from "../../../backend/_core/checkpoint.ts";
import { moveOnAfter, timeout } from "../../../backend/_core/timeouts.ts";
import { inScope, runScope } from "./_helpers.ts";
import { test } from "../../harness.ts";

test("deadline scope, synchronous body: its value, the scope left at once, the deadline off the queue", async () => {
  const { loop, scope, timers } = runScope();
  let inner: CancelScope | undefined;
  const call = inScope(scope, () =>
    moveOnAfter(timers, 1e9, () => {
      inner = currentScope();
      assert.equal(loop.deadlines.size, 1);
      return 42;
    }));
  assert.notEqual(inner, scope);
  assert.equal(loop.deadlines.size, 0, "left before the call returns");
  assert.equal(await call, 42);
  assert.equal(await inScope(scope, () => moveOnAfter(timers, 10, () => ({ a: 1 }))).then((v) => v?.a), 1);
  assert.equal(loop.deadlines.size, 0);
});

test("deadline scope, synchronous body that throws: caught own cancellation, AbortError, foreign errors", async () => {
  const { loop, scope, timers } = runScope();
  const moved = await inScope(scope, () =>
    moveOnAfter(timers, 1e9, (handle) => {
      handle.cancel();
      throwIfCancelled();
      return 1;
    }));
  assert.equal(moved, undefined);
  await assert.rejects(
    inScope(scope, () =>
      timeout(timers, 1e9, (handle) => {
        handle.cancel();
        throwIfCancelled();
      })),
    (error: unknown) => error instanceof DOMException && error.name === "AbortError",
  );
  const boom = new Error("boom");
  await assert.rejects(
    inScope(scope, () =>
      moveOnAfter(timers, 1e9, () => {
        throw boom;
      })),
    (e) => e === boom,
  );
  // A cancellation of the enclosing scope is not the inner scope's to catch.
  scope.cancel();
  await assert.rejects(
    inScope(scope, () =>
      moveOnAfter(timers, 1e9, () => {
        throwIfCancelled();
      })),
    (e) => e instanceof CancelledError,
  );
  assert.equal(loop.deadlines.size, 0);
});
