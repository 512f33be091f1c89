/**
 * Naming a task: `named(name, fn)`.
 *
 * A task's name is the `name` of the function it runs, as in Trio (which names
 * a task by its function). A function declaration or a `const` arrow is already
 * named; `named()` names an anonymous function, or gives a task a name that
 * says which one it is (`"conn 10.0.0.7:51234"`).
 *
 * Why a wrapper, not `tg.startSoonNamed(name, fn, ...args)`: tasks start in
 * many places (`startSoon`, `start`, `spawnTask`, `run`, `bootstrap`, a
 * server's handler), and their arguments are rest parameters, so an options
 * bag cannot follow them (Trio's `name=` keyword has no equivalent). A named
 * function works in all of them with no second version of each, and is the
 * language's own way of naming a function; it costs one call, only where used.
 *
 * @module
 */

import { assertFunction, describe } from "./_util/validate.ts";

/**
 * Returns a function that calls `fn` and whose `name` is `name`: started as a
 * task, it gives the task its name in the task tree and for instruments.
 *
 * @example
 * ```ts
 * import { named } from "@easynetwork/async-backend/backend";
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 *
 * const backend = new DenoBackend();
 * await backend.bootstrap(async () => {
 *   await backend.createTaskGroup((tg) => {
 *     const task = tg.startSoon(named("greeter", async (who: string) => `hello ${who}`), "you");
 *     console.log(task.name); // "greeter"
 *   });
 * });
 * ```
 *
 * @param name The task's name.
 * @param fn The task function.
 * @throws {TypeError} when `name` is not a string or `fn` not a function.
 */
// deno-lint-ignore no-explicit-any
export function named<F extends (...args: any[]) => unknown>(name: string, fn: F): F {
  if (typeof name !== "string") throw new TypeError(`The 'name' argument must be a string, got ${describe(name)}`);
  assertFunction(fn, "fn");
  const wrapper = (...args: Parameters<F>): ReturnType<F> => fn(...args) as ReturnType<F>;
  Object.defineProperty(wrapper, "name", { value: name });
  return wrapper as unknown as F;
}
