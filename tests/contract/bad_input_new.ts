/**
 * Contract tests: the bad-input table of the core APIs of issue 14:
 * `createSemaphore`, `createCapacityLimiter` (its `totalTokens` setter, bad
 * borrowers, a release by a non-borrower), `Lock.tryAcquire`,
 * `Condition.waitFor`, `createMemoryChannel` (closed ends and their clones, a
 * full or empty channel, a channel with no other side), `openCancelScope` (bad
 * options, running twice, re-entrant `run`), `currentEffectiveDeadline` outside
 * a run and `openSignalReceiver`. Each row must answer with a `TypeError` or
 * `RangeError` naming the argument, or the documented error (README, "Error
 * model"), never a hang, a crash or an unhandled rejection. The networking
 * rows of issue 14 are in `bad_input_new_net.ts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { CancelScope } from "../../backend/abc/cancel_scope.ts";
import type { MemoryReceiveChannel, MemorySendChannel } from "../../backend/abc/channel.ts";
import type { SignalReceiver } from "../../backend/abc/signals.ts";
import type { CapacityLimiter, Condition, Lock, Semaphore } from "../../backend/abc/sync.ts";
import { BrokenResourceError, ClosedResourceError, EndOfChannel, WouldBlock } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { report, type Row, runTable, wrong } from "./bad_input_util.ts";
import type { ErrorClass } from "./core_util.ts";

/** The objects the rows use. */
interface New {
  b: AsyncBackend;
  /** A semaphore at its max (1). */
  fullSemaphore: Semaphore;
  /** A limiter of 2 tokens; `borrower` holds one. */
  limiter: CapacityLimiter;
  borrower: object;
  /** A lock held by the task that runs the rows. */
  heldLock: Lock;
  condition: Condition;
  /** A send clone and a receive clone that were closed; their originals are open. */
  closedSend: MemorySendChannel<number>;
  closedReceive: MemoryReceiveChannel<number>;
  /** A channel of one slot, full. */
  fullSend: MemorySendChannel<number>;
  /** A channel with an empty buffer whose send end is open. */
  emptyReceive: MemoryReceiveChannel<number>;
  /** Ends whose other side is wholly closed. */
  brokenSend: MemorySendChannel<number>;
  endedReceive: MemoryReceiveChannel<number>;
  /** A standalone scope that ran. */
  ranScope: CancelScope;
  /** What `currentEffectiveDeadline()` returned outside any run. */
  outsideDeadline: number;
  closedSignals: SignalReceiver;
}

const fn = () => 1;
const row = <C>(
  what: string,
  call: (c: C) => unknown,
  error: ErrorClass | "value",
  names?: RegExp,
  how?: "throws" | "rejects",
): Row<C> => ({ what, call, error, names, how });
/** Bad counts: a string, NaN, negative and fractional numbers. */
const BAD_COUNTS: [string, unknown, ErrorConstructor][] = [
  ['"1"', "1", TypeError],
  ["null", null, TypeError],
  ["NaN", NaN, RangeError],
  ["-1", -1, RangeError],
  ["1.5", 1.5, RangeError],
];

const ROWS: Row<New>[] = [
  // ---- createSemaphore ----
  ...BAD_COUNTS.map(([t, v, e]) =>
    row<New>(`createSemaphore(${t})`, (c) => c.b.createSemaphore(wrong(v)), e, /'initial'/, "throws")
  ),
  row("createSemaphore(Infinity)", (c) => c.b.createSemaphore(Infinity), RangeError, /'initial'/, "throws"),
  row('createSemaphore(1, "x")', (c) => c.b.createSemaphore(1, wrong("x")), TypeError, /'options'/, "throws"),
  row('createSemaphore(1, { max: "2" })', (c) => c.b.createSemaphore(1, { max: wrong("2") }), TypeError, /'max'/),
  row("createSemaphore(2, { max: 1 })", (c) => c.b.createSemaphore(2, { max: 1 }), RangeError, /'max'/, "throws"),
  row("createSemaphore(1, { max: 1.5 })", (c) => c.b.createSemaphore(1, { max: 1.5 }), RangeError, /'max'/),
  row("createSemaphore(1, { max: NaN })", (c) => c.b.createSemaphore(1, { max: NaN }), RangeError, /'max'/),
  row(
    "createSemaphore(1, { maximum: 2 }) (an unknown option)",
    (c) => c.b.createSemaphore(1, wrong({ maximum: 2 })),
    TypeError,
    /'maximum'/,
    "throws",
  ),
  row("createSemaphore(0, { max: Infinity })", (c) => c.b.createSemaphore(0, { max: Infinity }), "value"),
  row("semaphore.release() beyond its max", (c) => c.fullSemaphore.release(), RangeError, /release/, "throws"),
  // ---- createCapacityLimiter ----
  ...BAD_COUNTS.map(([t, v, e]) =>
    row<New>(`createCapacityLimiter(${t})`, (c) => c.b.createCapacityLimiter(wrong(v)), e, /'totalTokens'/, "throws")
  ),
  row("createCapacityLimiter(0)", (c) => c.b.createCapacityLimiter(0), RangeError, /'totalTokens'/, "throws"),
  row("createCapacityLimiter(Infinity)", (c) => c.b.createCapacityLimiter(Infinity), "value"),
  ...[...BAD_COUNTS, ["0", 0, RangeError] as [string, unknown, ErrorConstructor]].map(([t, v, e]) =>
    row<New>(
      `limiter.totalTokens = ${t}`,
      (c) => void (c.limiter.totalTokens = wrong(v)),
      e,
      /'totalTokens'/,
      "throws",
    )
  ),
  ...([["null", null], ["42", 42], ['"job"', "job"], ["undefined", undefined]] as const).map(([t, v]) =>
    row<New>(
      `limiter.acquireOnBehalfOf(${t})`,
      (c) => c.limiter.acquireOnBehalfOf(wrong(v)),
      TypeError,
      /'borrower'/,
      "rejects",
    )
  ),
  row("limiter.tryAcquireOnBehalfOf(7)", (c) => c.limiter.tryAcquireOnBehalfOf(wrong(7)), TypeError, /'borrower'/),
  row("limiter.releaseOnBehalfOf(null)", (c) => c.limiter.releaseOnBehalfOf(wrong(null)), TypeError, /'borrower'/),
  row(
    "limiter.acquireOnBehalfOf(a borrower that holds a token)",
    (c) => c.limiter.acquireOnBehalfOf(c.borrower),
    Error,
    /already holds/,
    "rejects",
  ),
  row(
    "limiter.tryAcquireOnBehalfOf(a borrower that holds a token)",
    (c) => c.limiter.tryAcquireOnBehalfOf(c.borrower),
    Error,
    /already holds/,
    "throws",
  ),
  row(
    "limiter.releaseOnBehalfOf(a non-borrower)",
    (c) => c.limiter.releaseOnBehalfOf({}),
    Error,
    /release.*holds none/,
    "throws",
  ),
  row("limiter.release() by a task that borrows nothing", (c) => c.limiter.release(), Error, /release/, "throws"),
  // ---- Lock.tryAcquire, Condition.waitFor ----
  row("lock.tryAcquire() by the task that holds it", (c) => c.heldLock.tryAcquire(), Error, /already holds/, "throws"),
  row("condition.waitFor(42)", (c) => c.condition.waitFor(wrong(42)), TypeError, /'predicate'/, "rejects"),
  row("condition.waitFor(fn) without the lock", (c) => c.condition.waitFor(fn), Error, /waitFor\(\)/, "rejects"),
  // ---- createMemoryChannel ----
  ...BAD_COUNTS.map(([t, v, e]) =>
    row<New>(`createMemoryChannel(${t})`, (c) => c.b.createMemoryChannel(wrong(v)), e, /'maxBufferSize'/, "throws")
  ),
  row("createMemoryChannel(Infinity)", (c) => c.b.createMemoryChannel(Infinity), "value"),
  row("send() on a closed send clone", (c) => c.closedSend.send(1), ClosedResourceError, /closed/, "rejects"),
  row("sendNowait() on a closed send clone", (c) => c.closedSend.sendNowait(1), ClosedResourceError, /closed/),
  row("clone() of a closed send end", (c) => c.closedSend.clone(), ClosedResourceError, /closed/, "throws"),
  row("receive() on a closed receive clone", (c) => c.closedReceive.receive(), ClosedResourceError, /closed/),
  row(
    "receiveNowait() on a closed receive clone",
    (c) => c.closedReceive.receiveNowait(),
    ClosedResourceError,
    /closed/,
  ),
  row("clone() of a closed receive end", (c) => c.closedReceive.clone(), ClosedResourceError, /closed/, "throws"),
  row(
    "for await over a closed receive clone",
    (c) => c.closedReceive[Symbol.asyncIterator]().next(),
    ClosedResourceError,
    /closed/,
    "rejects",
  ),
  row("sendNowait() on a full channel", (c) => c.fullSend.sendNowait(2), WouldBlock, /full/, "throws"),
  row("receiveNowait() on an empty channel", (c) => c.emptyReceive.receiveNowait(), WouldBlock, /empty/, "throws"),
  row("send() with every receive end closed", (c) => c.brokenSend.send(1), BrokenResourceError, /receive end/),
  row("sendNowait() with every receive end closed", (c) => c.brokenSend.sendNowait(1), BrokenResourceError),
  row("receive() with every send end closed", (c) => c.endedReceive.receive(), EndOfChannel, /send end/, "rejects"),
  row("receiveNowait() with every send end closed", (c) => c.endedReceive.receiveNowait(), EndOfChannel),
  // ---- openCancelScope, currentEffectiveDeadline ----
  row('openCancelScope("soon")', (c) => c.b.openCancelScope(wrong("soon")), TypeError, /'options'/, "throws"),
  row("openCancelScope(null)", (c) => c.b.openCancelScope(wrong(null)), TypeError, /'options'/, "throws"),
  row(
    'openCancelScope({ deadline: "1" })',
    (c) => c.b.openCancelScope({ deadline: wrong("1") }),
    TypeError,
    /'options.deadline'/,
    "throws",
  ),
  row(
    "openCancelScope({ deadline: NaN })",
    (c) => c.b.openCancelScope({ deadline: NaN }),
    RangeError,
    /'options.deadline'/,
    "throws",
  ),
  row("openCancelScope({ deadline: -Infinity })", (c) => c.b.openCancelScope({ deadline: -Infinity }), "value"),
  row(
    'openCancelScope({ shield: "yes" })',
    (c) => c.b.openCancelScope({ shield: wrong("yes") }),
    TypeError,
    /'options.shield'/,
    "throws",
  ),
  ...([["{}", {}], ['"abort"', "abort"], ["new AbortController()", new AbortController()]] as const).map(([t, v]) =>
    row<New>(
      `openCancelScope({ signal: ${t} })`,
      (c) => c.b.openCancelScope({ signal: wrong(v) }),
      TypeError,
      /'options.signal'/,
      "throws",
    )
  ),
  ...(["timeout", "deadLine"] as const).map((option) =>
    row<New>(
      `openCancelScope({ ${option}: 10 }) (an unknown option)`,
      (c) => c.b.openCancelScope(wrong({ [option]: 10 })),
      TypeError,
      new RegExp(`'${option}'`),
      "throws",
    )
  ),
  row("scope.run(42)", (c) => c.b.openCancelScope().run(wrong(42)), TypeError, /'fn'/, "rejects"),
  row("scope.run() a second time", (c) => c.ranScope.run(fn), Error, /run\(\)/, "rejects"),
  row(
    "scope.run() inside its own run (re-entrant)",
    (c) => {
      const scope = c.b.openCancelScope();
      return scope.run(() => scope.run(fn));
    },
    Error,
    /run\(\)/,
    "rejects",
  ),
  row("scope.deadline = NaN", (c) => void (c.ranScope.deadline = NaN), RangeError, /'deadline'/, "throws"),
  row('scope.shield = "yes"', (c) => void (c.ranScope.shield = wrong("yes")), TypeError, /'shield'/, "throws"),
  row("scope.reschedule(undefined)", (c) => c.ranScope.reschedule(wrong(undefined)), Error, /'deadline'/, "throws"),
  row("currentEffectiveDeadline() outside a run is Infinity", (c) => {
    if (c.outsideDeadline !== Infinity) throw new Error(`got ${c.outsideDeadline}`);
  }, "value"),
  // ---- openSignalReceiver ----
  row('openSignalReceiver("SIGINT")', (c) => c.b.openSignalReceiver(wrong("SIGINT")), TypeError, /'signals'/),
  row("openSignalReceiver(null)", (c) => c.b.openSignalReceiver(wrong(null)), TypeError, /'signals'/, "throws"),
  row("openSignalReceiver([]) (an empty list)", (c) => c.b.openSignalReceiver([]), RangeError, /'signals'/, "throws"),
  row("openSignalReceiver([42])", (c) => c.b.openSignalReceiver(wrong([42])), TypeError, /'signals'/, "throws"),
  row('openSignalReceiver(["SIGNOPE"])', (c) => c.b.openSignalReceiver(["SIGNOPE"]), TypeError, /SIGNOPE/),
  row('openSignalReceiver(["sigint"])', (c) => c.b.openSignalReceiver(["sigint"]), TypeError, /sigint/, "throws"),
  row('openSignalReceiver(["SIGKILL"])', (c) => c.b.openSignalReceiver(["SIGKILL"]), TypeError, /SIGKILL/, "throws"),
  row(
    "for await over a closed signal receiver",
    (c) => c.closedSignals[Symbol.asyncIterator]().next(),
    ClosedResourceError,
    /closed/,
    "rejects",
  ),
  row("receive() on a closed signal receiver", (c) => c.closedSignals.receive(), ClosedResourceError, /closed/),
];

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: bad input: the table of issue 14's core APIs (${ROWS.length} rows) answers each with a named error`, async () => {
    const b = create();
    const outsideDeadline = b.currentEffectiveDeadline();
    await b.bootstrap(async () => {
      const fullSemaphore = b.createSemaphore(1, { max: 1 });
      const limiter = b.createCapacityLimiter(2);
      const borrower = {};
      await limiter.acquireOnBehalfOf(borrower);
      const heldLock = b.createLock();
      await heldLock.acquire();
      const [send, receive] = b.createMemoryChannel<number>(1);
      const closedSend = send.clone();
      const closedReceive = receive.clone();
      closedSend.close();
      closedReceive.close();
      await send.send(1); // now full
      const [emptySend, emptyReceive] = b.createMemoryChannel<number>(1);
      const [brokenSend, brokenReceive] = b.createMemoryChannel<number>(1);
      brokenReceive.close();
      const [endedSend, endedReceive] = b.createMemoryChannel<number>(1);
      endedSend.close();
      const ranScope = b.openCancelScope();
      await ranScope.run(fn);
      const closedSignals = b.openSignalReceiver(["SIGUSR2"]);
      closedSignals.close();
      const c: New = {
        b,
        fullSemaphore,
        limiter,
        borrower,
        heldLock,
        condition: b.createConditionVar(),
        closedSend,
        closedReceive,
        fullSend: send,
        emptyReceive,
        brokenSend,
        endedReceive,
        ranScope,
        outsideDeadline,
        closedSignals,
      };
      try {
        const bad = await runTable(b, c, ROWS);
        assert.deepEqual(bad, [], report(bad, ROWS.length));
        // The bad calls left the objects usable.
        assert.equal(receive.receiveNowait(), 1);
        assert.equal(limiter.borrowedTokens, 1);
        assert.equal(fullSemaphore.value, 1);
      } finally {
        limiter.releaseOnBehalfOf(borrower);
        heldLock.release();
        for (const end of [send, receive, emptySend, emptyReceive, brokenSend, endedReceive]) end.close();
      }
    });
  });
}
