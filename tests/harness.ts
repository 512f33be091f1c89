/**
 * The test registration of the Deno run: `Deno.test` (the sanitizers are switched
 * on by the test task's flags). The npm build swaps this file for
 * `harness.node.ts`, which registers with `node:test`.
 *
 * @module
 */

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
  const ignore = options.ignore ?? false;
  if (typeof ignore === "string") console.log(`skipping "${name}": ${ignore}`);
  Deno.test({ name, fn, ignore: ignore !== false });
}
