/**
 * The leak registry of a run: what the runner made that is still alive
 * (sockets, listeners, channels, workers, timers, signal receivers), fed where each is made and
 * emptied as each is released, read by `RunState.close()` for the leak report.
 *
 * ## Why it looks like this
 *
 * - **Found by the caller's scope.** A resource belongs to the runner of the
 *   task that made it: {@linkcode trackResource} reads the caller's cancel
 *   scope (one context lookup) and its run's registry. Made outside any runner,
 *   a resource is not tracked.
 * - **Near zero when off.** Without debug mode an entry is one small object in
 *   a `Set`, added when a socket, listener, channel, worker or lasting timer is
 *   made: none of them is made on the hot path of a task or a scope, so
 *   spawning tasks and entering scopes pay nothing. The runner's own tasks are
 *   already in its task set; with debug off, they cost nothing more.
 * - **Stacks only in debug mode.** A stack costs microseconds (an `Error` and
 *   its formatting); it is taken only when the run's `debug` flag is set, and
 *   trimmed to start at the first frame outside this library: the creation
 *   site.
 * - **What is not tracked.** A sleep's timer, a Happy Eyeballs delay and a
 *   TLS bound belong to one wait of one task and are cleared when the wait ends;
 *   as `close()` waits for every task, they cannot outlive the runner and are
 *   not registered. Only timers that outlive a wait (a worker pool's idle sweep)
 *   are.
 *
 * @module
 */

import type { LeakKind, ResourceLeak } from "../abc/leaks.ts";
import { currentScope } from "./cancel_scope.ts";

/** The key of the method an object registered as its own description describes itself with. */
export const DESCRIBE: unique symbol = Symbol("describe");

/**
 * Which resource an entry is, for the leak report: words, a function called
 * when a report is made, or an object with a {@linkcode DESCRIBE} method (a
 * resource that describes itself: no closure or bound function per resource).
 */
export type LeakDescription = string | (() => string) | { [DESCRIBE](): string };

/** One live thing of a run; {@linkcode LeakEntry.release} removes it from the registry. */
export class LeakEntry implements ResourceLeak {
  readonly kind: LeakKind;
  #description: LeakDescription;
  #registry: LeakRegistry | null;
  #site: CreationSite | undefined;

  /**
   * @param registry The run's registry.
   * @param kind What it is.
   * @param description Which one (a function is called when the report is made).
   * @param site Where it was made (debug mode).
   */
  constructor(
    registry: LeakRegistry,
    kind: LeakKind,
    description: LeakDescription,
    site: CreationSite | undefined,
  ) {
    this.#registry = registry;
    this.kind = kind;
    this.#description = description;
    this.#site = site;
  }

  /** Where it was made (debug mode), formatted on first read. */
  get stack(): string | undefined {
    return this.#site?.stack;
  }

  /** Which one, in words. */
  get description(): string {
    const description = this.#description;
    if (typeof description === "string") return description;
    return typeof description === "function" ? description() : description[DESCRIBE]();
  }

  /** Removes the entry from its registry: the resource was released. Idempotent. */
  release(): void {
    this.#registry?.delete(this);
    this.#registry = null;
  }
}

/** The live resources of one run. */
export class LeakRegistry {
  /** Record creation stacks. */
  readonly debug: boolean;
  #live: Set<LeakEntry> = new Set();

  /** @param debug Record creation stacks. */
  constructor(debug: boolean) {
    this.debug = debug;
  }

  /**
   * Registers a live resource.
   *
   * @param kind What it is.
   * @param description Which one (a function or a describing object is called when the report is made).
   */
  add(kind: LeakKind, description: LeakDescription): LeakEntry {
    const entry = new LeakEntry(this, kind, description, this.debug ? new CreationSite() : undefined);
    this.#live.add(entry);
    return entry;
  }

  /** @param entry A released entry. */
  delete(entry: LeakEntry): void {
    this.#live.delete(entry);
  }

  /** What is alive now, as report rows (descriptions resolved), oldest first. */
  snapshot(): ResourceLeak[] {
    return Array.from(
      this.#live,
      (entry) => ({ kind: entry.kind, description: entry.description, stack: entry.stack }),
    );
  }
}

/**
 * Registers a resource with the runner of the caller, if any; `null` outside
 * a runner. Call {@linkcode LeakEntry.release} when the resource is released.
 *
 * @param kind What it is.
 * @param description Which one (a function or a describing object is called when the report is made).
 */
export function trackResource(kind: LeakKind, description: LeakDescription): LeakEntry | null {
  const loop = currentScope()?.loop as { readonly leaks?: LeakRegistry } | null | undefined;
  const registry = loop?.leaks;
  return registry === undefined ? null : registry.add(kind, description);
}

// ---- Creation stacks ----

const LIBRARY_ROOTS: string[] = libraryRoots();

/** The URL and the path of this library's `backend/` folder: frames under it are the library's. */
function libraryRoots(): string[] {
  try {
    // This file is backend/_core/leaks.ts (.js in the npm build): its folder's parent.
    const url = new URL(import.meta.url.replace(/_core\/[^/]*$/, ""));
    const roots = [url.href];
    if (url.protocol === "file:") roots.push(decodeURIComponent(url.pathname));
    return roots;
  } catch {
    return [];
  }
}

const STACK_DEPTH = 40;

/** A frame of the runtime itself (`new Promise (<anonymous>)`, `node:internal/...`, Deno's `ext:`). */
const INTERNAL_FRAME = /\((?:<anonymous>|native|node:|ext:)|^at (?:node:|ext:)|^at (?:async )?Promise\.all \(index/;

/**
 * Where something was made: the caller's stack, captured when made and
 * formatted on first read (formatting costs far more than capturing: Deno maps
 * each frame back to its TypeScript source).
 */
export class CreationSite {
  #error: Error | null;
  #stack: string | undefined = undefined;

  /** Captures the caller's stack. */
  constructor() {
    const errorClass = Error as { stackTraceLimit?: number };
    const limit = errorClass.stackTraceLimit;
    errorClass.stackTraceLimit = STACK_DEPTH;
    this.#error = new Error();
    errorClass.stackTraceLimit = limit;
  }

  /**
   * The stack, innermost frame first, without the frames of this library and
   * of the runtime: the first is the creation site. The whole stack when no
   * frame is the user's.
   */
  get stack(): string {
    if (this.#error !== null) {
      this.#stack = userFrames(this.#error.stack ?? "");
      this.#error = null;
    }
    return this.#stack!;
  }
}

/** The caller's stack, formatted now (see {@linkcode CreationSite}). */
export function creationStack(): string {
  return new CreationSite().stack;
}

function userFrames(raw: string): string {
  const frames = raw.split("\n").filter((line) => /^\s+at /.test(line)).map((line) => line.trim());
  const user = frames.filter((frame) =>
    !INTERNAL_FRAME.test(frame) && !LIBRARY_ROOTS.some((root) => frame.includes(root))
  );
  return (user.length === 0 ? frames : user).join("\n");
}

/** `true` when the caller's runner is in debug mode (it records creation stacks; see {@linkcode CreationSite}). */
export function debugMode(): boolean {
  const loop = currentScope()?.loop as { readonly leaks?: LeakRegistry } | null | undefined;
  return loop?.leaks?.debug === true;
}
