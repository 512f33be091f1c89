/**
 * The network-at-load benchmark (`deno task bench http`), two tables:
 *
 * - **Echo at 1,000 connections**: 1,000 loopback connections, each doing
 *   100-byte request/response round trips, client and server on the library's
 *   adapters (`recvInto` + `sendall`) vs both on the runtime's own API
 *   (`Deno.listen`/`Deno.connect` for the Deno backend, `node:net` for the Node
 *   backend), in this process, interleaved rounds (goal ≤ 1.15× time). The
 *   connections are made once: a round times the round trips, not the setup;
 *   the servers run all along (tasks of one group on our side), the clients are
 *   plain async functions on both sides.
 * - **Keep-alive HTTP/1.1 server**: the same minimal HTTP/1.1 server (request
 *   line and headers up to CRLFCRLF, `Content-Length` bodies, keep-alive) once
 *   on the library (`serveTcp`, framing with `receiveUntil` + `receiveExactly`)
 *   and once on the runtime's own API (`Deno.listen` with its own read buffer,
 *   or a `node:net` server), each in a child process of its own, loaded by a
 *   third process (`_http_load.ts`, 64 keep-alive connections, every fourth
 *   request a `POST` with a 128-byte body). The figure is the server process's
 *   CPU time (`process.cpuUsage()`, user + system, read in the server) per
 *   request after a warm-up, not wall time (goal ≤ 1.15×). Reference rows frame
 *   by hand over `recvInto` and over `recv(65536)`.
 *
 * Both parse the head with one shared function, so the rows differ only in how
 * the bytes reach it and the response leaves. Medians of `BENCH_ROUNDS`
 * (default 7 for echo, 3 for HTTP) interleaved rounds; `--quick` (or
 * `BENCH_QUICK=1`) runs tiny sizes once.
 *
 * Runs on Deno (`deno task bench http`) and, from the npm build, on Node
 * (`node --expose-gc npm/scripts/bench/http_bench.js`).
 *
 * @module
 */

import { spawn } from "node:child_process";
import { connect, createServer, type Server, type Socket } from "node:net";
import { loadavg } from "node:os";
import process from "node:process";
import type {
  AsyncBackend,
  AsyncHalfCloseableStreamSocketAdapter,
  AsyncListenerSocketAdapter,
  AsyncStreamSocketAdapter,
} from "../../backend/mod.ts";
import { IncompleteReadError } from "../../backend/errors.ts";
import { AsyncBackendFactory } from "../../factory/mod.ts";
import { compare, median, QUICK, report, type Result, sized } from "./measure.ts";

const isDeno = "deno" in process.versions;
const runtime = isDeno
  ? `Deno ${process.versions.deno} (V8 ${process.versions.v8})`
  : `Node ${process.versions.node} (V8 ${process.versions.v8})`;

const ECHO_CONNECTIONS = sized(1_000, 20);
const ECHO_REQUESTS = sized(50, 2);
const REQUEST = 100;
const HTTP_CONNECTIONS = sized(64, 4);
const HTTP_WARMUP = sized(10_000, 200);
const HTTP_REQUESTS = sized(50_000, 400);

/** The raw Deno API, typed as far as this bench uses it (the file also compiles for Node). */
interface RawConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  close(): void;
}
interface RawListener extends AsyncIterable<RawConn> {
  addr: { port: number };
  accept(): Promise<RawConn>;
  close(): void;
}
interface RawDeno {
  listen(options: { hostname: string; port: number }): RawListener;
  connect(options: { hostname: string; port: number }): Promise<RawConn>;
}
const Deno = (globalThis as { Deno?: RawDeno }).Deno;

async function writeAll(conn: RawConn, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) offset += await conn.write(offset === 0 ? data : data.subarray(offset));
}

// ---- Echo at 1,000 connections (in this process) ----

/**
 * Connections made once and kept for every round: `run()` makes every client
 * do its round trips at once (the servers echo all along), so that a round
 * times the request/response traffic, not the connection setup.
 */
interface EchoPairs {
  run(): Promise<void>;
  close(): Promise<void>;
}

const ECHO_REQUEST = new Uint8Array(REQUEST).fill(1);

async function rawDenoPairs(): Promise<EchoPairs> {
  const listener = Deno!.listen({ hostname: "127.0.0.1", port: 0 });
  const servers: Promise<void>[] = [];
  const clients: RawConn[] = [];
  for (let i = 0; i < ECHO_CONNECTIONS; i++) {
    clients.push(await Deno!.connect({ hostname: "127.0.0.1", port: listener.addr.port }));
    const server = await listener.accept();
    servers.push((async () => {
      const buffer = new Uint8Array(4096);
      try {
        for (;;) {
          const n = await server.read(buffer);
          if (n === null) break;
          await writeAll(server, buffer.subarray(0, n));
        }
      } catch {
        // Closed at the end.
      } finally {
        server.close();
      }
    })());
  }
  listener.close();
  const client = async (conn: RawConn) => {
    const buffer = new Uint8Array(REQUEST);
    for (let r = 0; r < ECHO_REQUESTS; r++) {
      await writeAll(conn, ECHO_REQUEST);
      for (let got = 0; got < REQUEST;) {
        const n = await conn.read(buffer.subarray(got));
        if (n === null) throw new Error("early end of stream");
        got += n;
      }
    }
  };
  return {
    run: async () => void await Promise.all(clients.map(client)),
    close: async () => {
      for (const conn of clients) conn.close();
      await Promise.all(servers);
    },
  };
}

async function rawNodePairs(): Promise<EchoPairs> {
  const server: Server = createServer({ noDelay: true }, (socket) => {
    socket.on("data", (chunk) => socket.write(chunk));
    socket.on("end", () => socket.end());
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  const port = (server.address() as { port: number }).port;
  const sockets: Socket[] = [];
  for (let i = 0; i < ECHO_CONNECTIONS; i++) {
    sockets.push(
      await new Promise<Socket>((resolve, reject) => {
        const s = connect({ host: "127.0.0.1", port, noDelay: true }, () => resolve(s));
        s.once("error", reject);
      }),
    );
  }
  const client = (socket: Socket) =>
    new Promise<void>((resolve) => {
      let got = 0;
      let done = 0;
      const onData = (chunk: Uint8Array) => {
        got += chunk.length;
        while (got >= REQUEST) {
          got -= REQUEST;
          if (++done === ECHO_REQUESTS) {
            socket.off("data", onData);
            return resolve();
          }
          socket.write(ECHO_REQUEST);
        }
      };
      socket.on("data", onData);
      socket.write(ECHO_REQUEST);
    });
  return {
    run: async () => void await Promise.all(sockets.map(client)),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Ours and raw echo pairs, compared inside one run of `backend` (the servers are tasks of one group). */
async function echoRow(name: "deno" | "node", backend: AsyncBackend): Promise<Result> {
  const raw = name === "deno" ? await rawDenoPairs() : await rawNodePairs();
  let result: Result | undefined;
  try {
    await backend.bootstrap(async () => {
      const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 4096);
      const clients: AsyncStreamSocketAdapter[] = [];
      try {
        await backend.createTaskGroup(async (tg) => {
          for (let i = 0; i < ECHO_CONNECTIONS; i++) {
            clients.push(await backend.createTcpConnection("127.0.0.1", listener.getLocalAddress().port));
            tg.startSoon(async (stream: AsyncStreamSocketAdapter) => {
              const buffer = new Uint8Array(4096);
              try {
                for (;;) {
                  const n = await stream.recvInto(buffer);
                  if (n === 0) break;
                  await stream.sendall(buffer.subarray(0, n));
                }
              } finally {
                await stream.aclose();
              }
            }, await (await listener.accept()).connect());
          }
          const client = async (stream: AsyncStreamSocketAdapter) => {
            const buffer = new Uint8Array(REQUEST);
            for (let r = 0; r < ECHO_REQUESTS; r++) {
              await stream.sendall(ECHO_REQUEST);
              for (let got = 0; got < REQUEST;) {
                const n = await stream.recvInto(buffer.subarray(got));
                if (n === 0) throw new Error("early end of stream");
                got += n;
              }
            }
          };
          try {
            result = await compare({
              name: `${name} backend: ${ECHO_CONNECTIONS} conns × ${ECHO_REQUESTS} ${REQUEST}-byte req/resp`,
              ops: ECHO_CONNECTIONS * ECHO_REQUESTS,
              ours: async () => void await Promise.all(clients.map(client)),
              rawName: name === "deno" ? "Deno.connect read/write" : "node:net",
              raw: () => raw.run(),
              goal: 1.15,
            }, { rounds: Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 7)) });
          } finally {
            // The servers read end of stream and end.
            for (const stream of clients) await (stream as AsyncHalfCloseableStreamSocketAdapter).sendEof();
          }
        });
      } finally {
        for (const stream of clients) await stream.aclose();
        await listener.aclose();
      }
    });
  } finally {
    await raw.close();
  }
  return result!;
}

// ---- The HTTP server (a child process) ----

const decoder = new TextDecoder();
const CRLFCRLF = new Uint8Array([13, 10, 13, 10]);
const MAX_HEAD = 8192;
const RESPONSE = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 27\r\nConnection: keep-alive\r\n\r\n" +
    '{"id":42,"name":"an item"}\n',
);

/** What the server needs of a request head. */
interface Head {
  readonly method: string;
  readonly target: string;
  readonly contentLength: number;
  readonly close: boolean;
}

/** The shared parser: a request head (without its CRLFCRLF); throws on a malformed one. */
function parseHead(bytes: Uint8Array): Head {
  const lines = decoder.decode(bytes).split("\r\n");
  const [method, target, version] = lines[0].split(" ");
  if (version !== "HTTP/1.1" || target === undefined) throw new Error(`Bad request line: ${lines[0]}`);
  let contentLength = 0;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`Bad header line: ${line}`);
    const name = line.slice(0, colon).toLowerCase();
    if (name === "content-length") {
      contentLength = Number(line.slice(colon + 1).trim());
      if (!Number.isSafeInteger(contentLength) || contentLength < 0) throw new Error(`Bad Content-Length: ${line}`);
    } else if (name === "connection") {
      close = line.slice(colon + 1).trim().toLowerCase() === "close";
    }
  }
  return { method, target, contentLength, close };
}

/** The index of CRLFCRLF in `data[from, to)`, or `-1`. */
function findHeadEnd(data: Uint8Array, from: number, to: number): number {
  for (let i = data.indexOf(13, from); i !== -1 && i + 3 < to; i = data.indexOf(13, i + 1)) {
    if (data[i + 1] === 10 && data[i + 2] === 13 && data[i + 3] === 10) return i;
  }
  return -1;
}

let served = 0;
let cpuStart: ReturnType<typeof process.cpuUsage> | null = null;
let warmup = 0;
let measured = 0;

/** Counts a request; reads the CPU time after the warm-up and once every measured request was answered. */
function count(): void {
  served++;
  if (served === warmup) cpuStart = process.cpuUsage();
  else if (served === warmup + measured) {
    const used = process.cpuUsage(cpuStart!);
    console.log(`RESULT ${JSON.stringify({ cpu: used.user + used.system, requests: measured })}`);
    // For a profile (`--cpu-prof`): exit on our own, which writes it.
    if (process.env.HTTP_BENCH_EXIT === "1") setTimeout(() => process.exit(0), 100);
  }
}

/**
 * Hand framing over a read function (the raw Deno server, and the library's
 * `recvInto`/`recv` reference rows): one buffer per connection, the head
 * searched in it, the body skipped, the unread rest moved to the front.
 */
async function frameByHand(
  read: (buffer: Uint8Array, from: number) => Promise<number>,
  write: (data: Uint8Array) => Promise<void>,
): Promise<void> {
  const buffer = new Uint8Array(16384);
  let start = 0;
  let end = 0;
  const more = async (): Promise<boolean> => {
    if (start > 0) {
      buffer.copyWithin(0, start, end);
      end -= start;
      start = 0;
    }
    if (end === buffer.length) throw new Error("Request too large");
    const n = await read(buffer, end);
    if (n === 0) return false;
    end += n;
    return true;
  };
  for (;;) {
    let at = findHeadEnd(buffer, start, end);
    let searched = start;
    while (at === -1) {
      if (end - start > MAX_HEAD) throw new Error("Request head too large");
      searched = Math.max(start, end - 3) - start;
      if (!await more()) return;
      at = findHeadEnd(buffer, start + searched, end);
    }
    const head = parseHead(buffer.subarray(start, at));
    const bodyEnd = at + 4 + head.contentLength - start;
    while (end - start < bodyEnd) if (!await more()) return;
    start += bodyEnd;
    if (start === end) start = end = 0;
    await write(RESPONSE);
    count();
    if (head.close) return;
  }
}

/** The library's server: `receiveUntil` + `receiveExactly`. */
async function untilHandler(stream: AsyncStreamSocketAdapter): Promise<void> {
  for (;;) {
    let headBytes: Uint8Array;
    try {
      headBytes = await stream.receiveUntil(CRLFCRLF, MAX_HEAD);
    } catch (error) {
      if (error instanceof IncompleteReadError) return;
      throw error;
    }
    const head = parseHead(headBytes);
    if (head.contentLength > 0) await stream.receiveExactly(head.contentLength);
    await stream.sendall(RESPONSE);
    count();
    if (head.close) return;
  }
}

function recvIntoHandler(stream: AsyncStreamSocketAdapter): Promise<void> {
  return frameByHand(
    (buffer, from) => stream.recvInto(buffer.subarray(from)),
    (data) => stream.sendall(data),
  );
}

function recvHandler(stream: AsyncStreamSocketAdapter): Promise<void> {
  return frameByHand(async (buffer, from) => {
    const chunk = await stream.recv(65536);
    if (chunk.length > buffer.length - from) throw new Error("Request too large");
    buffer.set(chunk, from);
    return chunk.length;
  }, (data) => stream.sendall(data));
}

function rawNodeServer(): Server {
  return createServer({ noDelay: true }, (socket) => {
    let pending: Uint8Array | null = null;
    socket.on("error", () => {});
    socket.on("data", (chunk: Uint8Array) => {
      let data = chunk;
      if (pending !== null) {
        data = new Uint8Array(pending.length + chunk.length);
        data.set(pending);
        data.set(chunk, pending.length);
        pending = null;
      }
      let start = 0;
      for (;;) {
        const at = findHeadEnd(data, start, data.length);
        if (at === -1) break;
        const head = parseHead(data.subarray(start, at));
        const end = at + 4 + head.contentLength;
        if (end > data.length) break;
        start = end;
        socket.write(RESPONSE);
        count();
        if (head.close) return void socket.end();
      }
      if (start < data.length) {
        if (data.length - start > MAX_HEAD + 1_000_000) return void socket.destroy();
        pending = data.slice(start);
      }
    });
  });
}

/** Runs in a child: serves with `variant` until killed; prints `PORT` and, after the load, `RESULT`. */
async function server(variant: string): Promise<void> {
  const say = (port: number) => console.log(`PORT ${port}`);
  if (variant === "raw-deno") {
    const listener = Deno!.listen({ hostname: "127.0.0.1", port: 0 });
    say(listener.addr.port);
    for await (const conn of listener) {
      frameByHand(
        async (buffer, from) => (await conn.read(buffer.subarray(from))) ?? 0,
        (data) => writeAll(conn, data),
      ).catch(() => {}).finally(() => conn.close());
    }
    return;
  }
  if (variant === "raw-node") {
    const listening = rawNodeServer();
    await new Promise<void>((resolve) => listening.listen({ host: "127.0.0.1", port: 0 }, resolve));
    say((listening.address() as { port: number }).port);
    await new Promise(() => {});
  }
  const [name, mode] = variant.split(":") as ["deno" | "node", string];
  await AsyncBackendFactory.load(name);
  const backend = AsyncBackendFactory.new(name);
  const handler = mode === "until" ? untilHandler : mode === "recvInto" ? recvIntoHandler : recvHandler;
  await backend.bootstrap(async () => {
    await backend.createTaskGroup(async (tg) => {
      const [listener] = await tg.start<[], AsyncListenerSocketAdapter[]>((status) =>
        backend.serveTcp(handler, 0, { host: "127.0.0.1", taskStatus: status, onError: () => {} })
      );
      say(listener.getLocalAddress().port);
    });
  });
}

// ---- The parent: spawns server and load, reads the server's CPU time ----

function childArgs(script: string): string[] {
  return isDeno ? ["run", "-A", "--unstable-net", script] : [script];
}

/** One server run under load: CPU µs per request of the server process. */
function httpRound(variant: string): Promise<number> {
  const self = process.argv[1];
  const load = new URL(`./_http_load.${self.endsWith(".js") ? "js" : "ts"}`, import.meta.url).pathname;
  const serverProc = spawn(process.execPath, [
    ...childArgs(self),
    "--server",
    variant,
    String(HTTP_WARMUP),
    String(HTTP_REQUESTS),
  ], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise<number>((resolve, reject) => {
    let text = "";
    let cpu: number | undefined;
    let loadDone = false;
    const finish = () => {
      if (cpu === undefined || !loadDone) return;
      serverProc.kill();
      resolve(cpu);
    };
    serverProc.stdout.setEncoding("utf8");
    serverProc.stdout.on("data", (chunk: string) => {
      text += chunk;
      for (let newline; (newline = text.indexOf("\n")) !== -1;) {
        const line = text.slice(0, newline);
        text = text.slice(newline + 1);
        if (line.startsWith("PORT ")) {
          const loader = spawn(process.execPath, [
            ...childArgs(load),
            line.slice(5),
            String(HTTP_CONNECTIONS),
            String(HTTP_WARMUP + HTTP_REQUESTS),
          ], { stdio: ["ignore", "ignore", "inherit"] });
          loader.on("exit", (code) => {
            if (code !== 0) {
              serverProc.kill();
              reject(new Error(`the load generator exited with code ${code}`));
            }
            loadDone = true;
            finish();
          });
        } else if (line.startsWith("RESULT ")) {
          const result = JSON.parse(line.slice(7));
          cpu = result.cpu / result.requests;
          finish();
        } else if (line.trim() !== "") console.log(`  [${variant}] ${line}`);
      }
    });
    serverProc.on("exit", (code, signal) => {
      if (cpu === undefined) reject(new Error(`the ${variant} server exited with ${code ?? signal}`));
    });
  });
}

async function parent(): Promise<void> {
  const names = [...AsyncBackendFactory.getAvailableBackends()];
  const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
  const want = (what: string) => wanted.length === 0 || wanted.some((w) => what.includes(w));
  const load = `load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`;

  // Echo at 1,000 connections.
  const echoResults: Result[] = [];
  for (const name of names) {
    if (!want("echo")) break;
    await AsyncBackendFactory.load(name);
    echoResults.push(await echoRow(name, AsyncBackendFactory.new(name)));
  }
  if (echoResults.length > 0) report(`Echo at load, ${runtime}; ${load}`, echoResults);

  // HTTP: CPU per request of the server process.
  const rounds = Number(process.env.BENCH_HTTP_ROUNDS ?? (QUICK ? 1 : 3));
  const rows: string[][] = [];
  const cpuResults: Result[] = [];
  for (const name of names) {
    const raw = name === "deno" ? "raw-deno" : "raw-node";
    for (const mode of ["until", "recvInto", "recv"]) {
      const variant = `${name}:${mode}`;
      if (!want("http") && !want(variant)) continue;
      const ours: number[] = [];
      const reference: number[] = [];
      for (let i = 0; i < rounds; i++) {
        for (const side of i % 2 === 0 ? [variant, raw] : [raw, variant]) {
          (side === raw ? reference : ours).push(await httpRound(side));
        }
      }
      const ratios = ours.map((cpu, i) => cpu / reference[i]);
      const ratio = median(ratios);
      const goal = mode === "until" ? 1.15 : undefined;
      const how = mode === "until"
        ? "receiveUntil + receiveExactly"
        : mode === "recvInto"
        ? "recvInto, by hand"
        : "recv(65536), by hand";
      const row = [
        `${name} backend: HTTP/1.1 keep-alive, ${how}`,
        `${median(ours).toFixed(2)} µs`,
        `${median(reference).toFixed(2)} µs (${name === "deno" ? "Deno.listen" : "node:net"})`,
        `${ratio.toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
        goal === undefined ? "—" : `≤ ${goal}×`,
        goal === undefined ? "—" : ratio <= goal ? "yes" : "no",
      ];
      console.log(row.join("  |  "));
      rows.push(row);
      // The same row through the harness, so that run_all records it (µs of server CPU as ms per request).
      cpuResults.push({
        comparison: {
          name: `${name} backend: HTTP/1.1 keep-alive, ${how} (server CPU per request)`,
          ops: 1,
          ours: () => {},
          rawName: name === "deno" ? "Deno.listen" : "node:net",
          raw: () => {},
          goal,
        },
        oursPerOp: median(ours) / 1000,
        rawPerOp: median(reference) / 1000,
        ratio,
        spread: [Math.min(...ratios), Math.max(...ratios)],
        rounds,
      });
    }
  }
  if (rows.length === 0) return;
  report(`HTTP/1.1 keep-alive server, ${runtime}: server CPU time per request; ${load}`, cpuResults);
  const header = ["Server", "Ours CPU / request", "Raw CPU / request", "Ratio (min–max)", "Goal", "Met"];
  console.log(
    `\nHTTP/1.1 keep-alive server, ${runtime}: server CPU time per request, ${HTTP_CONNECTIONS} connections, ` +
      `${HTTP_REQUESTS.toLocaleString("en")} requests after ${HTTP_WARMUP.toLocaleString("en")}, median of ${rounds} ` +
      `interleaved rounds; ${load}\n`,
  );
  console.log(`| ${header.join(" | ")} |`);
  console.log(`|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
  for (const row of rows) console.log(`| ${row.map((cell) => (cell === "no" ? "**no**" : cell)).join(" | ")} |`);
}

const at = process.argv.indexOf("--server");
if (at !== -1) {
  warmup = Number(process.argv[at + 2]);
  measured = Number(process.argv[at + 3]);
  await server(process.argv[at + 1]);
} else {
  await parent();
}
