/**
 * The core of the `AsyncBackend` contract: runners, tasks, cancellation,
 * timeouts and time, standalone scopes, OS signals and the task tree.
 * `AsyncBackend` (`async_backend.ts`) adds networking, servers, primitives,
 * channels and threads on top.
 *
 * @module
 */

import { CancelledError } from "../errors.ts";
import type { CancelScope, CancelScopeOptions, TimeoutHandle } from "./cancel_scope.ts";
import type { SignalReceiver } from "./signals.ts";
import type { Runner, SystemTask, TaskFunction, TaskGroup } from "./tasks.ts";
import type { TaskTree } from "./diagnostics.ts";
import type { RunnerOptions } from "./leaks.ts";

/**
 * The part of {@linkcode AsyncBackend} that runs and cancels code: runners,
 * tasks and task groups, cancel scopes and timeouts, time and sleeps, OS
 * signals and the task tree. Backends extend `AsyncBackend`, never this class
 * alone; code that only runs and cancels tasks may take it as its type.
 *
 * @example
 * ```ts
 * import type { AsyncBackendCore } from "@easynetwork/async-backend/backend";
 * import { AsyncBackendFactory } from "@easynetwork/async-backend/factory";
 *
 * async function tick(backend: AsyncBackendCore): Promise<number> {
 *   await backend.sleep(1);
 *   return backend.currentTime();
 * }
 * const backend = AsyncBackendFactory.new();
 * console.log(typeof await backend.bootstrap(() => tick(backend))); // "number"
 * ```
 */
export abstract class AsyncBackendCore {
  // ---- Runners ----

  /**
   * Returns a new runner. With `options.clock` (a `MockClock` of the
   * `testing` entry point), every timer of the runner follows that clock.
   *
   * @example A runner on a frozen clock, moved by hand
   * ```ts
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   * import { MockClock } from "@easynetwork/async-backend/testing";
   *
   * const backend = new DenoBackend();
   * const clock = new MockClock();
   * await using runner = backend.newRunner({ clock });
   * const woke = runner.run(async () => {
   *   await backend.sleep(10_000);
   *   return backend.currentTime();
   * });
   * await clock.advance(10_000);
   * console.log(await woke); // 10000
   * ```
   *
   * @param options `debug` records where each task, socket, listener, channel,
   *   worker and timer was made (shown by the task tree and the leak report);
   *   `strict` makes `close()` reject with `ResourceLeakError` when any was still alive;
   *   `clock` is the clock the runner's timers follow.
   * @throws {TypeError} when `options` is not an object or `options.clock` not a `MockClock`.
   * @throws {Error} when the clock already serves an open runner.
   */
  abstract newRunner(options?: RunnerOptions): Runner;

  /**
   * Runs `fn(...args)` in a new runner, closes the runner and returns the result.
   *
   * @param fn The function to run.
   * @param args Its arguments.
   */
  // deno-lint-ignore no-explicit-any
  bootstrap<A extends any[], T>(fn: TaskFunction<A, T>, ...args: A): Promise<T>;
  /**
   * Runs `fn(...args)` in a new runner made with `options` (see
   * {@linkcode AsyncBackend.newRunner}), closes the runner and returns the result.
   *
   * @param options The runner's options.
   * @param fn The function to run.
   * @param args Its arguments.
   */
  // deno-lint-ignore no-explicit-any
  bootstrap<A extends any[], T>(options: RunnerOptions, fn: TaskFunction<A, T>, ...args: A): Promise<T>;
  // deno-lint-ignore no-explicit-any
  async bootstrap(first: RunnerOptions | TaskFunction<any[], unknown>, ...rest: any[]): Promise<unknown> {
    // Options are an object; anything else is the function (checked by run()).
    const withOptions = typeof first === "object" && first !== null;
    const runner = withOptions ? this.newRunner(first) : this.newRunner();
    const [fn, ...args] = withOptions ? rest : [first, ...rest];
    try {
      return await runner.run(fn, ...args);
    } finally {
      await runner.close();
    }
  }

  // ---- Coroutines and tasks ----

  /**
   * A checkpoint that yields to the event loop: the tasks that yielded before it
   * resume first, in the order they yielded. When a millisecond or more has passed
   * since the loop last took a full turn, the yield is one: every timer due and
   * every I/O callback ready by then runs before the caller resumes. A yield that
   * comes sooner is the runtime's cheapest macrotask, which may run neither.
   *
   * So a task that yields never holds timers and I/O back for much more than a
   * millisecond, and yielding in a tight loop stays cheap: a task that burns 2 ms
   * of CPU between calls sees a timer due in 1 ms within 3 calls, and an accept,
   * a write and the peer's read complete within 9 (SPEC 2.1 rule 4, on Deno and
   * Node). `sleep(0)` and `sleepUntil()` of a past deadline are this checkpoint.
   *
   * @throws {CancelledError} at once, without yielding, if the caller's scope is
   *   cancelled; after the yield, if the scope was cancelled meanwhile.
   */
  abstract coroYield(): Promise<void>;
  /** Yields like {@linkcode AsyncBackend.coroYield}, but never rejects. */
  abstract cancelShieldedCoroYield(): Promise<void>;
  /** Returns the cancellation error class, {@linkcode CancelledError}. */
  getCancelledExcClass(): typeof CancelledError {
    return CancelledError;
  }
  /**
   * Runs `fn` shielded from the caller's cancellation; an outer cancellation waits
   * for it and arrives at the next checkpoint after it.
   */
  abstract ignoreCancellation<T>(fn: () => T | PromiseLike<T>): Promise<T>;
  /**
   * Runs `fn` with a deadline `ms` from now and resolves with its value.
   *
   * When the deadline cancels the body, the call rejects with a `DOMException`
   * named `"TimeoutError"`; when `handle.cancel()` does, with one named
   * `"AbortError"` (the web's words for the two causes). A cancellation of an
   * enclosing scope is not this scope's: it leaves as `CancelledError`, even if
   * this scope was cancelled too.
   */
  abstract timeout<T>(ms: number, fn: (handle: TimeoutHandle) => T | PromiseLike<T>): Promise<T>;
  /**
   * Like {@linkcode AsyncBackend.timeout} with an absolute deadline: rejects with a
   * `DOMException` named `"TimeoutError"` when the deadline cancels the body, and
   * one named `"AbortError"` when `handle.cancel()` does.
   */
  abstract timeoutAt<T>(deadline: number, fn: (handle: TimeoutHandle) => T | PromiseLike<T>): Promise<T>;
  /** Runs `fn` with a deadline `ms` from now; resolves `undefined` when the deadline cancels it. */
  abstract moveOnAfter<T>(ms: number, fn: (handle: TimeoutHandle) => T | PromiseLike<T>): Promise<T | undefined>;
  /** Like {@linkcode AsyncBackend.moveOnAfter} with an absolute deadline. */
  abstract moveOnAt<T>(deadline: number, fn: (handle: TimeoutHandle) => T | PromiseLike<T>): Promise<T | undefined>;
  /**
   * The backend clock: monotonic milliseconds. Inside a runner made with a
   * `MockClock`, that clock's virtual time (see {@linkcode AsyncBackend.newRunner}).
   */
  abstract currentTime(): number;
  /** Sleeps `ms` milliseconds; `0` is a checkpoint. */
  abstract sleep(ms: number): Promise<void>;
  /** Sleeps until cancelled. */
  abstract sleepForever(): Promise<never>;
  /** Sleeps until `deadline` on the backend clock; a past deadline is a checkpoint. */
  abstract sleepUntil(deadline: number): Promise<void>;
  /**
   * Starts a system task: it runs under the runner, outside the caller's scopes.
   *
   * Its error is never lost. Take it with `join()`, `wait()` or
   * `joinOrCancel()`; if the task fails (with anything but a cancellation)
   * and none of them was called by the time it ended, the error is reported
   * as an unhandled promise rejection whose reason is the error itself, the
   * way the runtime reports an `async` call nobody awaited: Node emits
   * `'unhandledRejection'` (by default it exits with the error), Deno, Bun and
   * browsers dispatch `unhandledrejection` on `globalThis` (Deno exits unless
   * a listener calls `preventDefault()`). To join a task later, call `wait()`
   * or `join()` early (from another task), or catch inside `fn`.
   */
  // deno-lint-ignore no-explicit-any
  abstract spawnTask<A extends any[], T>(fn: TaskFunction<A, T>, ...args: A): SystemTask<T>;
  /**
   * Runs `body(tg)` and waits for every task started in the group. The first
   * error (body or child) cancels the rest; the call rejects with it, or with an
   * `AggregateError` when there are several. Resolves the body's result, or
   * `undefined` when the group's own scope was cancelled before the body returned.
   */
  abstract createTaskGroup<T>(body: (tg: TaskGroup) => T | PromiseLike<T>): Promise<T | undefined>;

  // ---- Standalone cancel scopes and signals ----

  /**
   * Makes a standalone cancel scope (Trio's `CancelScope`): it can be cancelled,
   * rescheduled and shielded before it runs, and is entered once, in the
   * caller's scope, with `scope.run(fn)`, which resolves `undefined` when the
   * scope caught its own cancellation. An outside `options.signal` cancels it
   * while it runs (at once if already aborted), with the signal's reason.
   *
   * @example Cancel from an `AbortSignal`
   * ```ts
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * const controller = new AbortController();
   * const scope = backend.openCancelScope({ signal: controller.signal });
   * const result = await backend.bootstrap(() =>
   *   scope.run(async () => {
   *     setTimeout(() => controller.abort("stop"), 10);
   *     await backend.sleepForever();
   *   })
   * );
   * console.log(result, scope.cancelledCaught); // undefined true
   * ```
   *
   * @param options The deadline (absolute, on the backend clock), the shield and an outside `AbortSignal`.
   * @throws {TypeError} when an option has the wrong type, or `options` has another option.
   * @throws {RangeError} when `options.deadline` is `NaN`.
   */
  abstract openCancelScope(options?: CancelScopeOptions): CancelScope;

  /**
   * The earliest deadline that applies to the caller: the smallest deadline of
   * its scopes, from the innermost up to the nearest shielded one (included).
   * `Infinity` when none has a deadline (and outside any runner); `-Infinity`
   * when one of those scopes is already cancelled, as in Trio (the caller's next
   * checkpoint will reject).
   *
   * @example
   * ```ts
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * await backend.bootstrap(() =>
   *   backend.moveOnAfter(1_000, async () => {
   *     const left = backend.currentEffectiveDeadline() - backend.currentTime();
   *     console.log(left > 0 && left <= 1_000); // true
   *   })
   * );
   * ```
   */
  abstract currentEffectiveDeadline(): number;

  /**
   * Starts receiving the OS signals `signals` (names such as `"SIGTERM"`), until
   * the receiver is closed. While it is open the runtime does not apply the
   * signals' default action (ending the process on `SIGINT`); while a task
   * waits in it, the process stays alive. Closing it gives the signals back.
   *
   * @example Wait for SIGUSR2
   * ```ts
   * import process from "node:process";
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * await backend.bootstrap(async () => {
   *   using signals = backend.openSignalReceiver(["SIGUSR2"]);
   *   process.kill(process.pid, "SIGUSR2");
   *   for await (const name of signals) {
   *     console.log(`got ${name}`);
   *     break;
   *   }
   * });
   * ```
   *
   * @param signals The signal names.
   * @throws {TypeError} when `signals` is not an array of names, or names a signal
   *   the runtime cannot listen to here (`SIGKILL`, or an unknown name).
   * @throws {RangeError} when `signals` is an empty list.
   */
  abstract openSignalReceiver(signals: readonly string[]): SignalReceiver;

  // ---- Diagnostics ----

  /**
   * A snapshot of the caller's runner, as plain data: its live tasks (names,
   * ids), the cancel scopes each entered (deadlines, shields, task groups with
   * their child tasks) and the checkpoints each waits at (`"sleep"`, `"lock"`,
   * `"recv"`, `"join"`, `"thread"`...; see `TaskTreeTask.waitingAt`). In debug
   * mode (`newRunner({ debug: true })`) each task carries the stack where it was
   * started. Taking it costs nothing while tasks run: it reads the scope tree.
   *
   * @example
   * ```ts
   * import { named } from "@easynetwork/async-backend/backend";
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * await backend.bootstrap(async () => {
   *   await backend.createTaskGroup(async (tg) => {
   *     tg.startSoon(named("sleeper", () => backend.sleep(50)));
   *     await backend.sleep(0);
   *     const [main] = backend.taskTree().tasks;
   *     const [sleeper] = main.scopes[0].tasks;
   *     console.log(sleeper.name, sleeper.waitingAt); // sleeper [ "sleep" ]
   *   });
   * });
   * ```
   *
   * @throws {Error} when called outside a runner.
   */
  abstract taskTree(): TaskTree;

  /**
   * Writes the caller's task tree as text (one line per task and scope, drawn
   * as a tree) to `write`, `console.error` by default, and returns the text.
   *
   * @example
   * ```ts
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * await backend.bootstrap(async function main() {
   *   const text = backend.dumpTaskTree(() => {});
   *   console.log(text.split("\n")[1]); // task #… main (not at a checkpoint)
   * });
   * ```
   *
   * @param write Where the text goes.
   * @throws {Error} when called outside a runner.
   */
  abstract dumpTaskTree(write?: (text: string) => void): string;

  /**
   * Opt-in: starts a system task of the caller's runner that dumps the task
   * tree (see {@linkcode AsyncBackend.dumpTaskTree}) each time the OS signal
   * `signal` arrives (`kill -USR2 <pid>`), until the runner closes or the task
   * is cancelled. While it runs, the signal's default action does not happen.
   * The default is `SIGUSR2`, not `SIGUSR1`: Node starts its inspector on
   * `SIGUSR1` (and writes a diagnostic report on `SIGUSR2` only when run with
   * `--report-on-signal`).
   *
   * @example
   * ```ts
   * import process from "node:process";
   * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
   *
   * const backend = new DenoBackend();
   * await backend.bootstrap(async () => {
   *   const dumps: string[] = [];
   *   const dumper = backend.dumpTaskTreeOnSignal("SIGUSR2", (text) => dumps.push(text));
   *   process.kill(process.pid, "SIGUSR2");
   *   await backend.timeout(5_000, async () => {
   *     while (dumps.length === 0) await backend.sleep(1);
   *   });
   *   dumper.cancel();
   *   console.log(dumps[0].startsWith("Task tree")); // true
   * });
   * ```
   *
   * @param signal The signal's name, `"SIGUSR2"` by default.
   * @param write Where each dump goes, `console.error` by default.
   * @throws {Error} when called outside a runner.
   * @throws {TypeError} when the runtime cannot listen to `signal`.
   */
  abstract dumpTaskTreeOnSignal(signal?: string, write?: (text: string) => void): SystemTask<void>;
}
