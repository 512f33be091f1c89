/**
 * Contract tests: the bad-input table of networking: every connect, listen,
 * wrap and UDP method, and every adapter method, with wrong types, NaN,
 * negative, fractional and out-of-range ports and sizes, empty host lists,
 * bad options, and closed adapters. Each row must answer with a `TypeError`
 * or `RangeError` naming the argument (or `ClosedResourceError`), reject
 * rather than throw, and leave the objects it was given usable.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type {
  AsyncDatagramSocketAdapter,
  AsyncHalfCloseableStreamSocketAdapter,
  AsyncListenerSocketAdapter,
  AsyncStreamSocketAdapter,
} from "../../backend/abc/socket.ts";
import { ClosedResourceError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { report, type Row, runTable, wrong } from "./bad_input_util.ts";
import type { ErrorClass } from "./core_util.ts";
import { CLIENT_TLS, netOptions, portOf, recvExactly, SERVER_TLS, text, utf8 } from "./net_util.ts";

/** The objects the networking rows use. */
interface Net {
  b: AsyncBackend;
  /** A connected client stream; its peer is `server`. */
  stream: AsyncHalfCloseableStreamSocketAdapter;
  server: AsyncStreamSocketAdapter;
  listener: AsyncListenerSocketAdapter;
  udp: AsyncDatagramSocketAdapter;
  closedStream: AsyncHalfCloseableStreamSocketAdapter;
  closedListener: AsyncListenerSocketAdapter;
  closedUdp: AsyncDatagramSocketAdapter;
}

const LOCAL = "127.0.0.1";
const BAD_PORTS: [string, unknown, ErrorConstructor][] = [
  ["-1", -1, RangeError],
  ["65536", 65536, RangeError],
  ["1.5", 1.5, RangeError],
  ["NaN", NaN, RangeError],
  ["Infinity", Infinity, RangeError],
  ['"80"', "80", TypeError],
  ["null", null, TypeError],
];
const BAD_HOSTS: [string, unknown, ErrorConstructor][] = [
  ['""', "", RangeError],
  ["42", 42, TypeError],
  ["null", null, TypeError],
  ['["127.0.0.1"]', [LOCAL], TypeError],
];
const BAD_BUFSIZES: [string, unknown, ErrorConstructor][] = [
  ["0", 0, RangeError],
  ["-1", -1, RangeError],
  ["1.5", 1.5, RangeError],
  ["NaN", NaN, RangeError],
  ["2 ** 53", 2 ** 53, RangeError],
  ['"10"', "10", TypeError],
];
const BAD_DELAYS: [string, unknown, ErrorConstructor][] = [
  ["-1", -1, RangeError],
  ["NaN", NaN, RangeError],
  ['"5"', "5", TypeError],
];

const rejects = (what: string, call: (c: Net) => unknown, error: ErrorClass, names: RegExp): Row<Net> => ({
  what,
  call,
  error,
  names,
  how: "rejects",
});

const ROWS: Row<Net>[] = [
  // ---- createTcpConnection ----
  ...BAD_PORTS.map(([t, v, e]) =>
    rejects(`createTcpConnection(host, ${t})`, (c) => c.b.createTcpConnection(LOCAL, wrong(v)), e, /'port'/)
  ),
  ...BAD_HOSTS.map(([t, v, e]) =>
    rejects(`createTcpConnection(${t}, 80)`, (c) => c.b.createTcpConnection(wrong(v), 80), e, /'host'/)
  ),
  rejects(
    'createTcpConnection(host, 80, "fast")',
    (c) => c.b.createTcpConnection(LOCAL, 80, wrong("fast")),
    TypeError,
    /'options'/,
  ),
  ...BAD_DELAYS.map(([t, v, e]) =>
    rejects(
      `createTcpConnection({ happyEyeballsDelay: ${t} })`,
      (c) => c.b.createTcpConnection(LOCAL, 80, { happyEyeballsDelay: wrong(v) }),
      e,
      /'happyEyeballsDelay'/,
    )
  ),
  rejects(
    "createTcpConnection({ localAddress: 5 })",
    (c) => c.b.createTcpConnection(LOCAL, 80, { localAddress: wrong(5) }),
    TypeError,
    /'localAddress'/,
  ),
  rejects(
    'createTcpConnection({ localAddress: { hostname: "" } })',
    (c) => c.b.createTcpConnection(LOCAL, 80, { localAddress: { hostname: "", port: 0 } }),
    RangeError,
    /'localAddress.hostname'/,
  ),
  rejects(
    "createTcpConnection({ localAddress: { port: 70000 } })",
    (c) => c.b.createTcpConnection(LOCAL, 80, { localAddress: { hostname: LOCAL, port: 70_000 } }),
    RangeError,
    /'localAddress.port'/,
  ),
  // ---- createSslOverTcpConnection ----
  ...BAD_PORTS.slice(0, 3).map(([t, v, e]) =>
    rejects(
      `createSslOverTcpConnection(host, ${t}, tls)`,
      (c) => c.b.createSslOverTcpConnection(LOCAL, wrong(v), CLIENT_TLS),
      e,
      /'port'/,
    )
  ),
  rejects(
    "createSslOverTcpConnection(host, 443, null)",
    (c) => c.b.createSslOverTcpConnection(LOCAL, 443, wrong(null)),
    TypeError,
    /'tls'/,
  ),
  rejects(
    'createSslOverTcpConnection(tls { caCerts: "x" })',
    (c) => c.b.createSslOverTcpConnection(LOCAL, 443, { caCerts: wrong("x") }),
    TypeError,
    /'tls.caCerts'/,
  ),
  rejects(
    'createSslOverTcpConnection(tls { caCerts: ["not a pem"] })',
    (c) => c.b.createSslOverTcpConnection(LOCAL, 443, { caCerts: ["not a pem"] }),
    TypeError,
    /'tls.caCerts\[0\]'/,
  ),
  rejects(
    "createSslOverTcpConnection(tls { alpnProtocols: [1] })",
    (c) => c.b.createSslOverTcpConnection(LOCAL, 443, { alpnProtocols: wrong([1]) }),
    TypeError,
    /'tls.alpnProtocols'/,
  ),
  rejects(
    "createSslOverTcpConnection(tls { cert: 5 })",
    (c) => c.b.createSslOverTcpConnection(LOCAL, 443, { cert: wrong(5) }),
    TypeError,
    /'tls.cert'/,
  ),
  ...BAD_DELAYS.map(([t, v, e]) =>
    rejects(
      `createSslOverTcpConnection({ sslHandshakeTimeout: ${t} })`,
      (c) => c.b.createSslOverTcpConnection(LOCAL, 443, CLIENT_TLS, { sslHandshakeTimeout: wrong(v) }),
      e,
      /'sslHandshakeTimeout'/,
    )
  ),
  rejects(
    'createSslOverTcpConnection({ serverHostname: "" })',
    (c) => c.b.createSslOverTcpConnection(LOCAL, 443, CLIENT_TLS, { serverHostname: "" }),
    RangeError,
    /'serverHostname'/,
  ),
  // ---- wrap* ----
  rejects("wrapTcpClientSocket({})", (c) => c.b.wrapTcpClientSocket({}), TypeError, /'conn'/),
  rejects("wrapTcpClientSocket(null)", (c) => c.b.wrapTcpClientSocket(null), TypeError, /'conn'/),
  rejects(
    "wrapSslOverTcpClientSocket({}, tls, options)",
    (c) => c.b.wrapSslOverTcpClientSocket({}, CLIENT_TLS, { serverHostname: "localhost" }),
    TypeError,
    /'conn'/,
  ),
  rejects(
    "wrapSslOverTcpClientSocket(stream, tls, {})",
    (c) => c.b.wrapSslOverTcpClientSocket(c.stream, CLIENT_TLS, wrong({})),
    TypeError,
    /'serverHostname'/,
  ),
  rejects(
    "wrapSslOverTcpClientSocket(stream, null, options)",
    (c) => c.b.wrapSslOverTcpClientSocket(c.stream, wrong(null), { serverHostname: "localhost" }),
    TypeError,
    /'tls'/,
  ),
  rejects(
    "wrapSslOverTcpServerSocket({}, tls)",
    (c) => c.b.wrapSslOverTcpServerSocket({}, SERVER_TLS),
    TypeError,
    /'conn'/,
  ),
  rejects(
    "wrapSslOverTcpServerSocket(server, {})",
    (c) => c.b.wrapSslOverTcpServerSocket(c.server, {}),
    TypeError,
    /'tls'/,
  ),
  rejects("wrapUdpSocket({})", (c) => c.b.wrapUdpSocket({}), TypeError, /'sock'|'socket'/),
  // ---- createTcpListeners, createSslOverTcpListeners ----
  ...BAD_PORTS.map(([t, v, e]) =>
    rejects(`createTcpListeners(host, ${t}, 16)`, (c) => c.b.createTcpListeners(LOCAL, wrong(v), 16), e, /'port'/)
  ),
  rejects(
    "createTcpListeners([], 0, 16) (an empty host list)",
    (c) => c.b.createTcpListeners([], 0, 16),
    RangeError,
    /'host'/,
  ),
  rejects(
    'createTcpListeners(["127.0.0.1", ""], 0, 16)',
    (c) => c.b.createTcpListeners([LOCAL, ""], 0, 16),
    RangeError,
    /'host\[1\]'/,
  ),
  rejects("createTcpListeners(42, 0, 16)", (c) => c.b.createTcpListeners(wrong(42), 0, 16), TypeError, /'host'/),
  ...([["-1", -1, RangeError], ["1.5", 1.5, RangeError], ["NaN", NaN, RangeError], ['"16"', "16", TypeError]] as const)
    .map(([t, v, e]) =>
      rejects(`createTcpListeners(host, 0, ${t})`, (c) => c.b.createTcpListeners(LOCAL, 0, wrong(v)), e, /'backlog'/)
    ),
  rejects(
    'createTcpListeners(host, 0, 16, "x")',
    (c) => c.b.createTcpListeners(LOCAL, 0, 16, wrong("x")),
    TypeError,
    /'options'/,
  ),
  rejects(
    'createTcpListeners({ reusePort: "yes" })',
    (c) => c.b.createTcpListeners(LOCAL, 0, 16, { reusePort: wrong("yes") }),
    TypeError,
    /'reusePort'/,
  ),
  rejects(
    "createSslOverTcpListeners(tls without cert)",
    (c) => c.b.createSslOverTcpListeners(LOCAL, 0, 16, CLIENT_TLS),
    TypeError,
    /'tls'/,
  ),
  rejects(
    'createSslOverTcpListeners(tls { cert: "not a pem" })',
    (c) => c.b.createSslOverTcpListeners(LOCAL, 0, 16, { cert: "not a pem", key: SERVER_TLS.key }),
    TypeError,
    /'tls.cert'/,
  ),
  rejects(
    "createSslOverTcpListeners({ sslHandshakeTimeout: -1 })",
    (c) => c.b.createSslOverTcpListeners(LOCAL, 0, 16, SERVER_TLS, { sslHandshakeTimeout: -1 }),
    RangeError,
    /'sslHandshakeTimeout'/,
  ),
  rejects(
    "createSslOverTcpListeners([], 0, 16, tls)",
    (c) => c.b.createSslOverTcpListeners([], 0, 16, SERVER_TLS),
    RangeError,
    /'host'/,
  ),
  // ---- createUdpEndpoint ----
  rejects('createUdpEndpoint("x")', (c) => c.b.createUdpEndpoint(wrong("x")), TypeError, /'options'/),
  rejects(
    "createUdpEndpoint({ localAddress: 5 })",
    (c) => c.b.createUdpEndpoint({ localAddress: wrong(5) }),
    TypeError,
    /'localAddress'/,
  ),
  rejects(
    "createUdpEndpoint({ localAddress: { port: -1 } })",
    (c) => c.b.createUdpEndpoint({ localAddress: { hostname: LOCAL, port: -1 } }),
    RangeError,
    /'localAddress.port'/,
  ),
  rejects(
    "createUdpEndpoint({ remoteAddress: { hostname: 5 } })",
    (c) => c.b.createUdpEndpoint({ remoteAddress: { hostname: wrong(5), port: 1 } }),
    TypeError,
    /'remoteAddress.hostname'/,
  ),
  rejects(
    'createUdpEndpoint({ reusePort: "yes" })',
    (c) => c.b.createUdpEndpoint({ localAddress: { hostname: LOCAL, port: 0 }, reusePort: wrong("yes") }),
    TypeError,
    /'reusePort'/,
  ),
  // ---- Stream adapters ----
  ...BAD_BUFSIZES.map(([t, v, e]) => rejects(`stream.recv(${t})`, (c) => c.stream.recv(wrong(v)), e, /'bufsize'/)),
  rejects("stream.recvInto(new Uint8Array(0))", (c) => c.stream.recvInto(new Uint8Array(0)), RangeError, /'buffer'/),
  rejects('stream.recvInto("buffer")', (c) => c.stream.recvInto(wrong("buffer")), TypeError, /'buffer'/),
  rejects(
    "stream.recvInto(new ArrayBuffer(8))",
    (c) => c.stream.recvInto(wrong(new ArrayBuffer(8))),
    TypeError,
    /'buffer'/,
  ),
  rejects("stream.sendall(null)", (c) => c.stream.sendall(wrong(null)), TypeError, /'data'/),
  rejects("stream.sendall([1, 2])", (c) => c.stream.sendall(wrong([1, 2])), TypeError, /'data'/),
  rejects('stream.sendall("text")', (c) => c.stream.sendall(wrong("text")), TypeError, /'data'/),
  rejects("stream.sendallFromiter(5)", (c) => c.stream.sendallFromiter(wrong(5)), TypeError, /'chunks'/),
  rejects(
    'stream.sendallFromiter([bytes, "x"])',
    (c) => c.stream.sendallFromiter([utf8("a"), wrong("x")]),
    TypeError,
    /'chunks\[1\]'/,
  ),
  ...(["recv(1)", "recvInto(buffer)", "sendall(bytes)", "sendallFromiter([])", "sendEof()"] as const).map((call) =>
    rejects(
      `${call} on a closed stream`,
      (c) => {
        const s = c.closedStream;
        if (call === "recv(1)") return s.recv(1);
        if (call === "recvInto(buffer)") return s.recvInto(new Uint8Array(1));
        if (call === "sendall(bytes)") return s.sendall(utf8("x"));
        if (call === "sendallFromiter([])") return s.sendallFromiter([]);
        return s.sendEof();
      },
      ClosedResourceError,
      /closed/,
    )
  ),
  rejects("accept() on a closed listener", (c) => c.closedListener.accept(), ClosedResourceError, /closed/),
  // ---- Datagram adapters ----
  ...BAD_BUFSIZES.map(([t, v, e]) => rejects(`udp.recvfrom(${t})`, (c) => c.udp.recvfrom(wrong(v)), e, /'bufsize'/)),
  rejects('udp.sendto("x", address)', (c) => c.udp.sendto(wrong("x"), c.udp.getLocalAddress()), TypeError, /'data'/),
  rejects("udp.sendto(bytes, 5)", (c) => c.udp.sendto(utf8("x"), wrong(5)), TypeError, /'address'/),
  rejects(
    "udp.sendto(bytes, { port: 70000 })",
    (c) => c.udp.sendto(utf8("x"), { hostname: LOCAL, port: 70_000 }),
    RangeError,
    /'address.port'/,
  ),
  rejects(
    "udp.sendto(bytes, null) on an unconnected endpoint",
    (c) => c.udp.sendto(utf8("x"), null),
    TypeError,
    /'address'/,
  ),
  rejects("recvfrom(1) on a closed endpoint", (c) => c.closedUdp.recvfrom(1), ClosedResourceError, /closed/),
  rejects(
    "sendto() on a closed endpoint",
    (c) => c.closedUdp.sendto(utf8("x"), c.udp.getLocalAddress()),
    ClosedResourceError,
    /closed/,
  ),
  // ---- New APIs (servers, stream helpers) add their rows here. ----
];

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: bad input: the networking table (${ROWS.length} rows) answers each with a named error`, async () => {
    const b = create();
    await b.bootstrap(async () => {
      const [listener] = await b.createTcpListeners(LOCAL, 0, 16);
      const stream = await b.createTcpConnection(LOCAL, portOf(listener));
      const server = await (await listener.accept()).connect();
      const closedStream = await b.createTcpConnection(LOCAL, portOf(listener));
      const closedServer = await (await listener.accept()).connect();
      await closedStream.aclose();
      await closedServer.aclose();
      const [closedListener] = await b.createTcpListeners(LOCAL, 0, 16);
      await closedListener.aclose();
      const udp = await b.createUdpEndpoint({ localAddress: { hostname: LOCAL, port: 0 } });
      const closedUdp = await b.createUdpEndpoint({ localAddress: { hostname: LOCAL, port: 0 } });
      await closedUdp.aclose();
      try {
        const c: Net = { b, stream, server, listener, udp, closedStream, closedListener, closedUdp };
        const bad = await runTable(b, c, ROWS);
        assert.deepEqual(bad, [], report(bad, ROWS.length));
        // The bad calls left the objects usable, and a huge bufsize allocates no more than what arrived.
        await server.sendall(utf8("ping"));
        assert.equal(text(await recvExactly(stream, 4)), "ping");
        await server.sendall(utf8("pong"));
        const pong = text(await stream.recv(2 ** 40));
        assert.ok(pong.length > 0 && "pong".startsWith(pong), `recv(2 ** 40) gave ${JSON.stringify(pong)}`);
        await udp.sendto(utf8("dgram"), udp.getLocalAddress());
        assert.equal(text((await udp.recvfrom(2 ** 40))[0]), "dgram");
      } finally {
        for (const resource of [stream, server, listener, udp]) await resource.aclose();
      }
    });
  }, netOptions(name));
}
