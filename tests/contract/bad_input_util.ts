/**
 * The bad-input table's runner (not an area: registers no test). A row calls one
 * public function or constructor with a bad argument, or misuses an object,
 * and says which error class must come back and what its message must name.
 * Every row is bounded: a hang fails the row, it never hangs the suite.
 *
 * @module
 */

import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { ErrorClass } from "./core_util.ts";

/** One row of the table. */
export interface Row<C> {
  /** The call, as a reader would write it: `sleep(NaN)`. */
  what: string;
  /** Makes the call; `c` holds the objects the rows use. */
  call: (c: C) => unknown;
  /** The class of the error, or `"value"` for an argument that must be accepted (huge numbers). */
  error: ErrorClass | "value";
  /** What the message must contain: the argument's name, or the misused call. */
  names?: RegExp;
  /**
   * How the error comes: `"throws"` synchronously (a synchronous function or
   * constructor), `"rejects"` as a rejected promise (an async method never
   * throws), or either (`undefined`).
   */
  how?: "throws" | "rejects";
}

/** How long a row may take before it counts as a hang, in ms. */
export const ROW_BOUND = 5000;

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

/** Closes what a row that should have failed opened (an adapter, or a list of them). */
async function dispose(value: unknown): Promise<void> {
  for (const item of Array.isArray(value) ? value : [value]) {
    const closable = item as { aclose?: unknown; shutdown?: unknown } | null;
    if (typeof closable?.aclose === "function") await (closable as { aclose(): Promise<void> }).aclose();
    if (typeof closable?.shutdown === "function") await (closable as { shutdown(): Promise<void> }).shutdown();
  }
}

/** Runs one row; returns `null` when it answered as it must, else what went wrong. */
async function runRow<C>(backend: AsyncBackend, c: C, row: Row<C>): Promise<string | null> {
  let result: unknown;
  let failure: { error: unknown } | null = null;
  let threw = false;
  try {
    result = row.call(c);
  } catch (error) {
    failure = { error };
    threw = true;
  }
  if (failure === null && isPromiseLike(result)) {
    const promise = result;
    try {
      // waitFuture makes the wait a checkpoint, so the bound can end a hang.
      result = await backend.timeout(ROW_BOUND, () => backend.waitFuture(promise));
    } catch (error) {
      if (error instanceof DOMException && error.name === "TimeoutError") return `hung for ${ROW_BOUND} ms`;
      failure = { error };
    }
  }
  if (failure === null) await dispose(result);
  if (row.error === "value") return failure === null ? null : `rejected a valid argument: ${String(failure.error)}`;
  if (failure === null) return `succeeded with ${String(result)}`;
  const { error } = failure;
  const where = threw ? "threw" : "rejected";
  if (!(error instanceof row.error)) {
    const got = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
    return `${where} ${got}, expected a ${row.error.name}`;
  }
  if (row.names !== undefined && !row.names.test(error.message)) {
    return `${where} "${error.message}", which does not match ${row.names}`;
  }
  if (row.how === "rejects" && threw) return `threw synchronously: an async method must reject`;
  if (row.how === "throws" && !threw) return "returned a rejected promise: a synchronous call must throw";
  return null;
}

/** Runs every row; returns the list of bad answers (empty when every row answered as it must). */
export async function runTable<C>(backend: AsyncBackend, c: C, rows: readonly Row<C>[]): Promise<string[]> {
  const bad: string[] = [];
  for (const row of rows) {
    const problem = await runRow(backend, c, row);
    if (problem !== null) bad.push(`${row.what}: ${problem}`);
  }
  return bad;
}

/** Formats the bad answers for an assertion message. */
export function report(bad: readonly string[], total: number): string {
  return `${bad.length} of ${total} rows answered badly:\n  ${bad.join("\n  ")}`;
}

/** Passes a value of the wrong type where the types forbid it. */
// deno-lint-ignore no-explicit-any
export function wrong(value: unknown): any {
  return value;
}
