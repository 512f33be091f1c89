/**
 * A runtime-neutral test registration: `Deno.test` on Deno (the sanitizers are
 * switched on by the test task's flags), `node:test` on Node.
 *
 * @module
 */

/** Options of {@linkcode test}. */
export interface TestOptions {
  /** Skip the test; a string gives the reason, printed by the runner. */
  ignore?: boolean | string;
}

type NodeTest = (name: string, options: { skip?: boolean | string }, fn: () => Promise<void> | void) => unknown;

const nodeTest: NodeTest | undefined = typeof Deno === "undefined"
  ? ((await import("node:test")) as unknown as { test: NodeTest }).test
  : undefined;

/**
 * Registers a test.
 *
 * @param name The test's name.
 * @param fn The test body.
 * @param options Skip it, with a reason.
 */
export function test(name: string, fn: () => Promise<void> | void, options: TestOptions = {}): void {
  const ignore = options.ignore ?? false;
  if (nodeTest !== undefined) {
    nodeTest(name, { skip: ignore }, fn);
    return;
  }
  if (typeof ignore === "string") console.log(`skipping "${name}": ${ignore}`);
  Deno.test({ name, fn, ignore: ignore !== false });
}
