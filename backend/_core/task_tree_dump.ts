/**
 * Dumping the caller's task tree: on request, and on an OS signal (opt-in).
 *
 * @module
 */

import type { TaskTree } from "../abc/diagnostics.ts";
import type { SignalReceiver } from "../abc/signals.ts";
import type { SystemTask } from "../abc/tasks.ts";
import { callerRunState, type RunState } from "./runner.ts";
import { formatTaskTree } from "./task_tree.ts";

/** Where a dump goes: `console.error` by default. */
export type DumpWriter = (text: string) => void;

const toStderr: DumpWriter = (text) => console.error(text);

/** A snapshot of the caller's runner's tasks. */
export function taskTree(): TaskTree {
  return callerRunState("taskTree").taskTree();
}

/**
 * Writes the caller's task tree and returns its text.
 *
 * @param write Where the text goes.
 */
export function dumpTaskTree(write: DumpWriter = toStderr): string {
  const text = formatTaskTree(callerRunState("dumpTaskTree").taskTree());
  write(text);
  return text;
}

/**
 * Starts a system task of the caller's runner that writes the task tree each
 * time one of the receiver's signals arrives, until the runner closes.
 *
 * @param open Opens the signal receiver (after the caller's runner was checked).
 * @param write Where each dump goes.
 */
export function dumpTaskTreeOnSignal(open: () => SignalReceiver, write: DumpWriter = toStderr): SystemTask<void> {
  if (typeof write !== "function") throw new TypeError(`The 'write' argument must be a function, got ${typeof write}`);
  const runner = callerRunState("dumpTaskTreeOnSignal");
  if (runner.closed) throw new Error("Cannot call dumpTaskTreeOnSignal(): the runner is closed");
  const receiver = open();
  try {
    return runner.spawn(dumpTaskTreeOnSignalLoop, [runner, receiver, write], true);
  } catch (error) {
    receiver.close();
    throw error;
  }
}

async function dumpTaskTreeOnSignalLoop(runner: RunState, receiver: SignalReceiver, write: DumpWriter): Promise<void> {
  try {
    for await (const _signal of receiver) write(formatTaskTree(runner.taskTree()));
  } finally {
    receiver.close();
  }
}
