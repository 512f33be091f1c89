/**
 * Contract tests: a model-based property test of the core's cancellation rules
 * (SPEC 2 and 2.1) with fast-check.
 *
 * fast-check generates small programs: nested `moveOnAt`/`moveOnAfter`/
 * `timeoutAt`/`timeout` scopes (some shielded by `handle.shield = true` at the
 * start of the body, some with a deadline already passed) and
 * `ignoreCancellation`; task groups with `tg.startSoon` and `tg.start` children
 * (which call `started(v)` at some point or never); checkpoints (`sleep(0)`,
 * `coroYield()`, `sleepForever()`); children that return, throw, cancel an
 * enclosing scope (`handle.cancel()`, or `handle.deadline = now - 1`) or a
 * sibling (`task.cancel()`); and `try`/`catch` blocks that swallow
 * `CancelledError` (the next checkpoint in the same scope rejects again). Each
 * program runs under `backend.bootstrap()` and in the reference model of
 * `core_model_ref.ts`, and the two must agree on: each task's trace (the steps it
 * ran, what each checkpoint, scope call, group and `start()` settled with, which
 * children were done and cancelled when their group settled, how the task
 * ended), what `bootstrap()` settled with, every scope handle's `cancelCalled`,
 * `cancelledCaught` and `expired()`, and the global order of the steps.
 *
 * ## The execution model: one step at a time, in an order the model chooses
 *
 * Children of a group run concurrently, so left alone, what a program does would
 * depend on timing. Instead every task runs in *turns*, and a sequencer built on
 * plain promises (no library checkpoint) gives the turns out one at a time in the
 * order the model computed:
 *
 * - A task asks for a turn before each statement (`begin` before its first), and
 *   after each blocking call settles (`sleepForever()`, `createTaskGroup()`,
 *   `tg.start()`), before it does anything with the outcome. While it holds the
 *   turn, nothing else of the program runs: a `sleep(0)` or `coroYield()` is
 *   awaited inside the turn, so whether it rejects depends only on whether an
 *   effective cancellation exists when it starts (level-triggered), never on
 *   what another task does meanwhile.
 * - A task gives its turn up when it asks for the next one, when it starts a
 *   blocking call, when its group body ends, and when it ends.
 * - The turn passes to the next task on a macrotask (`setImmediate`), so the
 *   library's own reactions to the step just taken (a task ending, a body
 *   error cancelling its group, a waiter woken by `cancel()`) have all run on
 *   microtasks before the next step starts.
 * - Which ready task runs next is the model's choice, steered by a generated
 *   list of choices, so interleavings vary; the sequencer makes the library
 *   follow it. Two points are not free: a group or `start()` that settles is
 *   resumed at once (the next turn), so that nothing happens between a group's
 *   last child ending and the group deciding, on leaving, whether it is
 *   cancelled; and while `tg.start()` waits, only the new child (and tasks it
 *   starts) run, and the generator keeps every scope around the caller out of
 *   reach of the child until `started()`, so the cancellation of a waiting
 *   `start()` (where the rules say nothing) never arises.
 * - `sleepForever()` is only kept where the model shows a cancellation wakes it:
 *   the model runs first, and one that nothing wakes becomes `sleep(0)`.
 * - `cancel`/`expire` only name scopes that enclose the statement (so they are
 *   active), and `tg.start()` only stands at the top of a group body (its caller
 *   runs in the group scope itself): see `numberProgram()`.
 * - Deadlines are never reached by time: a scope's deadline is none, an hour away
 *   (a timer that must be cleared on exit), or already passed at entry
 *   (`moveOnAt(currentTime() - 1)`), and `handle.deadline = now - 1` expires one
 *   on the spot. No real duration is waited for anywhere.
 * - A second property runs programs on a frozen `MockClock` where deadlines
 *   *are* reached by time: a scope may also have a deadline {@linkcode SOON_MS}
 *   after its entry, and a `tick` statement moves the clock by
 *   {@linkcode TICK_MS} (`clock.jump()`, which fires the deadlines reached
 *   within the step); the model cancels, with the deadline as cause, every
 *   active scope whose deadline the tick reached. No `tick` stands in a `start`
 *   child before `started()` (nor in tasks it spawns): it could expire a scope
 *   around the waiting `start()`.
 *
 * The sequencer checks each request against the model (the task's next label,
 * its trace so far, and that a group or `start()` did not settle before the step
 * that settles it in the model, that a `sleepForever()` was not woken before the
 * step that cancels it) and stops the run at the first difference: every later
 * request rejects and every handle is cancelled, so the program unwinds at once.
 * A run that still does not end (a lost wake-up) is reported after
 * {@linkcode HANG_MS}; that watchdog never decides a passing run. Deno's op and
 * resource sanitizers catch a timer left behind.
 *
 * Two more tests go with it: hand-written programs whose outcome the SPEC states
 * outright (checked on the model, then on the library), and a check that the
 * sequencer reports a run that differs from a (deliberately wrong) model.
 *
 * `FC_RUNS` sets the number of programs per backend (default
 * {@linkcode DEFAULT_RUNS}, with the fixed seed {@linkcode DEFAULT_SEED}; with
 * `FC_RUNS` alone the seed is random and printed); `FC_SEED` (and `FC_PATH`)
 * replay a failure, whose seed and path fast-check prints.
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import { setImmediate } from "node:timers";
import fc from "fast-check";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { CancelScopeHandle, TimeoutHandle } from "../../backend/abc/cancel_scope.ts";
import type { Task, TaskGroup, TaskStatus } from "../../backend/abc/tasks.ts";
import { CancelledError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import {
  type CheckpointOp,
  type Deadline,
  numberProgram,
  predict,
  type Prediction,
  type Program,
  type RawStmt,
  type ScopeKind,
  showProgram,
  SOON_MS,
  type Stmt,
  TICK_MS,
  type Turn,
} from "./core_model_ref.ts";
import { MockClock } from "../../backend/testing.ts";

/** Programs per backend in the default run. */
export const DEFAULT_RUNS = 500;
/** The seed of the default run. */
export const DEFAULT_SEED = 20_250_601;
/** A run that has not ended after this long is reported as a hang (never reached by a passing run). */
export const HANG_MS = 5_000;
/** "An hour away": a deadline that arms a timer and is never reached. */
const FAR_MS = 3_600_000;

// ---------------------------------------------------------------------------
// Programs
// ---------------------------------------------------------------------------

const pick = fc.nat(15);

/** Programs; `timed` adds `tick` statements and `soon` deadlines, for a run on a mock clock. */
function makePrograms(timed: boolean): fc.Arbitrary<{ main: RawStmt[]; choices: number[] }> {
  const leaf: fc.Arbitrary<RawStmt> = fc.oneof(
    { arbitrary: fc.constantFrom<CheckpointOp>("sleep0", "yield").map((op): RawStmt => ({ t: "cp", op })), weight: 8 },
    { arbitrary: fc.constant<RawStmt>({ t: "cp", op: "forever" }), weight: 3 },
    { arbitrary: pick.map((p): RawStmt => ({ t: "cancel", pick: p })), weight: 3 },
    { arbitrary: pick.map((p): RawStmt => ({ t: "expire", pick: p })), weight: 1 },
    { arbitrary: pick.map((p): RawStmt => ({ t: "cancelTask", pick: p })), weight: 2 },
    { arbitrary: fc.constant<RawStmt>({ t: "throw" }), weight: 1 },
    { arbitrary: fc.constant<RawStmt>({ t: "tick" }), weight: timed ? 3 : 0 },
  );

  const tree = fc.letrec<{ stmt: RawStmt; block: RawStmt[] }>((tie) => ({
    stmt: fc.oneof(
      { maxDepth: 5, depthIdentifier: "program" },
      { arbitrary: leaf, weight: 4 },
      {
        arbitrary: fc.record({
          kind: fc.constantFrom<ScopeKind>("moveOnAt", "moveOnAfter", "timeoutAt", "timeout", "ignore"),
          deadline: timed
            ? fc.constantFrom<Deadline>("none", "soon", "soon", "far", "passed")
            : fc.constantFrom<Deadline>("none", "none", "far", "passed"),
          shield: fc.boolean(),
          body: tie("block"),
        }).map((s): RawStmt => ({ t: "scope", ...s })),
        weight: 3,
      },
      { arbitrary: tie("block").map((body): RawStmt => ({ t: "group", body })), weight: 2 },
      { arbitrary: tie("block").map((body): RawStmt => ({ t: "spawn", body })), weight: 4 },
      {
        arbitrary: fc.record({ body: tie("block"), startedAt: fc.option(fc.nat(4), { nil: null }) })
          .map((s): RawStmt => ({ t: "start", ...s })),
        weight: 2,
      },
      { arbitrary: tie("block").map((body): RawStmt => ({ t: "swallow", body })), weight: 1 },
    ),
    block: fc.array(tie("stmt"), { minLength: 1, maxLength: 5, size: "large", depthIdentifier: "program" }),
  }));

  return fc.record({
    main: fc.array(tree.stmt, { minLength: 1, maxLength: 6, size: "large", depthIdentifier: "program" }),
    choices: fc.array(fc.nat(15), { maxLength: 32 }),
  });
}

/** A generated program: the main task's statements and the scheduler's choices. */
export const programs: fc.Arbitrary<{ main: RawStmt[]; choices: number[] }> = makePrograms(false);
/** Programs whose deadlines are reached by time, on a mock clock moved by `tick` statements. */
export const timedPrograms: fc.Arbitrary<{ main: RawStmt[]; choices: number[] }> = makePrograms(true);

// ---------------------------------------------------------------------------
// Outcomes, written the way the model writes them
// ---------------------------------------------------------------------------

/** The error a program statement throws. */
class ProgramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProgramError";
  }
}

/** Thrown into every task once the run has diverged from the model. */
class AbortRun extends Error {
  constructor() {
    super("the run diverged from the model");
    this.name = "AbortRun";
  }
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

function settle(fn: () => Promise<unknown>): Promise<Settled> {
  try {
    return fn().then((value) => ({ ok: true, value }), (error) => ({ ok: false, error }));
  } catch (error) {
    return Promise.resolve({ ok: false, error });
  }
}

function showError(error: unknown, details: string[]): string {
  if (error instanceof CancelledError) return "Cancelled";
  if (error instanceof AggregateError) return `Aggregate[${error.errors.map((e) => showError(e, details)).sort()}]`;
  if (error instanceof ProgramError) return error.message;
  if (error instanceof AbortRun) return "AbortRun";
  if (error instanceof DOMException) return error.name;
  if (error instanceof Error) {
    details.push(`${error.name}: ${error.message}`);
    return "Error";
  }
  return `non-error ${String(error)}`;
}

function showSettled(settled: Settled, details: string[]): string {
  return settled.ok ? `ok:${String(settled.value)}` : showError(settled.error, details);
}

// ---------------------------------------------------------------------------
// The sequencer
// ---------------------------------------------------------------------------

/** Gives turns out one at a time in the model's order; stops the run at the first difference. */
class Sequencer {
  failure: string | null = null;
  /** Turns granted so far. */
  pos = 0;
  readonly #turns: readonly Turn[];
  readonly #byTask = new Map<number, number[]>();
  readonly #nextOfTask = new Map<number, number>();
  readonly #parked = new Map<number, { at: number; resolve: () => void; reject: (error: unknown) => void }>();
  readonly #events: Map<number, string[]>;
  readonly #expected: Map<number, string[]>;
  readonly #onFail: () => void;
  #holder = -1;
  #pumping = false;

  constructor(prediction: Prediction, events: Map<number, string[]>, onFail: () => void) {
    this.#turns = prediction.turns;
    prediction.turns.forEach((turn, index) => {
      const list = this.#byTask.get(turn.task) ?? [];
      list.push(index);
      this.#byTask.set(turn.task, list);
    });
    this.#events = events;
    this.#expected = prediction.events;
    this.#onFail = onFail;
  }

  /** Gives up `task`'s turn if it holds it, then waits for its next one, which must be `label`. */
  turn(task: number, label: string): Promise<void> {
    if (this.#holder === task) this.#holder = -1;
    if (this.failure !== null) return Promise.reject(new AbortRun());
    const k = this.#nextOfTask.get(task) ?? 0;
    const at = this.#byTask.get(task)?.[k];
    if (at === undefined) return this.fail(`task ${task} asks for turn "${label}"; the model has no more for it`);
    const expected = this.#turns[at];
    if (expected.label !== label) {
      return this.fail(`task ${task} asks for turn "${label}"; the model's next turn for it is "${expected.label}"`);
    }
    const have = this.#events.get(task) ?? [];
    const want = (this.#expected.get(task) ?? []).slice(0, expected.eventsBefore);
    if (have.length !== want.length || have.some((e, i) => e !== want[i])) {
      return this.fail(
        `task ${task} before turn "${label}" has the trace\n    ${JSON.stringify(have)}\n  the model's:\n    ${
          JSON.stringify(want)
        }`,
      );
    }
    if (expected.forced && this.pos < at) {
      return this.fail(
        `task ${task}: the call it resumes after ("${label}") settled before step ${at - 1} (${
          describeTurn(this.#turns[at - 1])
        }), which settles it in the model`,
      );
    }
    this.#nextOfTask.set(task, k + 1);
    return new Promise<void>((resolve, reject) => {
      this.#parked.set(task, { at, resolve, reject });
      this.#pump();
    });
  }

  /** Gives up `task`'s turn (it blocks or ends). */
  release(task: number): void {
    if (this.#holder !== task) return;
    this.#holder = -1;
    this.#pump();
  }

  /** A `sleepForever()` settled: the step that cancels it must have been taken. */
  woken(task: number, id: number, wakeTurn: number | undefined): void {
    if (this.failure !== null) return;
    if (wakeTurn === undefined) void this.fail(`task ${task}: sleepForever() ${id} settled; the model never wakes it`);
    else if (this.pos <= wakeTurn) {
      void this.fail(
        `task ${task}: sleepForever() ${id} settled before step ${wakeTurn} (${
          describeTurn(this.#turns[wakeTurn])
        }), which wakes it in the model`,
      );
    }
  }

  /** Whether every turn was given out. */
  get finished(): boolean {
    return this.pos === this.#turns.length;
  }

  /** Records the first difference, rejects every waiting task and stops the run. */
  fail(message: string): Promise<never> {
    if (this.failure === null) {
      this.failure = message;
      for (const parked of this.#parked.values()) parked.reject(new AbortRun());
      this.#parked.clear();
      this.#onFail();
    }
    return Promise.reject(new AbortRun());
  }

  #pump(): void {
    if (this.#pumping || this.#holder !== -1 || this.failure !== null || this.pos >= this.#turns.length) return;
    if (this.#parked.get(this.#turns[this.pos].task)?.at !== this.pos) return;
    this.#pumping = true;
    setImmediate(() => {
      this.#pumping = false;
      if (this.#holder !== -1 || this.failure !== null) return;
      const next = this.#turns[this.pos];
      const parked = this.#parked.get(next.task);
      if (parked === undefined || parked.at !== this.pos) return;
      this.#parked.delete(next.task);
      this.#holder = next.task;
      this.pos++;
      parked.resolve();
    });
  }
}

function describeTurn(turn: Turn): string {
  return `task ${turn.task} "${turn.label}"`;
}

// ---------------------------------------------------------------------------
// Running a program on the library
// ---------------------------------------------------------------------------

interface Ctx {
  tg: TaskGroup | null;
  groupId: number;
  status: TaskStatus<string> | null;
}

/** What a run on the library did. */
interface Observed {
  events: Map<number, string[]>;
  bootstrap: string;
  handles: Map<number, CancelScopeHandle>;
  tasks: Map<number, Task<unknown>>;
  details: string[];
}

class LibraryRun {
  readonly events = new Map<number, string[]>();
  readonly handles = new Map<number, CancelScopeHandle>();
  readonly tasks = new Map<number, Task<unknown>>();
  readonly children = new Map<number, number[]>();
  readonly details: string[] = [];
  readonly seq: Sequencer;

  constructor(readonly backend: AsyncBackend, readonly prediction: Prediction, readonly clock?: MockClock) {
    this.seq = new Sequencer(prediction, this.events, () => this.#abort());
  }

  /** Runs `program` under `bootstrap()`, on the mock clock when there is one. */
  async run(program: Program): Promise<string> {
    const main = () => this.#task(0, program.main, null);
    const clock = this.clock;
    const settled = await settle(() => clock ? this.backend.bootstrap({ clock }, main) : this.backend.bootstrap(main));
    return showSettled(settled, this.details);
  }

  #record(task: number, event: string): void {
    let list = this.events.get(task);
    if (list === undefined) this.events.set(task, list = []);
    list.push(event);
  }

  /** Cancels everything that can be cancelled, so that a diverged run unwinds. */
  #abort(): void {
    for (const handle of this.handles.values()) handle.cancel();
    for (const task of this.tasks.values()) task.cancel();
  }

  async #task(id: number, body: Stmt[], status: TaskStatus<string> | null): Promise<string> {
    try {
      await this.seq.turn(id, "begin");
      this.#record(id, "begin");
      await this.#block(id, { tg: null, groupId: -1, status }, body);
      this.#record(id, `end ok:r${id}`);
      return `r${id}`;
    } catch (error) {
      this.#record(id, `end ${showError(error, this.details)}`);
      throw error;
    } finally {
      this.seq.release(id);
    }
  }

  async #block(task: number, ctx: Ctx, stmts: Stmt[]): Promise<void> {
    for (const s of stmts) {
      await this.seq.turn(task, String(s.id));
      this.#record(task, String(s.id));
      await this.#stmt(task, ctx, s);
    }
  }

  /** Waits for the turn after a blocking call settled, having recorded its outcome. */
  async #resume(task: number, id: number, settled: Settled, extra: string[] = []): Promise<void> {
    this.#record(task, `${id} => ${showSettled(settled, this.details)}`);
    for (const event of extra) this.#record(task, event);
    await this.seq.turn(task, `${id}:r`);
    this.#record(task, `${id}:r`);
    if (!settled.ok) throw settled.error;
  }

  #handle(id: number): CancelScopeHandle {
    const handle = this.handles.get(id);
    if (handle === undefined) throw new Error(`test: no handle for scope ${id}`);
    return handle;
  }

  async #stmt(task: number, ctx: Ctx, s: Stmt): Promise<void> {
    const backend = this.backend;
    switch (s.t) {
      case "cp": {
        if (s.op === "forever") {
          const pending = settle(() => backend.sleepForever());
          this.seq.release(task);
          const settled = await pending;
          this.seq.woken(task, s.id, this.prediction.wakeTurns.get(s.id));
          this.#record(task, `${s.id} ${settled.ok ? "resolved" : showError(settled.error, this.details)}`);
          await this.seq.turn(task, `${s.id}:r`);
          this.#record(task, `${s.id}:r`);
          if (!settled.ok) throw settled.error;
          return;
        }
        const settled = await settle(() => s.op === "sleep0" ? backend.sleep(0) : backend.coroYield());
        this.#record(task, `${s.id} ${settled.ok ? "ok" : showError(settled.error, this.details)}`);
        if (!settled.ok) throw settled.error;
        return;
      }
      case "throw":
        throw new ProgramError(`e${s.id}`);
      case "tick":
        this.clock!.jump(TICK_MS);
        return;
      case "cancel":
        this.#handle(s.target).cancel();
        return;
      case "expire":
        (this.#handle(s.target) as TimeoutHandle).deadline = backend.currentTime() - 1;
        return;
      case "cancelTask": {
        const target = this.tasks.get(s.target);
        this.#record(task, target === undefined ? `${s.id} no-task` : `${s.id} cancel()=${target.cancel()}`);
        return;
      }
      case "swallow":
        try {
          await this.#block(task, ctx, s.body);
        } catch (error) {
          if (!(error instanceof CancelledError)) throw error;
          this.#record(task, `${s.id} swallowed`);
        }
        return;
      case "started":
        ctx.status!.started(`s${s.id}`);
        return;
      case "scope": {
        const body = async (handle?: TimeoutHandle): Promise<string> => {
          if (handle !== undefined) {
            this.handles.set(s.id, handle);
            if (s.shield) handle.shield = true;
          }
          await this.#block(task, ctx, s.body);
          return `v${s.id}`;
        };
        const now = backend.currentTime();
        const ms = s.deadline === "far" ? FAR_MS : s.deadline === "soon" ? SOON_MS : Infinity;
        const at = s.deadline === "passed" ? now - 1 : now + ms;
        const call = (): Promise<unknown> => {
          switch (s.kind) {
            case "moveOnAt":
              return backend.moveOnAt(at, body);
            case "moveOnAfter":
              return backend.moveOnAfter(ms, body);
            case "timeoutAt":
              return backend.timeoutAt(at, body);
            case "timeout":
              return backend.timeout(ms, body);
            case "ignore":
              return backend.ignoreCancellation(() => body());
          }
        };
        const settled = await settle(call);
        this.#record(task, `${s.id} => ${showSettled(settled, this.details)}`);
        if (!settled.ok) throw settled.error;
        return;
      }
      case "group": {
        const children: number[] = [];
        this.children.set(s.id, children);
        const settled = await settle(() =>
          backend.createTaskGroup(async (tg) => {
            this.handles.set(s.id, tg.cancelScope);
            try {
              await this.#block(task, { tg, groupId: s.id, status: null }, s.body);
              return `g${s.id}`;
            } finally {
              this.seq.release(task);
            }
          })
        );
        const states = children.map((c) => {
          const child = this.tasks.get(c)!;
          return child.done() ? `${c} done cancelled=${child.cancelled()}` : `${c} not done`;
        });
        await this.#resume(task, s.id, settled, states);
        return;
      }
      case "spawn": {
        const child = ctx.tg!.startSoon(() => this.#task(s.id, s.body, null));
        this.tasks.set(s.id, child);
        this.children.get(ctx.groupId)!.push(s.id);
        return;
      }
      case "start": {
        const pending = settle(() => ctx.tg!.start((status: TaskStatus<string>) => this.#task(s.id, s.body, status)));
        this.seq.release(task);
        await this.#resume(task, s.id, await pending);
        return;
      }
    }
  }

  observed(bootstrap: string): Observed {
    return {
      events: this.events,
      bootstrap,
      handles: this.handles,
      tasks: this.tasks,
      details: this.details,
    };
  }
}

/** Compares a finished run with the prediction; returns the differences. */
function compare(prediction: Prediction, observed: Observed, seq: Sequencer): string[] {
  // After the first difference the run was stopped: what follows is its consequence.
  if (seq.failure !== null) return [seq.failure];
  const problems: string[] = [];
  if (!seq.finished) problems.push(`the run ended after ${seq.pos} of ${prediction.turns.length} steps`);
  if (observed.bootstrap !== prediction.bootstrap) {
    problems.push(`bootstrap settled with ${observed.bootstrap}; the model: ${prediction.bootstrap}`);
  }
  const ids = new Set([...prediction.events.keys(), ...observed.events.keys()]);
  for (const id of [...ids].sort((a, b) => a - b)) {
    const want = prediction.events.get(id) ?? [];
    const have = observed.events.get(id) ?? [];
    if (JSON.stringify(want) !== JSON.stringify(have)) {
      problems.push(`task ${id} trace:\n    ${JSON.stringify(have)}\n  the model's:\n    ${JSON.stringify(want)}`);
    }
  }
  for (const [id, want] of prediction.scopes) {
    const handle = observed.handles.get(id);
    if (handle === undefined) {
      problems.push(`scope ${id} (${want.kind}) was never entered`);
      continue;
    }
    const have: Record<string, boolean> = { cancelCalled: handle.cancelCalled };
    const wanted: Record<string, boolean> = { cancelCalled: want.cancelCalled };
    if (!want.failed) {
      have.cancelledCaught = handle.cancelledCaught;
      wanted.cancelledCaught = want.cancelledCaught;
    }
    if (want.kind !== "group") {
      have.expired = (handle as TimeoutHandle).expired();
      wanted.expired = want.expired;
    }
    if (JSON.stringify(have) !== JSON.stringify(wanted)) {
      problems.push(`scope ${id} (${want.kind}): ${JSON.stringify(have)}; the model: ${JSON.stringify(wanted)}`);
    }
  }
  for (const id of observed.handles.keys()) {
    if (!prediction.scopes.has(id)) problems.push(`scope ${id} was entered; the model never enters it`);
  }
  for (const [id, task] of observed.tasks) {
    if (!task.done()) problems.push(`task ${id} is not done after bootstrap()`);
  }
  return problems;
}

function schedule(turns: readonly Turn[]): string {
  return turns.map((turn, i) => `${i}:${turn.task}/${turn.label}`).join(" ");
}

/** Runs one generated program on `backend` and on the model; throws a report when they differ. */
export async function check(
  backend: AsyncBackend,
  raw: { main: RawStmt[]; choices: number[] },
  timed = false,
): Promise<void> {
  const { program, prediction } = predict(numberProgram(raw.main, raw.choices));
  const run = new LibraryRun(backend, prediction, timed ? new MockClock() : undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), HANG_MS)));
  const bootstrap = await Promise.race([run.run(program), hang]);
  clearTimeout(timer);
  // Let the sequencer's last hand-over (if any) run, so that no macrotask is left.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const problems = bootstrap === null
    ? [`bootstrap() did not settle within ${HANG_MS} ms`, ...(run.seq.failure !== null ? [run.seq.failure] : [])]
    : compare(prediction, run.observed(bootstrap), run.seq);
  if (bootstrap === null) void run.seq.fail("hang");
  if (problems.length === 0) return;
  throw new Error(
    [
      "the library and the model differ:",
      ...problems.map((p) => `- ${p}`),
      "program:",
      showProgram(program),
      `model's steps: ${schedule(prediction.turns)}`,
      `steps taken: ${run.seq.pos}`,
      ...(run.details.length > 0 ? [`errors seen: ${[...new Set(run.details)].join("; ")}`] : []),
    ].join("\n"),
  );
}

function envNumber(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(text)}`);
  return value;
}

/** fast-check's parameters from `FC_RUNS`, `FC_SEED` and `FC_PATH`. */
function parameters(name: string): fc.Parameters<[{ main: RawStmt[]; choices: number[] }]> {
  const runs = envNumber("FC_RUNS");
  let seed = envNumber("FC_SEED");
  if (seed === undefined) {
    seed = runs === undefined ? DEFAULT_SEED : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
    if (runs !== undefined) console.log(`${name}: core model, ${runs} programs, seed ${seed}`);
  }
  const path = process.env.FC_PATH || undefined;
  return { numRuns: runs ?? DEFAULT_RUNS, seed, path, endOnFailure: path !== undefined, includeErrorInReport: true };
}

/** A program whose outcome the SPEC states outright. */
interface KnownAnswer {
  what: string;
  main: RawStmt[];
  bootstrap: string;
  /** Events each task must record, in this order (others may come between). */
  events: Record<number, string[]>;
  /** Events the main task must not record (code that must not run). */
  absent?: string[];
  /** The scopes with `cancelledCaught`; every other scope has it `false`. */
  caught: number[];
}

const cp = (op: CheckpointOp): RawStmt => ({ t: "cp", op });
const scope = (kind: ScopeKind, deadline: Deadline, body: RawStmt[], shield = false): RawStmt => ({
  t: "scope",
  kind,
  deadline,
  shield,
  body,
});

const KNOWN_ANSWERS: KnownAnswer[] = [
  {
    what: "a group whose children an enclosing deadline cancelled rejects, and timeout() rejects with TimeoutError",
    main: [scope("timeoutAt", "passed", [{ t: "group", body: [{ t: "spawn", body: [cp("sleep0")] }] }, cp("yield")])],
    bootstrap: "TimeoutError",
    events: {
      0: ["2 => Cancelled", "3 done cancelled=true", "1 => TimeoutError"],
      3: ["4 Cancelled", "end Cancelled"],
    },
    absent: ["5"],
    caught: [1],
  },
  {
    what:
      "with an outer and an inner scope cancelled, the outer one catches and the code after the inner one does not run",
    main: [scope("moveOnAt", "none", [
      scope("moveOnAt", "none", [{ t: "cancel", pick: 0 }, { t: "cancel", pick: 1 }, cp("sleep0")]),
      cp("yield"),
    ])],
    bootstrap: "ok:r0",
    events: { 0: ["5 Cancelled", "2 => Cancelled", "1 => ok:undefined"] },
    absent: ["6"],
    caught: [1],
  },
  {
    what: "an outer cancellation does not reach into a shielded scope; the outer scope catches at its next checkpoint",
    main: [
      scope("moveOnAt", "none", [
        scope("moveOnAfter", "far", [{ t: "cancel", pick: 0 }, cp("sleep0")], true),
        cp("yield"),
      ]),
    ],
    bootstrap: "ok:r0",
    events: { 0: ["4 ok", "2 => ok:v2", "5 Cancelled", "1 => ok:undefined"] },
    caught: [1],
  },
  {
    what: "tg.start() in a cancelled scope runs the child; started() before its first checkpoint resolves start()",
    main: [scope("moveOnAt", "passed", [{ t: "group", body: [{ t: "start", body: [cp("sleep0")], startedAt: 0 }] }])],
    bootstrap: "ok:r0",
    events: {
      0: ["3 => ok:s4", "2 => Cancelled", "1 => ok:undefined"],
      3: ["begin", "4", "5", "5 Cancelled", "end Cancelled"],
    },
    caught: [1],
  },
  {
    what:
      "a child's error cancels its siblings and the group rejects with it; a child ended by task.cancel() counts for nothing",
    main: [{
      t: "group",
      body: [
        { t: "spawn", body: [cp("forever")] },
        { t: "spawn", body: [cp("forever")] },
        { t: "cancelTask", pick: 0 },
        { t: "spawn", body: [{ t: "throw" }] },
      ],
    }],
    bootstrap: "e8",
    events: {
      0: ["6 cancel()=true", "1 => e8", "2 done cancelled=true", "4 done cancelled=true", "7 done cancelled=false"],
    },
    caught: [],
  },
  {
    what:
      "a group left while its own scope is cancelled catches, even when every child finished, and keeps the body's value",
    main: [{ t: "group", body: [{ t: "spawn", body: [{ t: "cancel", pick: 0 }] }] }, cp("sleep0")],
    bootstrap: "ok:r0",
    events: { 0: ["1 => ok:g1", "2 done cancelled=false", "4 ok"] },
    caught: [1],
  },
];

/** Whether `events` holds `wanted` in order. */
function hasInOrder(events: readonly string[], wanted: readonly string[]): boolean {
  let i = 0;
  for (const event of events) if (i < wanted.length && event === wanted[i]) i++;
  return i === wanted.length;
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: core model: random programs of scopes, groups and checkpoints behave as the SPEC 2.1 model`, async () => {
    const backend = create();
    await fc.assert(fc.asyncProperty(programs, (raw) => check(backend, raw)), parameters(name));
  });

  test(`${name}: core model: with deadlines reached on a mock clock (tick statements), the library follows the model`, async () => {
    const backend = create();
    const params = parameters(name);
    await fc.assert(
      fc.asyncProperty(timedPrograms, (raw) => check(backend, raw, true)),
      { ...params, numRuns: Math.max(1, Math.round((params.numRuns ?? DEFAULT_RUNS) / 2)) },
    );
  });

  test(`${name}: core model: the model gives the SPEC's answers, and so does the library`, async () => {
    for (const known of KNOWN_ANSWERS) {
      const { prediction } = predict(numberProgram(known.main, []));
      const context = `${known.what}\n${showProgram(numberProgram(known.main, []))}`;
      assert.equal(prediction.bootstrap, known.bootstrap, context);
      for (const [task, wanted] of Object.entries(known.events)) {
        const events = prediction.events.get(Number(task)) ?? [];
        assert.ok(hasInOrder(events, wanted), `${context}\ntask ${task}: ${JSON.stringify(events)}`);
      }
      for (const event of known.absent ?? []) {
        assert.ok(!prediction.events.get(0)!.includes(event), `${context}\n${event} ran`);
      }
      const caught = [...prediction.scopes].filter(([, s]) => s.cancelledCaught).map(([id]) => id);
      assert.deepEqual(caught, known.caught, context);
      await check(create(), { main: known.main, choices: [] });
    }
  });

  test(`${name}: core model: the sequencer stops a run that differs from the model`, async () => {
    const backend = create();
    const raw: RawStmt[] = [scope("moveOnAt", "passed", [cp("sleep0"), cp("yield")])];
    const { program, prediction } = predict(numberProgram(raw, []));
    // A wrong model, for which sleep(0) in a cancelled scope passes.
    const wrong: Prediction = {
      ...prediction,
      events: new Map([...prediction.events].map(([id, list]) => [id, list.map((e) => e.replace("Cancelled", "ok"))])),
    };
    const run = new LibraryRun(backend, wrong);
    const bootstrap = await run.run(program);
    await new Promise<void>((resolve) => setImmediate(resolve));
    const problems = compare(wrong, run.observed(bootstrap), run.seq);
    assert.equal(problems.length, 1);
    assert.match(problems[0], /task 0 trace/);
  });
}
