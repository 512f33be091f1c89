/**
 * Contract tests: the bad-input table of the networking APIs of issue 14:
 * `serveListeners`, `serveTcp`, `serveTls` (bad handler, listeners, port,
 * options, unknown TLS option names, closed listeners), the stream helpers
 * `receiveExactly`, `receiveUntil` and `sendallFromiter` (bad counts, empty
 * delimiters, non-iterables, closed streams, a stream that ends early, a
 * delimiter past `maxBytes`), the Web Streams of a closed socket and async
 * iteration over closed listeners and endpoints. Each row must answer with a
 * `TypeError`/`RangeError` naming the argument, or the documented error,
 * never a hang (a server that starts counts as one), a crash or an unhandled
 * rejection.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type {
  AsyncDatagramSocketAdapter,
  AsyncHalfCloseableStreamSocketAdapter,
  AsyncListenerSocketAdapter,
} from "../../backend/abc/socket.ts";
import { ClosedResourceError, DelimiterNotFound, IncompleteReadError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { report, type Row, runTable, wrong } from "./bad_input_util.ts";
import type { ErrorClass } from "./core_util.ts";
import { netOptions, portOf, SERVER_TLS, text, utf8 } from "./net_util.ts";

/** The objects the rows use. */
interface NewNet {
  b: AsyncBackend;
  /** An open listener (the serve rows must fail before they own it). */
  listener: AsyncListenerSocketAdapter;
  /** A connected stream whose peer sends nothing. */
  stream: AsyncHalfCloseableStreamSocketAdapter;
  /** A stream whose peer sent "ab" and then its end of stream. */
  ending: AsyncHalfCloseableStreamSocketAdapter;
  /** A stream whose peer sent 16 bytes with no newline. */
  long: AsyncHalfCloseableStreamSocketAdapter;
  closedStream: AsyncHalfCloseableStreamSocketAdapter;
  closedListener: AsyncListenerSocketAdapter;
  closedUdp: AsyncDatagramSocketAdapter;
}

const LOCAL = "127.0.0.1";
const handler = () => {};
const BAD_PORTS: [string, unknown, ErrorConstructor][] = [
  ["-1", -1, RangeError],
  ["65536", 65536, RangeError],
  ["1.5", 1.5, RangeError],
  ["NaN", NaN, RangeError],
  ['"80"', "80", TypeError],
];
const BAD_COUNTS: [string, unknown, ErrorConstructor][] = [
  ['"4"', "4", TypeError],
  ["null", null, TypeError],
  ["-1", -1, RangeError],
  ["1.5", 1.5, RangeError],
  ["NaN", NaN, RangeError],
];
/** Bad server options, each with the name its error must give. */
const BAD_SERVE_OPTIONS: [string, unknown, ErrorConstructor, RegExp][] = [
  ['"x"', "x", TypeError, /'options'/],
  ["{ onError: 5 }", { onError: 5 }, TypeError, /'onError'/],
  ["{ taskStatus: {} }", { taskStatus: {} }, TypeError, /'taskStatus'/],
];
/** Bad listening options of serveTcp and serveTls. */
const BAD_LISTEN_OPTIONS: [string, unknown, ErrorConstructor, RegExp][] = [
  ...BAD_SERVE_OPTIONS,
  ["{ host: 42 }", { host: 42 }, TypeError, /'host'/],
  ['{ host: "" }', { host: "" }, RangeError, /'host'/],
  ["{ host: [] }", { host: [] }, RangeError, /'host'/],
  ["{ backlog: -1 }", { backlog: -1 }, RangeError, /'backlog'/],
  ['{ backlog: "16" }', { backlog: "16" }, TypeError, /'backlog'/],
  ['{ reusePort: "yes" }', { reusePort: "yes" }, TypeError, /'reusePort'/],
];

const rejects = <C>(what: string, call: (c: C) => unknown, error: ErrorClass, names?: RegExp): Row<C> => ({
  what,
  call,
  error,
  names,
  how: "rejects",
});

const ROWS: Row<NewNet>[] = [
  // ---- serveListeners ----
  rejects("serveListeners(42, [listener])", (c) => c.b.serveListeners(wrong(42), [c.listener]), TypeError, /'handler'/),
  rejects("serveListeners(handler, [])", (c) => c.b.serveListeners(handler, []), RangeError, /'listeners'/),
  rejects(
    "serveListeners(handler, listener) (not a list)",
    (c) => c.b.serveListeners(handler, wrong(c.listener)),
    TypeError,
    /'listeners'/,
  ),
  rejects(
    "serveListeners(handler, [listener, {}])",
    (c) => c.b.serveListeners(handler, [c.listener, wrong({})]),
    TypeError,
    /'listeners\[1\]'/,
  ),
  ...BAD_SERVE_OPTIONS.map(([t, v, e, names]) =>
    rejects<NewNet>(
      `serveListeners(handler, [listener], ${t})`,
      (c) => c.b.serveListeners(handler, [c.listener], wrong(v)),
      e,
      names,
    )
  ),
  rejects(
    "serveListeners(handler, [a closed listener])",
    (c) => c.b.serveListeners(handler, [c.closedListener]),
    ClosedResourceError,
    /closed/,
  ),
  // ---- serveTcp ----
  rejects('serveTcp("handler", 0)', (c) => c.b.serveTcp(wrong("handler"), 0), TypeError, /'handler'/),
  ...BAD_PORTS.map(([t, v, e]) =>
    rejects<NewNet>(`serveTcp(handler, ${t})`, (c) => c.b.serveTcp(handler, wrong(v)), e, /'port'/)
  ),
  ...BAD_LISTEN_OPTIONS.map(([t, v, e, names]) =>
    rejects<NewNet>(`serveTcp(handler, 0, ${t})`, (c) => c.b.serveTcp(handler, 0, wrong(v)), e, names)
  ),
  // ---- serveTls ----
  rejects("serveTls(null, 0, tls)", (c) => c.b.serveTls(wrong(null), 0, SERVER_TLS), TypeError, /'handler'/),
  ...BAD_PORTS.map(([t, v, e]) =>
    rejects<NewNet>(`serveTls(handler, ${t}, tls)`, (c) => c.b.serveTls(handler, wrong(v), SERVER_TLS), e, /'port'/)
  ),
  rejects("serveTls(handler, 0, null)", (c) => c.b.serveTls(handler, 0, wrong(null)), TypeError, /'tls'/),
  rejects("serveTls(handler, 0, {}) (no cert)", (c) => c.b.serveTls(handler, 0, {}), TypeError, /'tls'/),
  ...(["certificate", "ca", "alpn", "rejectUnauthorized"] as const).map((option) =>
    rejects<NewNet>(
      `serveTls(handler, 0, { ...tls, ${option} }) (an unknown option name)`,
      (c) => c.b.serveTls(handler, 0, wrong({ ...SERVER_TLS, [option]: true })),
      TypeError,
      new RegExp(`'tls\\.${option}'`),
    )
  ),
  ...[...BAD_LISTEN_OPTIONS, ["{ sslHandshakeTimeout: -1 }", { sslHandshakeTimeout: -1 }, RangeError, /'ssl/] as const]
    .map(([t, v, e, names]) =>
      rejects<NewNet>(
        `serveTls(handler, 0, tls, ${t})`,
        (c) => c.b.serveTls(handler, 0, SERVER_TLS, wrong(v)),
        e,
        names,
      )
    ),
  // ---- receiveExactly, receiveUntil, sendallFromiter ----
  ...BAD_COUNTS.map(([t, v, e]) =>
    rejects<NewNet>(`stream.receiveExactly(${t})`, (c) => c.stream.receiveExactly(wrong(v)), e, /'n'/)
  ),
  rejects('stream.receiveUntil("")', (c) => c.stream.receiveUntil(""), RangeError, /'delimiter'/),
  rejects(
    "stream.receiveUntil(new Uint8Array(0))",
    (c) => c.stream.receiveUntil(new Uint8Array(0)),
    RangeError,
    /'delimiter'/,
  ),
  rejects("stream.receiveUntil(10)", (c) => c.stream.receiveUntil(wrong(10)), TypeError, /'delimiter'/),
  rejects("stream.receiveUntil(null)", (c) => c.stream.receiveUntil(wrong(null)), TypeError, /'delimiter'/),
  rejects("stream.receiveUntil([10])", (c) => c.stream.receiveUntil(wrong([10])), TypeError, /'delimiter'/),
  ...BAD_COUNTS.map(([t, v, e]) =>
    rejects<NewNet>(`stream.receiveUntil("\\n", ${t})`, (c) => c.stream.receiveUntil("\n", wrong(v)), e, /'maxBytes'/)
  ),
  rejects(
    "receiveExactly(4) on a stream that ends after 2 bytes",
    (c) => c.ending.receiveExactly(4),
    IncompleteReadError,
  ),
  rejects(
    'receiveUntil("\\n") on a stream that ended',
    (c) => c.ending.receiveUntil("\n"),
    IncompleteReadError,
  ),
  rejects(
    "receiveExactly(2 ** 40) on a stream that ended (allocates nothing first)",
    (c) => c.ending.receiveExactly(2 ** 40),
    IncompleteReadError,
  ),
  rejects(
    'receiveUntil("\\n", 2 ** 53 - 1) on a stream that ended',
    (c) => c.ending.receiveUntil("\n", 2 ** 53 - 1),
    IncompleteReadError,
  ),
  {
    what: "receiveExactly(0) (accepted: no bytes)",
    call: (c) => c.stream.receiveExactly(0),
    error: "value",
  },
  rejects(
    'receiveUntil("\\n", 4) with no newline in 16 bytes',
    (c) => c.long.receiveUntil("\n", 4),
    DelimiterNotFound,
    /4/,
  ),
  ...([["5", 5], ["null", null], ["{}", {}], ["a Uint8Array (not a list of chunks)", utf8("x")], [
    '"text"',
    "text",
  ]] as const).map((
    [t, v],
  ) =>
    rejects<NewNet>(`stream.sendallFromiter(${t})`, (c) => c.stream.sendallFromiter(wrong(v)), TypeError, /'chunks'/)
  ),
  rejects(
    'stream.sendallFromiter(an async generator yielding "x")',
    (c) =>
      c.stream.sendallFromiter((async function* () {
        yield wrong("x");
      })()),
    TypeError,
    /'chunks\[0\]'/,
  ),
  ...(["receiveExactly(1)", 'receiveUntil("\\n")', "sendallFromiter([bytes])"] as const).map((call) =>
    rejects<NewNet>(
      `${call} on a closed stream`,
      (c) => {
        const s = c.closedStream;
        if (call === "receiveExactly(1)") return s.receiveExactly(1);
        if (call === 'receiveUntil("\\n")') return s.receiveUntil("\n");
        return s.sendallFromiter([utf8("x")]);
      },
      ClosedResourceError,
      /closed/,
    )
  ),
  // ---- Web Streams, async iteration ----
  rejects(
    "readable.getReader().read() on a closed stream",
    (c) => {
      const reader = c.closedStream.readable.getReader();
      return reader.read().finally(() => reader.releaseLock());
    },
    ClosedResourceError,
    /closed/,
  ),
  rejects(
    'readable.getReader({ mode: "byob" }).read() on a closed stream',
    (c) => {
      const reader = c.closedStream.readable.getReader({ mode: "byob" });
      return reader.read(new Uint8Array(4)).finally(() => reader.releaseLock());
    },
    ClosedResourceError,
    /closed/,
  ),
  rejects(
    "writable.getWriter().write(bytes) on a closed stream",
    (c) => c.closedStream.writable.getWriter().write(utf8("x")),
    ClosedResourceError,
    /closed/,
  ),
  rejects(
    'writable.getWriter().write("x") (not bytes)',
    (c) => {
      const writer = c.ending.writable.getWriter();
      return writer.write(wrong("x")).finally(() => writer.releaseLock());
    },
    TypeError,
    /'chunk'/,
  ),
  rejects(
    "for await over a closed stream",
    (c) => c.closedStream[Symbol.asyncIterator]().next(),
    ClosedResourceError,
    /closed/,
  ),
  rejects(
    "for await over a closed listener",
    (c) => c.closedListener[Symbol.asyncIterator]().next(),
    ClosedResourceError,
    /closed/,
  ),
  rejects(
    "for await over a closed UDP endpoint",
    (c) => c.closedUdp[Symbol.asyncIterator]().next(),
    ClosedResourceError,
    /closed/,
  ),
];

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(
    `${name}: bad input: the table of issue 14's networking APIs (${ROWS.length} rows) answers each with a named error`,
    async () => {
      const b = create();
      await b.bootstrap(async () => {
        const [listener] = await b.createTcpListeners(LOCAL, 0, 16);
        const pair = async (): Promise<
          [AsyncHalfCloseableStreamSocketAdapter, AsyncHalfCloseableStreamSocketAdapter]
        > => {
          const client = await b.createTcpConnection(LOCAL, portOf(listener));
          const server = await (await listener.accept()).connect();
          return [client, server as AsyncHalfCloseableStreamSocketAdapter];
        };
        const [stream, peer] = await pair();
        const [ending, endingPeer] = await pair();
        await endingPeer.sendall(utf8("ab"));
        await endingPeer.sendEof();
        const [long, longPeer] = await pair();
        await longPeer.sendall(utf8("0123456789abcdef"));
        const [closedStream, closedPeer] = await pair();
        await closedStream.aclose();
        await closedPeer.aclose();
        const [closedListener] = await b.createTcpListeners(LOCAL, 0, 16);
        await closedListener.aclose();
        const closedUdp = await b.createUdpEndpoint({ localAddress: { hostname: LOCAL, port: 0 } });
        await closedUdp.aclose();
        try {
          const c: NewNet = { b, listener, stream, ending, long, closedStream, closedListener, closedUdp };
          const bad = await runTable(b, c, ROWS);
          assert.deepEqual(bad, [], report(bad, ROWS.length));
          // The bad calls left the objects usable: the bytes past maxBytes stay buffered.
          assert.equal(text(await long.receiveExactly(16)), "0123456789abcdef");
          await peer.sendall(utf8("line\nrest"));
          assert.equal(text(await stream.receiveUntil("\n")), "line");
          assert.equal(text(await stream.receiveExactly(4)), "rest");
          const [again, againPeer] = await pair(); // the listener is still open and accepting
          await again.aclose();
          await againPeer.aclose();
        } finally {
          for (const resource of [stream, peer, ending, endingPeer, long, longPeer, listener]) await resource.aclose();
        }
      });
    },
    netOptions(name),
  );
}
