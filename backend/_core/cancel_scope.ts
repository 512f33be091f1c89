/**
 * Cancel scopes: nesting, shielding, level-triggered delivery and deadlines.
 *
 * ## A checkpoint is O(1) at any depth
 *
 * Walking the chain to learn whether a checkpoint's scope is cancelled made a
 * checkpoint at depth 1,000 cost 4–10× one at depth 1 (`core_bench.ts`). As in
 * Trio, each scope of the live tree ("tracked": entered under a tracked parent,
 * not exited) keeps whether it is effectively cancelled, set on entering, on
 * delivery (which walks the subtree anyway) and on a shield toggle (subtree
 * recomputed); exiting untracks the live scopes left inside (normally none).
 * Untracked scopes walk. A deadline that passed while its timer could not fire
 * is caught by {@linkcode CancelScope.isCancelledNow} where it matters.
 *
 * @module
 */

import type { TimeoutHandle } from "../abc/cancel_scope.ts";
import type { Task } from "../abc/tasks.ts";
import { CancelledError } from "../errors.ts";
import { ContextVariable } from "./context.ts";
import { type DeadlineEntry, queueOf, type ScopeRunState } from "./deadline_queue.ts";
import { type Waiter, WaiterList } from "./waiter.ts";

export { CallbackWaiter, Waiter } from "./waiter.ts";
export type { ScopeRunState } from "./deadline_queue.ts";

/** The flags of a scope. The cause of its cancellation (`Manual`, `Deadline`) is in the `Cause` bits. */
const enum F {
  Manual = 1,
  Deadline = 2,
  Cause = 3,
  Shield = 4,
  /** It caught its own cancellation. */
  Caught = 8,
  Entered = 16,
  Exited = 32,
  /** In the live tree: `Effective` is kept up to date. */
  Tracked = 64,
  /** Tracked scopes: this or an unshielded enclosing scope is cancelled. */
  Effective = 128,
}

/** The innermost cancel scope of the current task, carried across `await`. */
export const currentScopeVar: ContextVariable<CancelScope> = new ContextVariable<CancelScope>();

/** Returns the innermost cancel scope of the caller, if any. */
export function currentScope(): CancelScope | undefined {
  return currentScopeVar.get();
}

/**
 * A cancel scope. Scopes form a tree: the root scope of a runner, task scopes,
 * group scopes and timeout scopes. The innermost scope of the running code is
 * the value of {@linkcode currentScopeVar}.
 */
export class CancelScope extends WaiterList implements TimeoutHandle, DeadlineEntry {
  /** The enclosing scope, `null` for a root. */
  parent: CancelScope | null;
  /** The runner this scope belongs to, `null` outside any runner. */
  loop: ScopeRunState | null;
  /** The task that runs this scope's code (an opaque identity for lock ownership). */
  task: object | null;
  /** Position in the deadline queue; owned by the queue. */
  heapIndex = -1;
  /** The cause of the cancellation (`F.Cause` bits) and the flags: one field, a smaller object. */
  #flags = 0;
  #reason: unknown = undefined;
  #deadline = Infinity;
  // The entered scopes inside this one, in entering order (intrusive: no allocation).
  #firstChild: CancelScope | null = null;
  #lastChild: CancelScope | null = null;
  #prevSibling: CancelScope | null = null;
  #nextSibling: CancelScope | null = null;
  #controller: AbortController | null = null;

  /**
   * @param parent The enclosing scope.
   * @param task The task running the scope (defaults to the parent's).
   * @param shield Whether the scope starts shielded.
   * @param loop The runner (defaults to the parent's).
   */
  constructor(
    parent: CancelScope | null,
    task: object | null = parent?.task ?? null,
    shield = false,
    loop: ScopeRunState | null = parent?.loop ?? null,
  ) {
    super();
    this.parent = parent;
    this.task = task;
    if (shield) this.#flags = F.Shield;
    this.loop = loop;
  }

  /** Cancels the scope (see {@linkcode TimeoutHandle.cancel}). */
  cancel(reason?: unknown): void {
    this.#cancel(F.Manual, reason);
  }

  /** `true` once the scope was cancelled. */
  get cancelCalled(): boolean {
    return (this.#flags & F.Cause) !== 0;
  }

  /** `true` once the scope caught its own cancellation. */
  get cancelledCaught(): boolean {
    return (this.#flags & F.Caught) !== 0;
  }

  /** Whether enclosing cancellations are kept out. */
  get shield(): boolean {
    return (this.#flags & F.Shield) !== 0;
  }

  set shield(value: boolean) {
    if (typeof value !== "boolean") {
      throw new TypeError(`The 'shield' value must be a boolean, got ${typeof value}`);
    }
    const was = (this.#flags & F.Shield) !== 0;
    this.#flags = value ? this.#flags | F.Shield : this.#flags & ~F.Shield;
    if ((this.#flags & F.Tracked) === 0) {
      const live = (this.#flags & (F.Entered | F.Exited)) === F.Entered;
      if (was && !value && live && this.isCancelled()) this.#deliver();
      return;
    }
    const parent = this.parent;
    const effective = (this.#flags & F.Cause) !== 0 ||
      (!value && parent !== null && (parent.#flags & F.Effective) !== 0);
    if (effective === ((this.#flags & F.Effective) !== 0)) return;
    if (effective) this.#deliver();
    else this.#clearEffective();
  }

  /** An `AbortSignal` aborted when the scope is cancelled. */
  get signal(): AbortSignal {
    if (this.#controller === null) {
      this.#controller = new AbortController();
      const exited = (this.#flags & F.Exited) !== 0;
      if (exited ? (this.#flags & F.Cause) !== 0 : this.isCancelled()) {
        this.#controller.abort(
          exited ? new CancelledError(undefined, { reason: this.#reason }) : this.cancelledError(),
        );
      }
    }
    return this.#controller.signal;
  }

  /** Returns the deadline, `Infinity` if none. */
  when(): number {
    return this.#deadline;
  }

  /** Moves the deadline (see {@linkcode TimeoutHandle.reschedule}). */
  reschedule(deadline: number): void {
    if (typeof deadline !== "number" || Number.isNaN(deadline)) {
      throw new RangeError(`The 'deadline' argument must be a number, got ${String(deadline)}`);
    }
    this.#deadline = deadline;
    if ((this.#flags & (F.Entered | F.Exited | F.Cause)) !== F.Entered) return;
    this.#syncDeadline();
  }

  /** `true` when the deadline cancelled the scope. */
  expired(): boolean {
    return (this.#flags & F.Cause) === F.Deadline;
  }

  /** The deadline, read-write. */
  get deadline(): number {
    return this.#deadline;
  }

  set deadline(value: number) {
    this.reschedule(value);
  }

  /** The deadline as the queue reads it. */
  get deadlineValue(): number {
    return this.#deadline;
  }

  /** Called by the deadline queue. */
  deadlineReached(): void {
    this.#cancel(F.Deadline);
  }

  /** `true` when a checkpoint in this scope must reject: this or an unshielded enclosing scope is cancelled. */
  isCancelled(): boolean {
    if ((this.#flags & F.Tracked) !== 0) return (this.#flags & F.Effective) !== 0;
    // deno-lint-ignore no-this-alias
    let scope: CancelScope | null = this;
    do {
      if ((scope.#flags & F.Cause) !== 0) return true;
      if ((scope.#flags & F.Shield) !== 0) return false;
      scope = scope.parent;
    } while (scope !== null);
    return false;
  }

  /** Before {@linkcode enter}: sets the parent (and its task and runner) of a standalone scope, made without one. */
  bind(parent: CancelScope | null): void {
    this.parent = parent;
    this.task = parent?.task ?? null;
    this.loop = parent?.loop ?? null;
  }

  /**
   * Links the scope into the tree and arms its deadline. Call once, before running its code.
   *
   * @param now The clock of the scope's runner, when the caller has just read it: saves reading it again.
   */
  enter(now?: number): void {
    this.#flags |= F.Entered;
    const parent = this.parent;
    if (parent === null) {
      this.#flags |= (this.#flags & F.Cause) !== 0 ? F.Tracked | F.Effective : F.Tracked;
    } else if ((parent.#flags & F.Exited) === 0) {
      parent.#link(this);
      if ((parent.#flags & F.Tracked) !== 0) {
        const effective = (this.#flags & F.Cause) !== 0 ||
          ((this.#flags & F.Shield) === 0 && (parent.#flags & F.Effective) !== 0);
        this.#flags |= effective ? F.Tracked | F.Effective : F.Tracked;
      }
    }
    if (this.#deadline !== Infinity && (this.#flags & F.Cause) === 0) this.#syncDeadline(now);
    // A signal read before entering (a standalone scope's) learns of a cancelled enclosing scope.
    const controller = this.#controller;
    if (controller !== null && !controller.signal.aborted && this.isCancelled()) {
      controller.abort(this.cancelledError());
    }
  }

  /** Unlinks the scope and disarms its deadline; nothing reaches it afterwards. */
  exit(): void {
    this.#flags |= F.Exited;
    if ((this.#flags & F.Tracked) !== 0) this.#untrack();
    if (this.heapIndex >= 0) queueOf(this).remove(this);
    const parent = this.parent;
    if (parent !== null && (this.#prevSibling !== null || parent.#firstChild === this)) parent.#unlink(this);
  }

  /** Leaves the live tree with every live scope inside (none, when scopes nest as they should). */
  #untrack(): void {
    this.#flags &= ~F.Tracked;
    for (let child = this.#firstChild; child !== null; child = child.#nextSibling) {
      if ((child.#flags & F.Tracked) !== 0) child.#untrack();
    }
  }

  /** A shield raised in a cancelled chain: this scope and the unshielded, uncancelled ones inside are not cancelled any more. */
  #clearEffective(): void {
    this.#flags &= ~F.Effective;
    for (let child = this.#firstChild; child !== null; child = child.#nextSibling) {
      if ((child.#flags & (F.Tracked | F.Shield | F.Cause)) === F.Tracked) child.#clearEffective();
    }
  }

  #link(child: CancelScope): void {
    const last = this.#lastChild;
    child.#prevSibling = last;
    if (last === null) this.#firstChild = child;
    else last.#nextSibling = child;
    this.#lastChild = child;
  }

  /** Unlinks `child`, leaving its `#nextSibling` so that a {@linkcode #deliver} loop standing on it goes on. */
  #unlink(child: CancelScope): void {
    const prev = child.#prevSibling;
    const next = child.#nextSibling;
    if (prev === null) this.#firstChild = next;
    else prev.#nextSibling = next;
    if (next === null) this.#lastChild = prev;
    else next.#prevSibling = prev;
    child.#prevSibling = null;
  }

  /**
   * Decides whether this scope catches `error`, which ended its body (SPEC 2.1
   * rule 1): it does when `error` is a `CancelledError`, this scope was cancelled,
   * and no enclosing scope it can see (up to the nearest shield) is cancelled too;
   * otherwise the error belongs to an outer scope and keeps propagating.
   */
  catches(error: unknown): boolean {
    if ((this.#flags & F.Cause) === 0 || !(error instanceof CancelledError)) return false;
    if ((this.#flags & F.Shield) === 0 && this.parent !== null && this.parent.isCancelledNow()) return false;
    this.#flags |= F.Caught;
    return true;
  }

  /**
   * Like {@linkcode isCancelled}, but first cancels every scope of the visible
   * chain whose deadline has passed while its timer could not fire (the task kept
   * the loop busy, or every checkpoint rejected at once in a cancelled inner
   * scope). Used where a cancellation is decided, so an outer deadline is never
   * lost to an inner cancellation.
   */
  isCancelledNow(): boolean {
    let now = NaN;
    // deno-lint-ignore no-this-alias
    let scope: CancelScope | null = this;
    do {
      if ((scope.#flags & (F.Cause | F.Entered | F.Exited)) === F.Entered && scope.#deadline !== Infinity) {
        if (Number.isNaN(now)) now = queueOf(scope).now();
        if (scope.#deadline <= now) scope.#cancel(F.Deadline);
      }
      if ((scope.#flags & F.Cause) !== 0) return true;
      if ((scope.#flags & F.Shield) !== 0) return false;
      scope = scope.parent;
    } while (scope !== null);
    return false;
  }

  /**
   * A `CancelledError` for a checkpoint in this scope, carrying the reason of the
   * scope that will catch it: the outermost cancelled scope up to the nearest shield.
   */
  cancelledError(): CancelledError {
    let reason: unknown = undefined;
    // deno-lint-ignore no-this-alias
    let scope: CancelScope | null = this;
    do {
      if ((scope.#flags & F.Cause) !== 0) reason = scope.#reason;
      if ((scope.#flags & F.Shield) !== 0) break;
      scope = scope.parent;
    } while (scope !== null);
    return new CancelledError(undefined, { reason });
  }

  /**
   * The earliest deadline of this scope and its enclosing scopes up to the
   * nearest shield (included); `-Infinity` when one of them is cancelled.
   */
  effectiveDeadline(): number {
    let deadline = Infinity;
    // deno-lint-ignore no-this-alias
    let scope: CancelScope | null = this;
    do {
      if ((scope.#flags & F.Cause) !== 0) return -Infinity;
      if (scope.#deadline < deadline) deadline = scope.#deadline;
      if ((scope.#flags & F.Shield) !== 0) break;
      scope = scope.parent;
    } while (scope !== null);
    return deadline;
  }

  /**
   * For diagnostics (the task tree): calls `onScope` for every entered scope
   * directly inside this one and `onWaiter` for every checkpoint pending in it.
   */
  inspect(onScope: (scope: CancelScope) => void, onWaiter: (waiter: Waiter) => void): void {
    for (let child = this.#firstChild; child !== null; child = child.#nextSibling) onScope(child);
    for (let waiter = this.firstWaiter; waiter !== null; waiter = waiter.nextWaiter) onWaiter(waiter);
  }

  #syncDeadline(now?: number): void {
    const queue = queueOf(this);
    if (this.#deadline <= (now ?? queue.now())) {
      this.#cancel(F.Deadline);
      return;
    }
    if (this.#deadline === Infinity) queue.remove(this);
    else queue.update(this);
  }

  #cancel(cause: F, reason?: unknown): void {
    if ((this.#flags & F.Cause) !== 0) return;
    this.#flags |= cause;
    this.#reason = reason;
    const instruments = this.loop?.instruments;
    if (instruments != null) {
      instruments.scopeCancelled(() => ({
        task: (this.task ?? undefined) as Task<unknown> | undefined,
        expired: cause === F.Deadline,
        reason,
        deadline: this.#deadline,
      }));
    }
    if (this.heapIndex >= 0) queueOf(this).remove(this);
    // Before entering, only a signal already read can be waiting.
    if ((this.#flags & F.Entered) !== 0 ? (this.#flags & F.Exited) === 0 : this.#controller !== null) this.#deliver();
  }

  /** Wakes every checkpoint pending in this scope and in unshielded scopes inside it. */
  #deliver(): void {
    this.#flags |= F.Effective;
    const controller = this.#controller;
    if (controller !== null && !controller.signal.aborted) controller.abort(this.cancelledError());
    // From the head each time: an abort may unregister other waiters.
    for (let waiter = this.firstWaiter; waiter !== null; waiter = this.firstWaiter) {
      this.removeWaiter(waiter);
      waiter.abort(this.cancelledError());
    }
    for (let child = this.#firstChild; child !== null; child = child.#nextSibling) {
      if ((child.#flags & (F.Exited | F.Shield | F.Cause)) === 0) child.#deliver();
    }
  }
}
