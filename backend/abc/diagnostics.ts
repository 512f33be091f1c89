/**
 * Diagnostics: the task tree of a runner, and instruments (hooks told when
 * tasks start and end and scopes are cancelled).
 *
 * @module
 */

import type { Task } from "./tasks.ts";

/** A live task in a {@linkcode TaskTree}. */
export interface TaskTreeTask {
  /** A number that identifies the task in this process (given when first seen). */
  readonly id: number;
  /** The task's name: its function's `name` (see `named()`), or `"<anonymous>"`. */
  readonly name: string;
  /**
   * The checkpoints the task waits at, by kind: `"sleep"`, `"lock"`, `"event"`,
   * `"condition"`, `"semaphore"`, `"capacity limiter"`, `"channel send"`,
   * `"channel receive"`, `"join"`, `"task group"` (waiting for its children at
   * the end of a group), `"task start"`, `"thread"`, `"portal"`, `"recv"`,
   * `"send"`, `"accept"`, `"connect"`, `"dns"`, `"tls handshake"`, `"signal"`,
   * `"future"`, `"resource"`, or `"checkpoint"` for any other. Empty when the
   * task is not at a checkpoint: it is runnable (a yield, a task that has not
   * run yet) or awaits a promise the library does not know.
   */
  readonly waitingAt: readonly string[];
  /** The earliest deadline of the task's innermost scopes, `Infinity` when none, `-Infinity` when cancelled. */
  readonly deadline: number;
  /** `true` when the task's next checkpoint raises `CancelledError`. */
  readonly cancelled: boolean;
  /** The cancel scopes the task entered (timeouts, task groups...), outermost first. */
  readonly scopes: readonly TaskTreeScope[];
  /** Where the task was started, in debug mode (`newRunner({ debug: true })`). */
  readonly stack?: string;
}

/** A cancel scope entered by a task, in a {@linkcode TaskTree}. */
export interface TaskTreeScope {
  /** The scope's own deadline, `Infinity` when none. */
  readonly deadline: number;
  /** Whether the scope keeps enclosing cancellations out. */
  readonly shield: boolean;
  /** `true` once the scope was cancelled. */
  readonly cancelled: boolean;
  /** The tasks started in this scope: it is a task group's when there are any. */
  readonly tasks: readonly TaskTreeTask[];
  /** The scopes entered inside this one by the same task, outermost first. */
  readonly scopes: readonly TaskTreeScope[];
}

/** A snapshot of the live tasks of a runner (`AsyncBackend.taskTree()`), as plain data. */
export interface TaskTree {
  /** When the snapshot was taken, on the runner's clock (`currentTime()`), in ms. */
  readonly now: number;
  /** The tasks run directly by the runner: `run()` calls and system tasks. */
  readonly tasks: readonly TaskTreeTask[];
}

/** What an instrument learns when a cancel scope is cancelled. */
export interface ScopeCancellation {
  /** The task running the scope's code, when the scope belongs to one. */
  readonly task: Task<unknown> | undefined;
  /** `true` when the scope's deadline cancelled it, `false` for `cancel()`. */
  readonly expired: boolean;
  /** The reason given to `cancel(reason)`, if any. */
  readonly reason: unknown;
  /** The scope's deadline, `Infinity` when none. */
  readonly deadline: number;
}

/**
 * Hooks a runner calls as its tasks run (Trio's `Instrument`), added with
 * `Runner.addInstrument()`. Every hook is optional and runs synchronously
 * where the event happens: keep it short, and do not start tasks or wait in it.
 * An instrument whose hook throws is removed, and the error is reported as an
 * unhandled promise rejection.
 *
 * The same events are published on `node:diagnostics_channel`, where the
 * runtime has it, on the channels of {@linkcode DIAGNOSTICS_CHANNELS}.
 */
export interface Instrument {
  /** A task was started (called when `startSoon()`, `start()`, `spawnTask()` or `run()` starts it). */
  taskSpawned?(task: Task<unknown>): void;
  /** A task ended (returned, threw or was cancelled); its outcome is settled. */
  taskExited?(task: Task<unknown>): void;
  /** A cancel scope of the runner was cancelled (by `cancel()` or its deadline). */
  scopeCancelled?(cancellation: ScopeCancellation): void;
}

/**
 * The names of the `node:diagnostics_channel` channels where every runner
 * publishes its events, where the runtime has the module (Node, Deno, Bun).
 * Messages: `{ task }` for the task channels, a {@linkcode ScopeCancellation}
 * for the scope channel. Publishing costs one check per event while nobody
 * subscribes.
 *
 * @example
 * ```ts
 * import diagnostics from "node:diagnostics_channel";
 * import { DIAGNOSTICS_CHANNELS } from "@easynetwork/async-backend/backend";
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 *
 * const names: string[] = [];
 * const onSpawn = (message: unknown) => names.push((message as { task: { name: string } }).task.name);
 * diagnostics.subscribe(DIAGNOSTICS_CHANNELS.taskSpawned, onSpawn);
 * await new DenoBackend().bootstrap(async function main() {});
 * diagnostics.unsubscribe(DIAGNOSTICS_CHANNELS.taskSpawned, onSpawn);
 * console.log(names); // ["main"]
 * ```
 */
export const DIAGNOSTICS_CHANNELS: {
  readonly taskSpawned: string;
  readonly taskExited: string;
  readonly scopeCancelled: string;
} = Object.freeze({
  taskSpawned: "@easynetwork/async-backend:task.spawned",
  taskExited: "@easynetwork/async-backend:task.exited",
  scopeCancelled: "@easynetwork/async-backend:scope.cancelled",
});
