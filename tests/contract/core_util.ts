/**
 * Helpers shared by the core contract tests (not an area: registers no test).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { TimeoutHandle } from "../../backend/abc/cancel_scope.ts";
import { CancelledError } from "../../backend/errors.ts";

/** An error class, for `instanceof` checks. */
// deno-lint-ignore no-explicit-any
export type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * Returns a validator for `assert.throws`/`assert.rejects`: the error is an
 * instance of `cls` and its message matches `message`.
 */
export function errorLike(cls: ErrorClass, message: RegExp): (error: unknown) => true {
  return (error: unknown) => {
    assert.ok(error instanceof cls, `expected a ${cls.name}, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  };
}

/** Returns a validator for a `DOMException` named `name`. */
export function domException(name: string): (error: unknown) => true {
  return (error: unknown) => {
    assert.ok(error instanceof DOMException, `expected a DOMException, got ${String(error)}`);
    assert.equal(error.name, name);
    return true;
  };
}

/**
 * Yields (with `coroYield`) until `condition()` holds; fails after `max` yields.
 * Synchronises on state, not on time.
 */
export async function yieldUntil(
  backend: AsyncBackend,
  condition: () => boolean,
  what: string,
  max = 100_000,
): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i >= max) assert.fail(`gave up after ${max} yields waiting for: ${what}`);
    await backend.coroYield();
  }
}

/** Yields `count` times, to give wrongly woken code a chance to run. */
export async function yieldTimes(backend: AsyncBackend, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await backend.coroYield();
}

/** Holds a value assigned inside a callback, with a checked getter. */
export class Slot<T> {
  #value: T | undefined = undefined;
  #set = false;

  /** Stores the value. */
  set(value: T): void {
    this.#value = value;
    this.#set = true;
  }

  /** Returns the value; fails the test if it was never set. */
  get(): T {
    assert.ok(this.#set, "the value was never set");
    return this.#value as T;
  }
}

/** A slot for a scope handle. */
export type HandleSlot = Slot<TimeoutHandle>;

/** Asserts that `error` is a `CancelledError` carrying `reason` (the reason of the scope that catches it). */
export function assertCancelled(error: unknown, reason: unknown): void {
  assert.ok(error instanceof CancelledError, `expected a CancelledError, got ${String(error)}`);
  assert.equal(error.reason, reason);
}
