/**
 * The task tree: a snapshot of a runner's live tasks, the cancel scopes each
 * entered and the checkpoints each waits at, as plain data, and its text form.
 *
 * ## Where a task waits, at no cost to the wait
 *
 * Every checkpoint registers a waiter on the innermost scope of its task (that
 * is how cancellation reaches it), and the scopes of a runner form a tree under
 * its root. So the snapshot walks that tree, and each waiter says what it waits
 * for: a wait queue is made for one purpose (a lock's, an event's), a reusable
 * socket slot for one direction, and a `suspend()` call names its kind. Nothing
 * is recorded while tasks run; the cost is all in the snapshot.
 *
 * What it cannot see: a task that awaits a promise the library does not know
 * (a `fetch()` outside `waitFuture`), or that is runnable (yielding, not started
 * yet), has no waiter, and shows as waiting at nothing.
 *
 * @module
 */

import type { TaskTree, TaskTreeScope, TaskTreeTask } from "../abc/diagnostics.ts";
import type { CancelScope } from "./cancel_scope.ts";
import { TaskCore } from "./task.ts";

/**
 * Takes a snapshot of the tasks under a runner's root scope.
 *
 * @param root The runner's root scope.
 * @param now The runner's clock.
 */
export function collectTaskTree(root: CancelScope, now: number): TaskTree {
  const tasks: TaskTreeTask[] = [];
  root.inspect((child) => {
    const node = taskNode(child);
    if (node !== undefined) tasks.push(node);
  }, () => {});
  return { now, tasks };
}

/** The node of the task whose own scope is `scope`; `undefined` when `scope` is no task's own. */
function taskNode(scope: CancelScope): TaskTreeTask | undefined {
  const task = scope.task;
  if (!(task instanceof TaskCore) || task.scope !== scope) return undefined;
  const id = task.id; // before the children: ids in the order of the tree
  const walk: Walk = { task, waits: [], innermost: scope, innermostWaits: false, deepest: 0 };
  const { scopes } = contents(scope, walk, 0);
  const innermost = walk.innermost;
  const node: TaskTreeTask = {
    id,
    name: task.name,
    waitingAt: walk.waits,
    deadline: innermost.effectiveDeadline(),
    cancelled: innermost.isCancelled(),
    scopes,
  };
  return task.stack === undefined ? node : { ...node, stack: userFrames(task.stack) };
}

// The library's own files (`backend/`): the frames of a stack before the caller's.
const LIBRARY = typeof import.meta.url === "string" ? new URL("..", import.meta.url).href : undefined;

/** The frames of a task's creation stack outside the library and the runtime, one per line. */
function userFrames(stack: string): string {
  const frames = stack.split("\n").slice(1).map((frame) => frame.trim());
  const own = frames.filter((frame) =>
    !(LIBRARY !== undefined && frame.includes(LIBRARY)) && !frame.includes("(ext:") && !frame.includes("(node:")
  );
  return (own.length > 0 ? own : frames).join("\n");
}

interface Walk {
  readonly task: TaskCore<unknown>;
  readonly waits: string[];
  /** The deepest scope of the task seen so far, preferring one where the task waits. */
  innermost: CancelScope;
  innermostWaits: boolean;
  deepest: number;
}

function contents(scope: CancelScope, walk: Walk, depth: number): { tasks: TaskTreeTask[]; scopes: TaskTreeScope[] } {
  const tasks: TaskTreeTask[] = [];
  const scopes: TaskTreeScope[] = [];
  let waits = false;
  scope.inspect((child) => {
    if (child.task === walk.task) scopes.push(scopeNode(child, walk, depth + 1));
    else {
      // A child task; a scope of another task linked here (a portal call's) is that task's business.
      const node = taskNode(child);
      if (node !== undefined) tasks.push(node);
    }
  }, (waiter) => {
    walk.waits.push(waiter.waitKind);
    waits = true;
  });
  if (waits ? !walk.innermostWaits || depth >= walk.deepest : !walk.innermostWaits && depth > walk.deepest) {
    walk.innermost = scope;
    walk.innermostWaits = waits;
    walk.deepest = depth;
  }
  return { tasks, scopes };
}

function scopeNode(scope: CancelScope, walk: Walk, depth: number): TaskTreeScope {
  const { tasks, scopes } = contents(scope, walk, depth);
  return { deadline: scope.deadline, shield: scope.shield, cancelled: scope.cancelCalled, tasks, scopes };
}

/**
 * The text form of a task tree: one line per task and per scope, drawn as a
 * tree, with stacks in debug mode.
 *
 * @param tree The snapshot.
 */
export function formatTaskTree(tree: TaskTree): string {
  const lines: string[] = [];
  let count = 0;
  const until = (deadline: number): string =>
    deadline === -Infinity ? "cancelled" : `deadline in ${Math.max(0, Math.round(deadline - tree.now))} ms`;
  const task = (node: TaskTreeTask, lead: string, rest: string): void => {
    count++;
    const facts = [node.waitingAt.length > 0 ? `waiting at ${node.waitingAt.join(", ")}` : "not at a checkpoint"];
    if (node.deadline !== Infinity) facts.push(until(node.deadline));
    else if (node.cancelled) facts.push("cancelled");
    lines.push(`${lead}task #${node.id} ${node.name} (${facts.join("; ")})`);
    if (node.stack !== undefined) {
      const bar = node.scopes.length > 0 ? "│" : " ";
      for (const frame of node.stack.split("\n")) lines.push(`${rest}${bar}  ${frame}`);
    }
    children(node.scopes, [], rest);
  };
  const scope = (node: TaskTreeScope, lead: string, rest: string): void => {
    const facts: string[] = [];
    if (node.tasks.length > 0) facts.push(`task group of ${node.tasks.length}`);
    if (node.deadline !== Infinity) facts.push(`deadline in ${Math.max(0, Math.round(node.deadline - tree.now))} ms`);
    if (node.shield) facts.push("shielded");
    if (node.cancelled) facts.push("cancelled");
    lines.push(`${lead}scope${facts.length > 0 ? ` (${facts.join("; ")})` : ""}`);
    children(node.scopes, node.tasks, rest);
  };
  const children = (scopes: readonly TaskTreeScope[], tasks: readonly TaskTreeTask[], rest: string): void => {
    const all: (TaskTreeScope | TaskTreeTask)[] = [...scopes, ...tasks];
    all.forEach((node, index) => {
      const last = index === all.length - 1;
      const lead = rest + (last ? "└─ " : "├─ ");
      const next = rest + (last ? "   " : "│  ");
      if ("name" in node) task(node, lead, next);
      else scope(node, lead, next);
    });
  };
  for (const node of tree.tasks) task(node, "", "");
  return [`Task tree (${count} tasks)`, ...lines].join("\n");
}
