/**
 * Helpers to run a fixture program in a child process of the running runtime
 * (not an area: registers no test). On Deno the child is `deno run -A
 * --unstable-net <fixture>.ts` with the running Deno; on Node (the npm build)
 * it is `node <fixture>.js` with the running Node, the fixture compiled beside
 * this file. A fixture imports the backend named by its first argument.
 *
 * @module
 */

import { spawn } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** `true` on Deno (the child runs with `deno run`), `false` on Node. */
export const ON_DENO: boolean = "Deno" in globalThis;

/** How a child ended, and what it printed. */
export interface ChildResult {
  /** The exit code, `null` when a signal ended it. */
  code: number | null;
  /** The signal that ended it, if any. */
  signal: string | null;
  /** `true` when it outlived its bound and was killed. */
  killed: boolean;
  /** Its standard output. */
  stdout: string;
  /** Its standard error. */
  stderr: string;
  /** How long it ran, in ms. */
  ms: number;
}

/** Options of {@linkcode runChild}. */
export interface ChildOptions {
  /** Kill the child (SIGKILL) after this many ms; the default is 60 000. */
  bound?: number;
  /** A `sh` command run before the program, e.g. `ulimit -n 64`. */
  prelude?: string;
  /** Once stdout shows `text`, kill the child after `ms` more (a program expected to stay alive). */
  watchAfter?: { text: string; ms: number };
}

/** The command line that runs `fixture` (a `.ts` URL on Deno, `.js` in the npm build) with `args`. */
export function childCommand(fixture: URL, args: readonly string[]): [string, string[]] {
  const path = fileURLToPath(fixture);
  if (ON_DENO) return [process.execPath, ["run", "-A", "--unstable-net", path, ...args]];
  return [process.execPath, [path, ...args]];
}

/**
 * Runs `fixture` in a child process of this runtime and waits for it to end,
 * at most `bound` ms (then kills it): never hangs the suite.
 */
export function runChild(fixture: URL, args: readonly string[], options: ChildOptions = {}): Promise<ChildResult> {
  const [cmd, cmdArgs] = childCommand(fixture, args);
  const argv = options.prelude === undefined
    ? [cmd, cmdArgs] as const
    : ["sh", ["-c", `${options.prelude}; exec "$0" "$@"`, cmd, ...cmdArgs]] as const;
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv[1], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stdout = "";
    let stderr = "";
    let killed = false;
    let watch: ReturnType<typeof setTimeout> | undefined;
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      const after = options.watchAfter;
      if (after !== undefined && watch === undefined && stdout.includes(after.text)) {
        watch = setTimeout(() => {
          killed = true;
          child.kill("SIGKILL");
        }, after.ms);
      }
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => stderr += chunk);
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, options.bound ?? 60_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      clearTimeout(watch);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      clearTimeout(watch);
      resolve({ code, signal, killed, stdout, stderr, ms: performance.now() - start });
    });
  });
}

/** The JSON of the last stdout line of `result` that starts with `prefix ` (fixtures report that way). */
export function report<T>(result: ChildResult, prefix: string): T | undefined {
  const line = result.stdout.split("\n").reverse().find((text) => text.startsWith(`${prefix} `));
  return line === undefined ? undefined : JSON.parse(line.slice(prefix.length + 1)) as T;
}

/** A description of a child run, for assertion messages. */
export function describeChild(result: ChildResult): string {
  const tail = (text: string) => text.trim().split("\n").slice(-15).join("\n");
  return `exit ${result.code} signal ${result.signal}${result.killed ? " (killed at its bound)" : ""} after ` +
    `${Math.round(result.ms)} ms\n--- stdout ---\n${tail(result.stdout)}\n--- stderr ---\n${tail(result.stderr)}`;
}
