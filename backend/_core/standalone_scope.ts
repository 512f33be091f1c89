/**
 * Standalone cancel scopes (Trio's `CancelScope` object): made before they run,
 * cancelled, rescheduled or shielded at any time, entered once with `run()`,
 * optionally cancelled by an outside `AbortSignal`; and
 * `currentEffectiveDeadline()`.
 *
 * A standalone scope is the engine's {@linkcode CoreScope}, created without a
 * parent: `run()` binds it to the caller's scope and enters it, exactly as
 * `moveOnAt()` enters the scope it creates, so every rule of the engine (who
 * catches, shields, level-triggered delivery, deadlines) applies unchanged.
 *
 * @module
 */

import type { CancelScope, CancelScopeOptions } from "../abc/cancel_scope.ts";
import { assertDeadline, assertFunction, describe } from "../_util/validate.ts";
import { CancelScope as CoreScope, currentScope, currentScopeVar } from "./cancel_scope.ts";
import { ScopeHandle } from "./scope_handle.ts";

/** The public standalone scope: a {@linkcode ScopeHandle} that can be entered once. */
class StandaloneScope extends ScopeHandle implements CancelScope {
  readonly #core: CoreScope;
  readonly #outside: AbortSignal | undefined;
  #entered = false;

  constructor(core: CoreScope, outside: AbortSignal | undefined) {
    super(core);
    this.#core = core;
    this.#outside = outside;
  }

  run<T>(fn: (scope: CancelScope) => T | PromiseLike<T>): Promise<T | undefined> {
    try {
      assertFunction(fn, "fn");
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#entered) {
      return Promise.reject(
        new TypeError("Cannot call run(): the cancel scope was already entered (a standalone scope runs once)"),
      );
    }
    this.#entered = true;
    return this.#run(fn);
  }

  async #run<T>(fn: (scope: CancelScope) => T | PromiseLike<T>): Promise<T | undefined> {
    const core = this.#core;
    const outside = this.#outside;
    core.bind(currentScope() ?? null);
    let onAbort: (() => void) | undefined;
    if (outside !== undefined) {
      if (outside.aborted) core.cancel(outside.reason);
      else {
        onAbort = () => core.cancel(outside.reason);
        outside.addEventListener("abort", onAbort, { once: true });
      }
    }
    core.enter();
    try {
      return await currentScopeVar.run(core, () => fn(this));
    } catch (error) {
      if (!core.catches(error)) throw error;
      return undefined;
    } finally {
      core.exit();
      if (onAbort !== undefined) outside?.removeEventListener("abort", onAbort);
    }
  }
}

const OPTION_NAMES: readonly string[] = ["deadline", "shield", "signal"];

/**
 * Makes a standalone cancel scope, not entered yet.
 *
 * @param options The deadline, the shield and an outside `AbortSignal`.
 * @throws {TypeError} when `options` or one of its members has the wrong type, or it has another member.
 * @throws {RangeError} when `options.deadline` is `NaN`.
 */
export function openCancelScope(options: CancelScopeOptions = {}): CancelScope {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`The 'options' argument must be an object, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) {
      throw new TypeError(`The 'options' argument has no option '${key}' (they are ${OPTION_NAMES.join(", ")})`);
    }
  }
  const { deadline, shield, signal } = options;
  if (deadline !== undefined) assertDeadline(deadline, "options.deadline");
  if (shield !== undefined && typeof shield !== "boolean") {
    throw new TypeError(`The 'options.shield' argument must be a boolean, got ${describe(shield)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`The 'options.signal' argument must be an AbortSignal, got ${describe(signal)}`);
  }
  const core = new CoreScope(null, null, shield ?? false, null);
  if (deadline !== undefined) core.reschedule(deadline);
  return new StandaloneScope(core, signal);
}

/**
 * The earliest deadline of the caller's scopes up to the nearest shield (that
 * one included); `-Infinity` when one of them is cancelled, `Infinity` when
 * none has a deadline and outside any runner.
 */
export function currentEffectiveDeadline(): number {
  return currentScope()?.effectiveDeadline() ?? Infinity;
}
