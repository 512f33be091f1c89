/**
 * The reference model for the model-based property test of the core
 * (`core_model.ts`): the program language, how a generated tree becomes a
 * numbered program, and an interpreter of SPEC sections 2 and 2.1 that predicts
 * everything the test compares. It is written from the written rules and imports
 * nothing of the library.
 *
 * The rules it encodes (SPEC 2 / 2.1, with the project's choices where the SPEC
 * is silent):
 *
 * - Scopes nest. A scope is effectively cancelled when it, or an enclosing scope
 *   up to and including the nearest shielded one (walking outward), was
 *   cancelled. A checkpoint in an effectively cancelled scope rejects with
 *   `CancelledError`, at once or when woken; level-triggered.
 * - A deadline already passed at entry cancels the scope at entry (cause: the
 *   deadline); `handle.deadline = now - 1` later does the same.
 * - A `CancelledError` leaving a scope is caught by it only when the scope is
 *   cancelled itself and no enclosing scope it can see (none when it is shielded
 *   itself, else outward up to and including the nearest shield) is cancelled.
 *   Only the catching scope reports `cancelledCaught`. `moveOn*` then resolves
 *   `undefined`; `timeout*` rejects with a `DOMException` named `TimeoutError`
 *   (deadline) or `AbortError` (`handle.cancel()`), after the first cause.
 * - Task groups: a group scope inside the caller's scope, a task scope per child
 *   inside the group scope. A non-cancellation error of a child or of the body
 *   cancels the group scope; the group waits for every child, then rejects with
 *   the error (several distinct ones: `AggregateError`). Otherwise, when the group
 *   scope is effectively cancelled on leaving (leaving is a checkpoint; a
 *   `CancelledError` that reached the group from the body or a child implies it),
 *   the group scope catches by the rule above (the group resolves the body's
 *   value, or `undefined` when the body threw) or the group rejects with
 *   `CancelledError`. A child ending by `task.cancel()` is caught by its own task
 *   scope and does not affect the group.
 * - `tg.start(fn)` starts the child even in a cancelled scope; `started(v)`
 *   resolves `start()` with `v`; the child ending before that rejects `start()`
 *   with its error, its `CancelledError`, or (returning) an `Error`; such an
 *   ending does not reach the group.
 * - `bootstrap(fn)` runs `fn` as a task under a root scope never cancelled.
 *
 * @module
 */

// ---------------------------------------------------------------------------
// The program language
// ---------------------------------------------------------------------------

/** The scope calls of a `scope` statement (`ignore` is `ignoreCancellation`). */
export type ScopeKind = "moveOnAt" | "moveOnAfter" | "timeoutAt" | "timeout" | "ignore";
/**
 * A scope's deadline: none (`Infinity`), an hour away, already passed (`now - 1`, `*At` kinds only),
 * or {@linkcode SOON_MS} after entry on the mock clock (reached by `tick` statements).
 */
export type Deadline = "none" | "far" | "passed" | "soon";
/** A `soon` deadline: this long after the scope's entry, in virtual ms. */
export const SOON_MS = 20;
/** How far a `tick` moves the mock clock (`clock.jump(TICK_MS)`), in virtual ms. */
export const TICK_MS = 10;
/** `sleep(0)`, `coroYield()` or `sleepForever()`. */
export type CheckpointOp = "sleep0" | "yield" | "forever";

/** A statement of a numbered program; `id` is unique in the program and names what it creates. */
export type Stmt =
  /** A checkpoint. */
  | { t: "cp"; id: number; op: CheckpointOp }
  /** `await backend.<kind>(deadline, async (h) => { if (shield) h.shield = true; ...body })`. */
  | { t: "scope"; id: number; kind: ScopeKind; deadline: Deadline; shield: boolean; body: Stmt[] }
  /** `await backend.createTaskGroup(async (tg) => { ...body })`. */
  | { t: "group"; id: number; body: Stmt[] }
  /** `tg.startSoon(task id)` on the innermost group of this task. */
  | { t: "spawn"; id: number; body: Stmt[] }
  /** `await tg.start(task id)`; only at the top of a group body (or in a `swallow` there). */
  | { t: "start"; id: number; body: Stmt[] }
  /** `status.started("s<id>")`; only at the top of a `start` child's body. */
  | { t: "started"; id: number }
  /** `handle.cancel()` of the enclosing scope `target`. */
  | { t: "cancel"; id: number; target: number }
  /** `handle.deadline = backend.currentTime() - 1` of the enclosing deadline scope `target`. */
  | { t: "expire"; id: number; target: number }
  /** `task.cancel()` of the `spawn` child `target` of this group (if it was spawned). */
  | { t: "cancelTask"; id: number; target: number }
  /** `throw new ProgramError("e<id>")`. */
  | { t: "throw"; id: number }
  /** `clock.jump(TICK_MS)`: every `soon` deadline reached fires. */
  | { t: "tick"; id: number }
  /** `try { ...body } catch (e) { if (!(e instanceof CancelledError)) throw e; }`. */
  | { t: "swallow"; id: number; body: Stmt[] };

/** A numbered program: the body of the task given to `bootstrap`, and the scheduler's choices. */
export interface Program {
  main: Stmt[];
  /** At each scheduling decision with several candidates, the next choice picks one (modulo); 0 when used up. */
  choices: number[];
}

/** A statement as generated, before numbering: references are picks among what is in reach. */
export type RawStmt =
  | { t: "cp"; op: CheckpointOp }
  | { t: "scope"; kind: ScopeKind; deadline: Deadline; shield: boolean; body: RawStmt[] }
  | { t: "group"; body: RawStmt[] }
  | { t: "spawn"; body: RawStmt[] }
  | { t: "start"; body: RawStmt[]; startedAt: number | null }
  | { t: "cancel"; pick: number }
  | { t: "expire"; pick: number }
  | { t: "cancelTask"; pick: number }
  | { t: "throw" }
  | { t: "tick" }
  | { t: "swallow"; body: RawStmt[] };

interface HandleRef {
  id: number;
  deadline: boolean;
}

interface GroupCtx {
  /** The `spawn` children so far, in program order. */
  spawned: number[];
  /** The scopes that enclose a child of this group: those around the group statement, and the group's. */
  childHandles: HandleRef[];
}

interface NumberingCtx {
  /** The active scopes with a handle that enclose this point, outermost first. */
  handles: HandleRef[];
  /** The innermost group whose body this point belongs to, in this task. */
  group: GroupCtx | null;
  /** At the top of a group body (or in a `swallow` there), where `start` may stand. */
  startAllowed: boolean;
  /** In a `start` child before `started()` (or a task it spawned): no `tick`, it could expire the caller's scopes. */
  noTick?: boolean;
}

/**
 * Numbers a generated tree and resolves its references, so that it respects the
 * shape the model relies on:
 *
 * - `cancel`/`expire` name a scope that encloses the statement in the scope tree
 *   (so it is active): scopes of this task, and for a child the group scope and
 *   what encloses the group statement; none of the scopes of the spawning body
 *   that do not enclose the group. Nothing in reach: a `coroYield()` instead.
 * - In a `start` child before `started()`, only the child's own scopes are in
 *   reach: while `start()` waits, nothing may cancel the scope of its caller.
 * - `spawn`/`start` outside a group body become a group of their own; a `start`
 *   that is not at the top of a group body (inside a scope there) too, so that
 *   the caller of `start()` always runs in the group scope itself.
 * - `cancelTask` names an earlier `spawn` of the same group body.
 *
 * @param raw The generated statements of the main task.
 * @param choices The scheduler's choices.
 */
export function numberProgram(raw: RawStmt[], choices: number[]): Program {
  let next = 1;
  const block = (stmts: RawStmt[], ctx: NumberingCtx): Stmt[] => stmts.map((s) => stmt(s, ctx));
  const child = (handles: HandleRef[], noTick?: boolean): NumberingCtx => ({
    handles,
    group: null,
    startAllowed: false,
    noTick,
  });
  const stmt = (s: RawStmt, ctx: NumberingCtx): Stmt => {
    switch (s.t) {
      case "cp":
        return { t: "cp", id: next++, op: s.op };
      case "throw":
        return { t: "throw", id: next++ };
      case "tick":
        return ctx.noTick ? { t: "cp", id: next++, op: "yield" } : { t: "tick", id: next++ };
      case "scope": {
        let kind = s.kind;
        if (s.deadline === "passed" && kind === "moveOnAfter") kind = "moveOnAt";
        if (s.deadline === "passed" && kind === "timeout") kind = "timeoutAt";
        const id = next++;
        const ignore = kind === "ignore";
        const handles = ignore ? ctx.handles : [...ctx.handles, { id, deadline: true }];
        return {
          t: "scope",
          id,
          kind,
          deadline: ignore ? "none" : s.deadline,
          shield: !ignore && s.shield,
          body: block(s.body, { ...ctx, handles, startAllowed: false }),
        };
      }
      case "group": {
        const id = next++;
        const handles = [...ctx.handles, { id, deadline: false }];
        const group: GroupCtx = { spawned: [], childHandles: handles };
        return { t: "group", id, body: block(s.body, { handles, group, startAllowed: true, noTick: ctx.noTick }) };
      }
      case "spawn":
      case "start": {
        const group = ctx.group;
        if (group === null || (s.t === "start" && !ctx.startAllowed)) return stmt({ t: "group", body: [s] }, ctx);
        const id = next++;
        if (s.t === "spawn") {
          group.spawned.push(id);
          return { t: "spawn", id, body: block(s.body, child(group.childHandles, ctx.noTick)) };
        }
        const at = s.startedAt === null ? null : s.startedAt % (s.body.length + 1);
        const body = block(at === null ? s.body : s.body.slice(0, at), child([], true));
        if (at !== null) {
          body.push({ t: "started", id: next++ });
          body.push(...block(s.body.slice(at), child(group.childHandles, ctx.noTick)));
        }
        return { t: "start", id, body };
      }
      case "swallow": {
        const id = next++;
        return { t: "swallow", id, body: block(s.body, ctx) };
      }
      case "cancel":
      case "expire": {
        const inReach = s.t === "cancel" ? ctx.handles : ctx.handles.filter((h) => h.deadline);
        if (inReach.length === 0) return { t: "cp", id: next++, op: "yield" };
        return { t: s.t, id: next++, target: inReach[s.pick % inReach.length].id };
      }
      case "cancelTask": {
        const spawned = ctx.group?.spawned ?? [];
        if (spawned.length === 0) return { t: "cp", id: next++, op: "yield" };
        return { t: "cancelTask", id: next++, target: spawned[s.pick % spawned.length] };
      }
    }
  };
  return { main: block(raw, { handles: [], group: null, startAllowed: false }), choices };
}

/** Returns `program` with the `sleepForever()` statements named in `ids` turned into `sleep(0)`. */
export function demoteForevers(program: Program, ids: ReadonlySet<number>): Program {
  const block = (stmts: Stmt[]): Stmt[] => stmts.map(stmt);
  const stmt = (s: Stmt): Stmt => {
    if (s.t === "cp" && s.op === "forever" && ids.has(s.id)) return { ...s, op: "sleep0" };
    if ("body" in s) return { ...s, body: block(s.body) };
    return s;
  };
  return { main: block(program.main), choices: program.choices };
}

/** A readable listing of a program, for failure reports. */
export function showProgram(program: Program): string {
  const lines: string[] = ["bootstrap(task 0) {"];
  const block = (stmts: Stmt[], depth: number) => {
    for (const s of stmts) stmt(s, depth);
  };
  const stmt = (s: Stmt, depth: number) => {
    const pad = "  ".repeat(depth);
    const open = (text: string, body: Stmt[], close = "}") => {
      lines.push(`${pad}${s.id}: ${text} {`);
      block(body, depth + 1);
      lines.push(`${pad}${close}`);
    };
    switch (s.t) {
      case "cp":
        lines.push(`${pad}${s.id}: ${{ sleep0: "sleep(0)", yield: "coroYield()", forever: "sleepForever()" }[s.op]}`);
        break;
      case "scope": {
        const deadline = s.kind === "ignore" ? "" : `${s.deadline}${s.shield ? ", shield" : ""}`;
        open(`${s.kind === "ignore" ? "ignoreCancellation" : s.kind}(${deadline})`, s.body);
        break;
      }
      case "group":
        open("createTaskGroup", s.body);
        break;
      case "spawn":
        open(`tg.startSoon(task ${s.id})`, s.body);
        break;
      case "start":
        open(`await tg.start(task ${s.id})`, s.body);
        break;
      case "started":
        lines.push(`${pad}${s.id}: started("s${s.id}")`);
        break;
      case "cancel":
        lines.push(`${pad}${s.id}: scope ${s.target}.cancel()`);
        break;
      case "expire":
        lines.push(`${pad}${s.id}: scope ${s.target}.deadline = now - 1`);
        break;
      case "cancelTask":
        lines.push(`${pad}${s.id}: task ${s.target}.cancel()`);
        break;
      case "throw":
        lines.push(`${pad}${s.id}: throw e${s.id}`);
        break;
      case "tick":
        lines.push(`${pad}${s.id}: clock.jump(${TICK_MS})`);
        break;
      case "swallow":
        open("try", s.body, "} catch (CancelledError) {}");
        break;
    }
  };
  block(program.main, 1);
  lines.push("}");
  if (program.choices.length > 0) lines.push(`scheduler choices: [${program.choices.join(", ")}]`);
  return lines.join("\n");
}

// ---------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------

/** An error value in the model (its identity matters: a rethrown error counts once). */
export class MErr {
  /**
   * @param kind `Cancelled`, `test` (a program's own error), `TimeoutError`, `AbortError`,
   *   `Aggregate`, or `Error` (the library's own, from `start()` when the child returned).
   * @param name The program error's name (`e<id>`).
   * @param errors The errors of an `Aggregate`.
   */
  constructor(
    readonly kind: "Cancelled" | "test" | "TimeoutError" | "AbortError" | "Aggregate" | "Error",
    readonly name = "",
    readonly errors: readonly MErr[] = [],
  ) {}
}

/** How a model error is written in traces (the test writes the library's errors the same way). */
export function showMErr(error: MErr): string {
  switch (error.kind) {
    case "test":
      return error.name;
    case "Aggregate":
      return `Aggregate[${error.errors.map(showMErr).sort().join(",")}]`;
    default:
      return error.kind;
  }
}

type Outcome = { ok: string | undefined } | { err: MErr };

function showOutcome(outcome: Outcome): string {
  return "err" in outcome ? showMErr(outcome.err) : `ok:${String(outcome.ok)}`;
}

class MScope {
  cancelled = false;
  cause: "manual" | "deadline" | null = null;
  caught = false;
  active = true;
  /** A `soon` deadline on the virtual clock; `Infinity` otherwise. */
  deadlineAt = Infinity;
  /** For a group scope: the group rejected with errors (its `cancelledCaught` is then not compared). */
  failed = false;

  constructor(readonly id: number, readonly parent: MScope | null, public shield: boolean, readonly kind: string) {}
}

function cancelScope(scope: MScope, cause: "manual" | "deadline"): void {
  if (!scope.active) throw new Error(`model: scope ${scope.id} is cancelled after it exited`);
  if (scope.cancelled) return;
  scope.cancelled = true;
  scope.cause = cause;
}

/** Cancelled itself, or an enclosing scope up to and including the nearest shielded one is. */
function effectivelyCancelled(scope: MScope): boolean {
  for (let s: MScope | null = scope; s !== null; s = s.parent) {
    if (s.cancelled) return true;
    if (s.shield) return false;
  }
  return false;
}

/** Whether `scope` catches a `CancelledError` leaving it (SPEC 2.1 rule 1). */
function catches(scope: MScope): boolean {
  if (!scope.cancelled) return false;
  if (scope.shield) return true;
  for (let s = scope.parent; s !== null; s = s.parent) {
    if (s.cancelled) return false;
    if (s.shield) return true;
  }
  return true;
}

type Request =
  | { kind: "turn"; label: string }
  | {
    kind: "wait";
    label: string;
    /** `sleepForever()`: the statement. */
    forever?: number;
    /** Woken only by being forced next (a group or a `start()` settling). */
    forcedOnly: boolean;
    ready: () => boolean;
    /** Settles the wait when the task gets its turn back; returns the events it records first. */
    settle: () => string[];
  };

class MGroup {
  readonly pending = new Set<MTask>();
  readonly errors: MErr[] = [];
  /** The `spawn` children, in spawn order. */
  readonly children: MTask[] = [];
  bodyDone = false;

  constructor(readonly scope: MScope, readonly owner: MTask) {}
}

class StartRecord {
  settled: Outcome | null = null;

  constructor(readonly waiter: MTask) {}
}

class MTask {
  readonly events: string[] = [];
  done = false;
  endedCancelled = false;
  request!: Request;
  generator!: Generator<Request, string, void>;
  start: StartRecord | null = null;

  constructor(
    readonly id: number,
    readonly scope: MScope,
    readonly group: MGroup | null,
    readonly spawner: MTask | null,
  ) {}
}

/** One turn of the schedule: a task runs from one of its labelled points to the next. */
export interface Turn {
  task: number;
  /** `begin`, a statement id, or `<id>:r` (resuming after a blocking statement). */
  label: string;
  /** How many events the task has recorded when it asks for this turn. */
  eventsBefore: number;
  /** The turn resumes a group or a `start()` that the previous turn settled. */
  forced: boolean;
}

/** The final state of a scope with a handle. */
export interface ScopeState {
  kind: string;
  cancelCalled: boolean;
  cancelledCaught: boolean;
  /** `cause === "deadline"`, for the `TimeoutHandle.expired()` of deadline scopes. */
  expired: boolean;
  /** A group that rejected with errors: its `cancelledCaught` is left unspecified. */
  failed: boolean;
}

/** What the model predicts for a program. */
export interface Prediction {
  turns: Turn[];
  /** Each task's events (turn labels, outcomes, its end), by task id (0: the main task, else the spawning statement). */
  events: Map<number, string[]>;
  /** Scopes with a handle that were entered, by statement id. */
  scopes: Map<number, ScopeState>;
  /** The turn whose step wakes each `sleepForever()` that ran. */
  wakeTurns: Map<number, number>;
  /** How `bootstrap` settles. */
  bootstrap: string;
}

/** The model ran into a state where every task left waits for a `sleepForever()` nothing will wake. */
export interface Deadlock {
  forevers: number[];
}

const MAX_STEPS = 100_000;

class Model {
  readonly tasks: MTask[] = [];
  readonly forced: MTask[] = [];
  readonly pendingStarts: MTask[] = [];
  readonly scopes = new Map<number, MScope>();
  readonly spawned = new Map<number, MTask>();
  readonly turns: Turn[] = [];
  readonly wakeTurns = new Map<number, number>();
  bootstrap: string | null = null;
  /** The mock clock's time, moved by `tick`. */
  now = 0;
  #choice = 0;

  constructor(readonly program: Program) {}

  run(): Prediction | Deadlock {
    const root = new MScope(-1, null, false, "root");
    const main = new MTask(0, new MScope(0, root, false, "task"), null, null);
    this.#begin(main, this.program.main);
    for (let steps = 0;; steps++) {
      if (steps > MAX_STEPS) throw new Error("model: too many steps");
      let task: MTask;
      let forced = false;
      if (this.forced.length > 0) {
        if (this.forced.length > 1) throw new Error("model: two tasks forced at once");
        task = this.forced.shift()!;
        if (task.request.kind !== "wait" || !task.request.ready()) throw new Error("model: a forced task is not ready");
        forced = true;
      } else {
        let candidates = this.tasks.filter((t) => !t.done && this.#ready(t));
        const starting = this.pendingStarts.at(-1);
        if (starting !== undefined) candidates = candidates.filter((t) => this.#within(t, starting));
        if (candidates.length === 0) {
          if (this.tasks.every((t) => t.done)) break;
          const forevers = this.tasks.flatMap((t) =>
            !t.done && t.request.kind === "wait" && t.request.forever !== undefined ? [t.request.forever] : []
          );
          if (forevers.length === 0) throw new Error("model: stuck without a sleepForever() to blame");
          return { forevers };
        }
        task = candidates.length === 1
          ? candidates[0]
          : candidates[(this.program.choices[this.#choice++] ?? 0) % candidates.length];
      }
      const request = task.request;
      if (request.kind === "wait") task.events.push(...request.settle());
      this.turns.push({ task: task.id, label: request.label, eventsBefore: task.events.length, forced });
      task.events.push(request.label);
      this.#step(task);
      this.#noteWakes();
    }
    const scopes = new Map<number, ScopeState>();
    for (const [id, s] of this.scopes) {
      scopes.set(id, {
        kind: s.kind,
        cancelCalled: s.cancelled,
        cancelledCaught: s.caught,
        expired: s.cause === "deadline",
        failed: s.failed,
      });
    }
    return {
      turns: this.turns,
      events: new Map(this.tasks.map((t) => [t.id, t.events])),
      scopes,
      wakeTurns: this.wakeTurns,
      bootstrap: this.bootstrap!,
    };
  }

  #ready(task: MTask): boolean {
    const request = task.request;
    return request.kind === "turn" || (!request.forcedOnly && request.ready());
  }

  /** `task` is `ancestor` or was started (transitively) by it. */
  #within(task: MTask, ancestor: MTask): boolean {
    for (let t: MTask | null = task; t !== null; t = t.spawner) if (t === ancestor) return true;
    return false;
  }

  #noteWakes(): void {
    for (const t of this.tasks) {
      const request = t.request;
      if (t.done || request.kind !== "wait" || request.forever === undefined) continue;
      if (!this.wakeTurns.has(request.forever) && request.ready()) {
        this.wakeTurns.set(request.forever, this.turns.length - 1);
      }
    }
  }

  #begin(task: MTask, body: Stmt[]): void {
    this.tasks.push(task);
    task.generator = this.#taskBody(task, body);
    this.#step(task);
  }

  #step(task: MTask): void {
    let result: IteratorResult<Request, string>;
    try {
      result = task.generator.next();
    } catch (error) {
      this.#finish(task, { err: asMErr(error) });
      return;
    }
    if (result.done) this.#finish(task, { ok: result.value });
    else task.request = result.value;
  }

  *#taskBody(task: MTask, body: Stmt[]): Generator<Request, string, void> {
    yield { kind: "turn", label: "begin" };
    yield* this.#block(task, body, task.scope);
    return `r${task.id}`;
  }

  #finish(task: MTask, outcome: Outcome): void {
    task.done = true;
    task.scope.active = false;
    const cancelled = "err" in outcome && outcome.err.kind === "Cancelled";
    task.endedCancelled = cancelled;
    const caught = cancelled && catches(task.scope);
    if (caught) task.scope.caught = true;
    task.events.push(`end ${showOutcome(outcome)}`);
    const group = task.group;
    if (group === null) {
      this.bootstrap = showOutcome(outcome);
      return;
    }
    group.pending.delete(task);
    const start = task.start;
    if (start !== null && start.settled === null) {
      // Ended before started(): the outcome goes to start(), not to the group.
      start.settled = "err" in outcome ? outcome : { err: new MErr("Error") };
      this.#startSettled(task);
    } else if ("err" in outcome) {
      if (!cancelled) {
        group.errors.push(outcome.err);
        cancelScope(group.scope, "manual");
      } else if (!caught && !effectivelyCancelled(group.scope)) {
        throw new Error(`model: task ${task.id} carried a CancelledError into a group that is not cancelled`);
      }
    }
    if (group.bodyDone && group.pending.size === 0) this.forced.push(group.owner);
  }

  #startSettled(child: MTask): void {
    const index = this.pendingStarts.indexOf(child);
    if (index !== this.pendingStarts.length - 1) throw new Error("model: start() settled out of order");
    this.pendingStarts.pop();
    this.forced.push(child.start!.waiter);
  }

  *#block(task: MTask, stmts: Stmt[], scope: MScope, group: MGroup | null = null): Generator<Request, void, void> {
    for (const s of stmts) {
      yield { kind: "turn", label: String(s.id) };
      yield* this.#stmt(task, s, scope, group);
    }
  }

  *#stmt(task: MTask, s: Stmt, scope: MScope, group: MGroup | null): Generator<Request, void, void> {
    switch (s.t) {
      case "cp": {
        if (s.op === "forever") {
          yield {
            kind: "wait",
            label: `${s.id}:r`,
            forever: s.id,
            forcedOnly: false,
            ready: () => effectivelyCancelled(scope),
            settle: () => [`${s.id} Cancelled`],
          };
          throw new MErr("Cancelled");
        }
        if (effectivelyCancelled(scope)) {
          task.events.push(`${s.id} Cancelled`);
          throw new MErr("Cancelled");
        }
        task.events.push(`${s.id} ok`);
        return;
      }
      case "throw":
        throw new MErr("test", `e${s.id}`);
      case "tick":
        this.now += TICK_MS;
        for (const scope of this.scopes.values()) {
          if (scope.active && scope.deadlineAt <= this.now) cancelScope(scope, "deadline");
        }
        return;
      case "cancel":
        cancelScope(this.#scope(s.target), "manual");
        return;
      case "expire":
        cancelScope(this.#scope(s.target), "deadline");
        return;
      case "cancelTask": {
        const target = this.spawned.get(s.target);
        if (target === undefined) {
          task.events.push(`${s.id} no-task`);
          return;
        }
        const pending = !target.done;
        if (pending) cancelScope(target.scope, "manual");
        task.events.push(`${s.id} cancel()=${pending}`);
        return;
      }
      case "swallow":
        try {
          yield* this.#block(task, s.body, scope, group);
        } catch (error) {
          if (asMErr(error).kind !== "Cancelled") throw error;
          task.events.push(`${s.id} swallowed`);
        }
        return;
      case "scope": {
        const inner = new MScope(s.id, scope, s.kind === "ignore", s.kind);
        if (s.kind !== "ignore") this.scopes.set(s.id, inner);
        if (s.deadline === "passed") cancelScope(inner, "deadline");
        if (s.deadline === "soon") inner.deadlineAt = this.now + SOON_MS;
        if (s.shield) inner.shield = true;
        let outcome: Outcome;
        try {
          yield* this.#block(task, s.body, inner, group);
          outcome = { ok: `v${s.id}` };
        } catch (error) {
          outcome = { err: asMErr(error) };
        }
        inner.active = false;
        if ("err" in outcome && outcome.err.kind === "Cancelled" && catches(inner)) {
          inner.caught = true;
          if (s.kind === "moveOnAt" || s.kind === "moveOnAfter") outcome = { ok: undefined };
          else outcome = { err: new MErr(inner.cause === "deadline" ? "TimeoutError" : "AbortError") };
        }
        task.events.push(`${s.id} => ${showOutcome(outcome)}`);
        if ("err" in outcome) throw outcome.err;
        return;
      }
      case "group": {
        const groupScope = new MScope(s.id, scope, false, "group");
        this.scopes.set(s.id, groupScope);
        const inner = new MGroup(groupScope, task);
        let body: Outcome;
        try {
          yield* this.#block(task, s.body, groupScope, inner);
          body = { ok: `g${s.id}` };
        } catch (error) {
          body = { err: asMErr(error) };
        }
        if ("err" in body && body.err.kind !== "Cancelled") {
          inner.errors.push(body.err);
          cancelScope(groupScope, "manual");
        }
        inner.bodyDone = true;
        if (inner.pending.size === 0) this.forced.push(task);
        let result!: Outcome;
        yield {
          kind: "wait",
          label: `${s.id}:r`,
          forcedOnly: true,
          ready: () => inner.pending.size === 0,
          settle: () => {
            result = this.#leaveGroup(groupScope, inner, body);
            return [
              `${s.id} => ${showOutcome(result)}`,
              ...inner.children.map((c) => `${c.id} done cancelled=${c.endedCancelled}`),
            ];
          },
        };
        if ("err" in result) throw result.err;
        return;
      }
      case "spawn":
      case "start": {
        const child = new MTask(s.id, new MScope(-s.id, group!.scope, false, "task"), group!, task);
        group!.pending.add(child);
        if (s.t === "spawn") {
          this.spawned.set(s.id, child);
          group!.children.push(child);
          this.#begin(child, s.body);
          return;
        }
        const start = new StartRecord(task);
        child.start = start;
        this.pendingStarts.push(child);
        this.#begin(child, s.body);
        yield {
          kind: "wait",
          label: `${s.id}:r`,
          forcedOnly: true,
          ready: () => start.settled !== null,
          settle: () => [`${s.id} => ${showOutcome(start.settled!)}`],
        };
        const settled = start.settled!;
        if ("err" in settled) throw settled.err;
        return;
      }
      case "started": {
        const start = task.start;
        if (start === null || start.settled !== null) throw new Error(`model: started() ${s.id} out of place`);
        start.settled = { ok: `s${s.id}` };
        this.#startSettled(task);
        return;
      }
    }
  }

  /** The group is left (every child ended, the body too): leaving is a checkpoint. */
  #leaveGroup(scope: MScope, group: MGroup, body: Outcome): Outcome {
    scope.active = false;
    const errors = [...new Set(group.errors)];
    if (errors.length > 0) {
      scope.failed = true;
      return { err: errors.length === 1 ? errors[0] : new MErr("Aggregate", "", errors) };
    }
    if (effectivelyCancelled(scope)) {
      if (!catches(scope)) return { err: new MErr("Cancelled") };
      scope.caught = true;
      return "ok" in body ? body : { ok: undefined };
    }
    if ("err" in body) throw new Error("model: the body of a group that is not cancelled ended with CancelledError");
    return body;
  }

  #scope(id: number): MScope {
    const scope = this.scopes.get(id);
    if (scope === undefined) throw new Error(`model: scope ${id} was not entered`);
    return scope;
  }
}

function asMErr(error: unknown): MErr {
  if (error instanceof MErr) return error;
  throw error;
}

/**
 * Runs the model on `program`: its prediction, or the `sleepForever()` statements
 * left waiting when nothing else can run.
 *
 * @param program The program.
 */
export function runModel(program: Program): Prediction | Deadlock {
  return new Model(program).run();
}

/**
 * Runs the model, turning into `sleep(0)` every `sleepForever()` that nothing
 * would wake, until the program runs to its end; returns the program actually
 * meant and its prediction.
 *
 * @param program The numbered program.
 */
export function predict(program: Program): { program: Program; prediction: Prediction } {
  const demoted = new Set<number>();
  for (;;) {
    const result = runModel(program);
    if ("turns" in result) return { program, prediction: result };
    for (const id of result.forevers) demoted.add(id);
    program = demoteForevers(program, demoted);
  }
}
