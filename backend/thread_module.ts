/**
 * Typed references to the exports of a worker module.
 *
 * @module
 */

import type { AnyFunction, RunInThreadOptions, ThreadFunction } from "./abc/threads.ts";
import { describe } from "./_util/validate.ts";

const ON_CANCEL = ["wait", "abandon", "terminate"];

/** A {@linkcode ThreadFunction} made by {@linkcode threadModule}, with per-call options. */
export interface ThreadFunctionRef<F extends AnyFunction = AnyFunction> extends ThreadFunction<F> {
  /**
   * Returns a reference to the same function whose calls use `options`, such
   * as `{ onCancel: "terminate" }`.
   *
   * @param options Per-call options, merged over this reference's options.
   */
  with(options: RunInThreadOptions): ThreadFunctionRef<F>;
}

/** The function exports of module type `M`, as thread function references. */
export type ThreadModule<M> = {
  readonly [K in keyof M & string as M[K] extends AnyFunction ? K : never]: M[K] extends AnyFunction
    ? ThreadFunctionRef<M[K]>
    : never;
};

class Reference<F extends AnyFunction> implements ThreadFunctionRef<F> {
  readonly moduleUrl: string;
  readonly exportName: string;
  readonly options: RunInThreadOptions | undefined;

  constructor(moduleUrl: string, exportName: string, options: RunInThreadOptions | undefined) {
    this.moduleUrl = moduleUrl;
    this.exportName = exportName;
    this.options = options;
    Object.freeze(this);
  }

  with(options: RunInThreadOptions): ThreadFunctionRef<F> {
    return new Reference<F>(this.moduleUrl, this.exportName, { ...this.options, ...checkOptions(options) });
  }

  toString(): string {
    return `${this.exportName} (${this.moduleUrl})`;
  }
}

/** Throws unless `options` are valid {@linkcode RunInThreadOptions}. */
export function checkOptions(options: unknown): RunInThreadOptions {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`The 'options' argument must be an object, got ${describe(options)}`);
  }
  const onCancel = (options as RunInThreadOptions).onCancel;
  if (onCancel !== undefined && !ON_CANCEL.includes(onCancel)) {
    throw new TypeError(`The 'onCancel' option must be "wait", "abandon" or "terminate", got ${describe(onCancel)}`);
  }
  return onCancel === undefined ? {} : { onCancel };
}

/**
 * Names the exports of a worker module for `runInThread`: workers share no
 * memory with the loop and cannot receive closures, so a thread function is a
 * module URL plus an export name. The type parameter gives every reference the
 * type of its function, so calls are checked.
 *
 * Reading a property returns a reference (nothing is imported on this
 * thread); `ref.with({ onCancel })` sets per-call options: `"wait"`
 * (default: a cancelled caller waits for the function, then rejects with
 * `CancelledError`), `"abandon"` (the caller leaves at once, the function
 * finishes unobserved) or `"terminate"` (the caller leaves at once, the worker
 * is terminated and replaced).
 *
 * @example Run an exported function in a worker
 * ```ts
 * import { threadModule } from "@easynetwork/async-backend";
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 *
 * // A worker module can be any module URL; a data: URL keeps the example self-contained.
 * const url = "data:text/javascript,export function add(a, b) { return a + b; }";
 * const work = threadModule<{ add(a: number, b: number): number }>(url);
 *
 * const backend = new DenoBackend();
 * const sum = await backend.bootstrap(() => backend.runInThread(work.add, 1, 2));
 * console.log(sum); // 3
 * ```
 *
 * @param url The module's absolute URL, usually `new URL("./m.ts", import.meta.url)`.
 */
export function threadModule<M>(url: string | URL): ThreadModule<M> {
  let href: string;
  if (url instanceof URL) {
    href = url.href;
  } else if (typeof url === "string" && URL.canParse(url)) {
    href = new URL(url).href;
  } else {
    throw new TypeError(
      `The 'url' argument must be an absolute URL such as new URL("./m.ts", import.meta.url), got ${describe(url)}`,
    );
  }
  const cache = new Map<string, Reference<AnyFunction>>();
  const target = Object.create(null) as ThreadModule<M>;
  return new Proxy(target, {
    get(_target, property) {
      // Not thenable: a module of references must be awaitable and returnable from async functions.
      if (typeof property !== "string" || property === "then") return undefined;
      let ref = cache.get(property);
      if (ref === undefined) cache.set(property, ref = new Reference(href, property, undefined));
      return ref;
    },
    has(_target, property) {
      return typeof property === "string" && property !== "then";
    },
  });
}
