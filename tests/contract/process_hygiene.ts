/**
 * Contract tests: process hygiene. Small programs (`tests/fixtures/hygiene_child.ts`)
 * run in child processes of the running runtime (Deno, or Node with the npm
 * build), and the test checks how each ends: exit code, output, no unhandled
 * rejection except the documented one (a system task that fails with nobody
 * joining it), and no hang at exit: every child is bounded and killed past
 * its bound. Leaking an adapter keeps the process alive as the runtime's own
 * socket would (README, "Error model"); those scenarios assert exactly that.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { type ChildResult, describeChild, runChild } from "./child_util.ts";
import { netOptions } from "./net_util.ts";

const FIXTURE = new URL("../fixtures/hygiene_child.ts", import.meta.url);
/** A program that should exit is killed after this long (they take a few hundred ms). */
const EXIT_BOUND = 20_000;
/** How long a program that leaks a socket is watched after its work is done, before it is killed. */
const LEAK_WATCH = 1500;

/** What a scenario must do. */
interface Expectation {
  /** The scenario's name (an argument of the fixture). */
  scenario: string;
  /** Run with the fixture's unhandled-rejection listener. */
  observe?: boolean;
  /** The exit code, or `"alive"`: still running when watched for `LEAK_WATCH` ms. */
  exit: number | "alive";
  /** Text the output (stdout and stderr) must contain. */
  shows?: RegExp[];
  /** Text it must not contain. */
  hides?: RegExp[];
  /** What the test name says. */
  says: string;
}

const UNHANDLED = /unhandled |Uncaught|unhandledRejection|UnhandledPromiseRejection/;

function expectations(name: string): Expectation[] {
  return [
    { scenario: "normal", exit: 0, shows: [/ok normal/], hides: [UNHANDLED], says: "a normal run exits 0" },
    {
      scenario: "normal",
      observe: true,
      exit: 0,
      shows: [/ok normal/],
      hides: [UNHANDLED],
      says: "a normal run has no unhandled rejection",
    },
    {
      scenario: "cancelled",
      observe: true,
      exit: 0,
      shows: [/ok cancelled/],
      hides: [UNHANDLED],
      says: "a run cancelled by its runner's close (system task, pending accept) exits 0, nothing unhandled",
    },
    {
      scenario: "failing",
      exit: 1,
      shows: [/boom from the run/],
      hides: [/ok failing/],
      says: "a failing run fails the program with its error (exit 1)",
    },
    {
      scenario: "unjoined",
      exit: 1,
      shows: [/boom from an unjoined system task/],
      says: "an unjoined failing system task is reported as an unhandled rejection (exit 1 by default)",
    },
    {
      scenario: "unjoined",
      observe: true,
      exit: 0,
      shows: [/unhandled boom from an unjoined system task/, /ok unjoined/],
      says: "an unjoined failing system task reaches the runtime's unhandled-rejection listener",
    },
    {
      scenario: "joined",
      observe: true,
      exit: 0,
      shows: [/ok joined/],
      hides: [UNHANDLED],
      says: "a joined failing system task is not reported",
    },
    {
      scenario: "cancelled-system-task",
      observe: true,
      exit: 0,
      shows: [/ok cancelled-system-task/],
      hides: [UNHANDLED],
      says: "a system task cancelled by the runner's close is not reported",
    },
    {
      scenario: "leaked-stream",
      exit: "alive",
      shows: [/ok leaked-stream/],
      hides: [UNHANDLED],
      says: "a stream left open (a read in flight) keeps the process alive, as the runtime's socket does",
    },
    name === "deno"
      ? {
        scenario: "leaked-listener",
        exit: 0,
        shows: [/ok leaked-listener/],
        hides: [UNHANDLED],
        says: "a listener left open with no accept pending does not keep Deno alive",
      }
      : {
        scenario: "leaked-listener",
        exit: "alive",
        shows: [/ok leaked-listener/],
        hides: [UNHANDLED],
        says: "a listener left open keeps the process alive, as a net.Server does",
      },
  ];
}

function check(result: ChildResult, expected: Expectation): void {
  const child = describeChild(result);
  const output = result.stdout + result.stderr;
  if (expected.exit === "alive") {
    assert.equal(result.killed, true, `expected the program to be still running, it ended:\n${child}`);
  } else {
    assert.equal(result.killed, false, `the program hung at exit:\n${child}`);
    assert.equal(result.code, expected.exit, `exit code:\n${child}`);
  }
  for (const text of expected.shows ?? []) assert.match(output, text, `the output should show ${text}:\n${child}`);
  for (const text of expected.hides ?? []) {
    assert.doesNotMatch(output, text, `the output should not show ${text}:\n${child}`);
  }
}

/** Registers this area's tests for `backend`. */
export function register({ name }: BackendUnderTest): void {
  for (const expected of expectations(name)) {
    test(`${name}: hygiene: ${expected.says}`, async () => {
      const args = [name, expected.scenario, ...(expected.observe ? ["observe"] : [])];
      const watchAfter = expected.exit === "alive" ? { text: `ok ${expected.scenario}`, ms: LEAK_WATCH } : undefined;
      check(await runChild(FIXTURE, args, { bound: EXIT_BOUND, watchAfter }), expected);
    }, netOptions(name));
  }
}
