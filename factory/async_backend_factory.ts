/**
 * `AsyncBackendFactory`: find, extend and instantiate backends by name.
 *
 * @module
 */

import { AsyncBackend } from "../backend/abc/async_backend.ts";
import { describe } from "../backend/_util/validate.ts";
import {
  type AsyncBackendClass,
  BUILTIN_BACKENDS,
  type BuiltinBackend,
  type BuiltinBackendName,
} from "./builtin_backends.ts";

/** Options handed to a backend class's constructor by {@linkcode AsyncBackendFactory.new}. */
export type AsyncBackendOptions = Readonly<Record<string, unknown>>;

const NAMES: readonly BuiltinBackendName[] = Object.keys(BUILTIN_BACKENDS) as BuiltinBackendName[];

/** The built-in classes this build imports statically (the runtime's own backend). */
const eager = new Map<BuiltinBackendName, AsyncBackendClass>();
for (const name of NAMES) {
  const cls = BUILTIN_BACKENDS[name].eager;
  if (cls !== undefined && BUILTIN_BACKENDS[name].unavailableReason() === null) eager.set(name, cls);
}
/** The built-in classes loaded so far. */
const loaded = new Map<BuiltinBackendName, AsyncBackendClass>(eager);
/** Subclasses installed by `extend()`, by built-in name. */
const extensions = new Map<BuiltinBackendName, AsyncBackendClass>();
/** What `setDefaultBackend()` chose; `null` follows the runtime. */
let defaultChoice: BuiltinBackendName | AsyncBackendClass | null = null;

function builtin(name: BuiltinBackendName): BuiltinBackend {
  return BUILTIN_BACKENDS[name];
}

/** The runtime's own backend: `"deno"` on Deno (when this build has it), `"node"` on Node, Bun and others. */
function runtimeDefaultName(): BuiltinBackendName {
  return "Deno" in globalThis && builtin("deno").unavailableReason() === null ? "deno" : "node";
}

function assertName(value: unknown, argument: string): asserts value is BuiltinBackendName {
  if (typeof value !== "string") {
    throw new TypeError(`The '${argument}' argument must be a backend name, got ${describe(value)}`);
  }
  if (!(NAMES as readonly string[]).includes(value)) {
    const known = NAMES.map((name) => `"${name}"`).join(", ");
    throw new RangeError(`The '${argument}' argument must be one of ${known}, got ${describe(value)}`);
  }
}

function assertAvailable(name: BuiltinBackendName): void {
  const reason = builtin(name).unavailableReason();
  if (reason !== null) throw new Error(`${reason}: it is not available on this runtime`);
}

function notLoaded(name: BuiltinBackendName): Error {
  return new Error(
    `The '${name}' backend is not loaded yet: call 'await AsyncBackendFactory.load("${name}")' first ` +
      "(only the runtime's own backend is loaded with the factory)",
  );
}

/** The class a built-in name stands for: its extension, else the built-in itself. */
function resolve(name: BuiltinBackendName): AsyncBackendClass {
  assertAvailable(name);
  const cls = extensions.get(name) ?? loaded.get(name);
  if (cls === undefined) throw notLoaded(name);
  return cls;
}

async function loadBuiltin(name: BuiltinBackendName): Promise<AsyncBackendClass> {
  let cls = loaded.get(name);
  if (cls === undefined) {
    cls = await builtin(name).load();
    loaded.set(name, cls);
  }
  return cls;
}

function isBackendClass(value: unknown): value is AsyncBackendClass {
  return typeof value === "function" && value.prototype instanceof AsyncBackend;
}

/**
 * Finds, extends and instantiates backends by name. The built-in backends are
 * `"deno"` (`DenoBackend`, on Deno) and `"node"` (`NodeBackend`, on Node, Bun,
 * and on Deno through its `node:` modules). The default follows the runtime:
 * `"deno"` on Deno, `"node"` on Node and Bun.
 *
 * The runtime's own backend is imported statically with the factory (no top-level
 * await: the npm package's entry points load with `require()`), so every method can
 * use it synchronously. Another built-in (`"node"` on Deno) is loaded on demand by
 * {@linkcode AsyncBackendFactory.load} or {@linkcode AsyncBackendFactory.getAllBackends};
 * until then, synchronous methods that need it throw an error that says so.
 *
 * The factory's state (default, extensions) is global to the program.
 *
 * @example Make the runtime's default backend
 * ```ts
 * import { AsyncBackendFactory } from "@easynetwork/async-backend/factory";
 *
 * const backend = AsyncBackendFactory.new();
 * console.log(await backend.bootstrap(() => "hello")); // "hello"
 * ```
 *
 * @example Replace a built-in with a subclass
 * ```ts
 * import { AsyncBackendFactory } from "@easynetwork/async-backend/factory";
 * import { NodeBackend } from "@easynetwork/async-backend/backend/node";
 *
 * class TracingBackend extends NodeBackend {
 *   override sleep(ms: number): Promise<void> {
 *     console.log("sleep", ms);
 *     return super.sleep(ms);
 *   }
 * }
 * await AsyncBackendFactory.load("node"); // loaded on demand on Deno, with the factory on Node
 * AsyncBackendFactory.extend("node", TracingBackend);
 * console.log(AsyncBackendFactory.new("node") instanceof TracingBackend); // true
 * AsyncBackendFactory.removeAllExtensions();
 * ```
 */
export class AsyncBackendFactory {
  private constructor() {}

  /**
   * Returns the default backend class: the one set by
   * {@linkcode AsyncBackendFactory.setDefaultBackend}, else the runtime's own
   * backend (or its extension).
   */
  static getDefaultBackend(): AsyncBackendClass {
    const choice = defaultChoice ?? runtimeDefaultName();
    return typeof choice === "string" ? resolve(choice) : choice;
  }

  /**
   * Sets the default backend.
   *
   * @param backend A built-in name (resolved, with its extension, at each use), a
   *   subclass of `AsyncBackend`, or `null` to follow the runtime again.
   */
  static setDefaultBackend(backend: BuiltinBackendName | AsyncBackendClass | null): void {
    if (backend === null) {
      defaultChoice = null;
      return;
    }
    if (typeof backend === "function") {
      if (!isBackendClass(backend)) {
        throw new TypeError(`The 'backend' argument must be a subclass of AsyncBackend, got ${describe(backend)}`);
      }
      defaultChoice = backend;
      return;
    }
    assertName(backend, "backend");
    resolve(backend);
    defaultChoice = backend;
  }

  /**
   * Replaces a built-in backend by a subclass of it, for every later use of its
   * name (`new`, `ensure`, the default).
   *
   * @param name The built-in's name; its class must be loaded.
   * @param cls A subclass of the built-in class; `null` or the built-in class
   *   itself removes the extension.
   */
  static extend(name: BuiltinBackendName, cls: AsyncBackendClass | null): void {
    assertName(name, "name");
    if (cls === null) {
      extensions.delete(name);
      return;
    }
    assertAvailable(name);
    const base = loaded.get(name);
    if (base === undefined) throw notLoaded(name);
    if (cls === base) {
      extensions.delete(name);
      return;
    }
    if (typeof cls !== "function" || !(cls.prototype instanceof base)) {
      throw new TypeError(`The 'cls' argument must be a subclass of ${base.name}, got ${describe(cls)}`);
    }
    extensions.set(name, cls);
  }

  /**
   * Makes a backend.
   *
   * @param name A built-in name; the default backend when omitted.
   * @param options Handed to the class's constructor. The built-in classes take
   *   none: options need an extension whose constructor takes them.
   */
  static new(name?: BuiltinBackendName, options?: AsyncBackendOptions): AsyncBackend {
    let cls: AsyncBackendClass;
    if (name === undefined) {
      cls = AsyncBackendFactory.getDefaultBackend();
    } else {
      assertName(name, "name");
      cls = resolve(name);
    }
    if (options === undefined) return new cls();
    if (typeof options !== "object" || options === null || Array.isArray(options)) {
      throw new TypeError(`The 'options' argument must be an object, got ${describe(options)}`);
    }
    if ([...loaded.values()].includes(cls) && Object.keys(options).length > 0) {
      throw new TypeError(
        `The 'options' argument is not supported by the built-in ${cls.name}: extend it with a subclass that takes options`,
      );
    }
    return new cls(options);
  }

  /**
   * Returns `backend` if it is a backend, else a new backend of that name (the
   * default when `undefined`).
   *
   * @param backend A backend, a built-in name, or `undefined`.
   * @param options Constructor options when a backend is made; not allowed with
   *   a backend instance.
   */
  static ensure(backend?: AsyncBackend | BuiltinBackendName, options?: AsyncBackendOptions): AsyncBackend {
    if (backend instanceof AsyncBackend) {
      if (options !== undefined) {
        throw new TypeError("The 'options' argument must be omitted when the 'backend' argument is a backend");
      }
      return backend;
    }
    if (backend !== undefined && typeof backend !== "string") {
      throw new TypeError(`The 'backend' argument must be a backend or a backend name, got ${describe(backend)}`);
    }
    return AsyncBackendFactory.new(backend, options);
  }

  /**
   * Loads a built-in backend's module (once) and returns its class, or its
   * extension. Rejects when the backend is not available on this runtime.
   *
   * @param name The built-in's name.
   */
  static async load(name: BuiltinBackendName): Promise<AsyncBackendClass> {
    assertName(name, "name");
    assertAvailable(name);
    await loadBuiltin(name);
    return resolve(name);
  }

  /**
   * Loads every built-in backend available on this runtime and returns their
   * classes by name, extensions applied.
   */
  static async getAllBackends(): Promise<ReadonlyMap<BuiltinBackendName, AsyncBackendClass>> {
    const all = new Map<BuiltinBackendName, AsyncBackendClass>();
    for (const name of AsyncBackendFactory.getAvailableBackends()) {
      await loadBuiltin(name);
      all.set(name, resolve(name));
    }
    return all;
  }

  /** The names of the built-in backends that work on this runtime. */
  static getAvailableBackends(): ReadonlySet<BuiltinBackendName> {
    return new Set(NAMES.filter((name) => builtin(name).unavailableReason() === null));
  }

  /** Removes every extension installed by {@linkcode AsyncBackendFactory.extend}. */
  static removeAllExtensions(): void {
    extensions.clear();
  }

  /**
   * Forgets the built-in classes loaded on demand: only the runtime's own
   * backend stays loaded. Extensions and the default choice are kept.
   */
  static invalidateBackendsCache(): void {
    for (const name of [...loaded.keys()]) {
      if (!eager.has(name)) loaded.delete(name);
    }
  }
}
