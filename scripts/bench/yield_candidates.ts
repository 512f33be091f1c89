/**
 * What each raw yield of the runtime does for SPEC 2.1 rule 4 ("a checkpoint
 * is a full turn of the event loop"), measured without the library.
 *
 * For each candidate yield:
 *
 * - **ns/yield**: the cost of one `await yieldOnce()` in a tight loop;
 * - **timer**: in a loop that burns 2 ms of CPU between yields, the number of
 *   yields until a `setTimeout(…, 1)` armed at the start fires (rule 4: ≤ 3);
 * - **I/O chains** (rule 4: ≤ 9), same loop, the number of yields until:
 *   - `net`: a `node:net` server accepts a connection of a `node:net` client of
 *     this process, writes one byte, and the client's read sees it;
 *   - `net+py`: a `node:net` server accepts a connection from a separate
 *     `python3` process (told to connect by a signal, a synchronous syscall),
 *     writes one byte, the peer reads it and answers one byte, and the server
 *     reads the answer;
 *   - on Deno, the same two with `Deno.listen`/`Deno.connect` (`Deno` and
 *     `Deno+py`).
 *
 * A chain that has not completed after {@linkcode CAP} yields is shown as
 * `>CAP`. Each figure is the median (and the worst) of a few rounds.
 *
 * Usage:
 *
 * - Deno: `deno run -A scripts/bench/yield_candidates.ts`
 * - Node 24: `npx -y node@24 scripts/bench/yield_candidates.ts` (type stripping)
 * - Node 20: `deno bundle --platform=node -o /tmp/yield_candidates.mjs
 *   scripts/bench/yield_candidates.ts && node /tmp/yield_candidates.mjs`
 *
 * `ROUNDS` (default 5) and `CAP` (default 1500) override the round count and
 * the give-up bound.
 *
 * @module
 */

import { spawn } from "node:child_process";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import process from "node:process";
import { setImmediate } from "node:timers";

type YieldOnce = () => Promise<void>;

interface Candidate {
  readonly name: string;
  readonly yieldOnce: YieldOnce;
  /** Tight-loop iterations for the ns/yield figure (fewer for the slow ones). */
  readonly tightIterations: number;
  readonly close?: () => void;
}

const isDeno = "Deno" in globalThis;
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const CAP = Number(process.env.CAP ?? 1500);
const BURN_MS = 2;

// ---- Candidates ----

const setImmediateYield: YieldOnce = () => new Promise<void>((resolve) => setImmediate(resolve));
const setTimeoutYield: YieldOnce = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** One `MessageChannel` round per yield, on one long-lived channel (closed at the end). */
function messageChannelYield(): { yieldOnce: YieldOnce; close: () => void } {
  const channel = new MessageChannel();
  let waiter: (() => void) | null = null;
  channel.port1.onmessage = () => {
    const resolve = waiter!;
    waiter = null;
    resolve();
  };
  return {
    yieldOnce: () =>
      new Promise<void>((resolve) => {
        waiter = resolve;
        channel.port2.postMessage(null);
      }),
    close: () => channel.port1.close(),
  };
}

/** `Atomics.waitAsync` on a word nobody notifies, with a 1 µs timeout: a V8 platform delayed task. */
function atomicsYield(): YieldOnce | undefined {
  const waitAsync = (Atomics as unknown as {
    waitAsync?: (array: Int32Array, index: number, value: number, timeout: number) => {
      async: boolean;
      value: Promise<string> | string;
    };
  }).waitAsync;
  if (waitAsync === undefined) return undefined;
  const word = new Int32Array(new SharedArrayBuffer(4));
  return async () => {
    const result = waitAsync(word, 0, 0, 0.001);
    if (result.async) await result.value;
  };
}

/** `rounds` chained `setImmediate` rounds. */
function immediateChain(rounds: number): YieldOnce {
  return () =>
    new Promise<void>((resolve) => {
      let left = rounds;
      const step = (): void => {
        if (--left === 0) resolve();
        else setImmediate(step);
      };
      setImmediate(step);
    });
}

/**
 * A fast yield, and a real turn (`slow`) whenever `periodMs` has passed since
 * the last one: the shape of the library's design. With `fastPerTurn`, that
 * many fast yields count as a turn too (Deno: one I/O poll every 61 rounds).
 */
function hybrid(fast: YieldOnce, slow: YieldOnce, periodMs: number, fastPerTurn = Infinity): YieldOnce {
  let lastTurn = -Infinity;
  let fastCount = 0;
  let fastSince = 0;
  return async () => {
    if (performance.now() - lastTurn >= periodMs) {
      await slow();
      lastTurn = performance.now();
      fastCount = 0;
    } else {
      await fast();
      if (++fastCount === 1) fastSince = performance.now();
      else if (fastCount >= fastPerTurn) {
        lastTurn = fastSince;
        fastCount = 0;
      }
    }
  };
}

function candidates(): Candidate[] {
  const list: Candidate[] = [];
  const channel = (name: string, wrap: (yieldOnce: YieldOnce) => YieldOnce, tightIterations: number) => {
    const c = messageChannelYield();
    list.push({ name, yieldOnce: wrap(c.yieldOnce), tightIterations, close: c.close });
  };
  list.push({ name: "setImmediate", yieldOnce: setImmediateYield, tightIterations: 100_000 });
  channel("MessageChannel", (y) => y, 100_000);
  list.push({ name: "setTimeout(0)", yieldOnce: setTimeoutYield, tightIterations: 500 });
  const atomics = atomicsYield();
  if (atomics !== undefined) list.push({ name: "Atomics.waitAsync(1µs)", yieldOnce: atomics, tightIterations: 1_000 });
  list.push({ name: "2 chained setImmediate", yieldOnce: immediateChain(2), tightIterations: 50_000 });
  list.push({ name: "64 chained setImmediate", yieldOnce: immediateChain(64), tightIterations: 2_000 });
  // The library's designs: Node's, then Deno's.
  channel("MessageChannel + 2 chained setImmediate ≥1ms", (y) => hybrid(y, immediateChain(2), 1), 100_000);
  list.push({
    name: "setImmediate + 64 chained setImmediate ≥1ms, 64 setImmediate = a turn",
    yieldOnce: hybrid(setImmediateYield, immediateChain(64), 1, 64),
    tightIterations: 100_000,
  });
  // Other shapes.
  list.push({
    name: "setImmediate + 64 chained setImmediate ≥1ms",
    yieldOnce: hybrid(setImmediateYield, immediateChain(64), 1),
    tightIterations: 100_000,
  });
  list.push({
    name: "setImmediate + setTimeout(0) ≥1ms",
    yieldOnce: hybrid(setImmediateYield, setTimeoutYield, 1),
    tightIterations: 100_000,
  });
  channel("MessageChannel + setTimeout(0) ≥1ms", (y) => hybrid(y, setTimeoutYield, 1), 100_000);
  return list;
}

// ---- Measures ----

function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Busy: the CPU-bound task of rule 4.
  }
}

async function nsPerYield(candidate: Candidate): Promise<number> {
  const n = candidate.tightIterations;
  for (let i = 0; i < Math.min(n, 1000); i++) await candidate.yieldOnce(); // warm-up
  const start = performance.now();
  for (let i = 0; i < n; i++) await candidate.yieldOnce();
  return ((performance.now() - start) / n) * 1e6;
}

/** Yields (burning 2 ms before each) until `done()`; returns the count, or `Infinity` past {@linkcode CAP}. */
async function yieldsUntil(yieldOnce: YieldOnce, done: () => boolean): Promise<number> {
  for (let count = 0; count <= CAP; count++) {
    if (done()) return count;
    burn(BURN_MS);
    await yieldOnce();
  }
  return Infinity;
}

/** Lets the loop settle (pending callbacks of the previous round) between rounds. */
function settle(): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, 5));
}

async function timerRound(yieldOnce: YieldOnce): Promise<number> {
  let fired = false;
  setTimeout(() => fired = true, 1);
  const count = await yieldsUntil(yieldOnce, () => fired);
  await until(() => fired);
  return count;
}

/** Waits (without burning) until `condition()`: cleanup after a round that gave up. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise<void>((resolve) => setTimeout(resolve, 1));
}

// node:net, both ends in this process.
async function netRound(yieldOnce: YieldOnce, server: Server, port: number): Promise<number> {
  let done = false;
  let serverSide: Socket | undefined;
  server.once("connection", (socket: Socket) => {
    serverSide = socket;
    socket.setNoDelay(true);
    socket.write("x");
  });
  const client = createConnection({ host: "127.0.0.1", port });
  client.once("data", () => done = true);
  const count = await yieldsUntil(yieldOnce, () => done);
  await until(() => done);
  client.destroy();
  serverSide?.destroy();
  return count;
}

// node:net server, python3 peer.
async function netPythonRound(yieldOnce: YieldOnce, server: Server, peer: Peer): Promise<number> {
  let done = false;
  let serverSide: Socket | undefined;
  server.once("connection", (socket: Socket) => {
    serverSide = socket;
    socket.setNoDelay(true);
    socket.write("x");
    socket.once("data", () => done = true);
  });
  peer.go();
  const count = await yieldsUntil(yieldOnce, () => done);
  await until(() => done);
  serverSide?.destroy();
  return count;
}

// Deno.listen / Deno.connect, both ends in this process.
async function denoRound(yieldOnce: YieldOnce, listener: Deno.TcpListener, port: number): Promise<number> {
  let done = false;
  const server = (async () => {
    const conn = await listener.accept();
    await conn.write(new Uint8Array([120]));
    return conn;
  })();
  const client = (async () => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.read(new Uint8Array(1));
    done = true;
    return conn;
  })();
  const count = await yieldsUntil(yieldOnce, () => done);
  (await server).close();
  (await client).close();
  return count;
}

// Deno.listen server, python3 peer.
async function denoPythonRound(yieldOnce: YieldOnce, listener: Deno.TcpListener, peer: Peer): Promise<number> {
  let done = false;
  const server = (async () => {
    const conn = await listener.accept();
    await conn.write(new Uint8Array([120]));
    await conn.read(new Uint8Array(1));
    done = true;
    return conn;
  })();
  peer.go();
  const count = await yieldsUntil(yieldOnce, () => done);
  (await server).close();
  return count;
}

// ---- The python3 peer ----

const PEER = `
import signal, socket, sys
port = int(sys.argv[1])
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])
sys.stdout.write("ready\\n"); sys.stdout.flush()
while True:
    signal.sigwait([signal.SIGUSR1])
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if not s.recv(1):
        break
    s.sendall(b"k")
    s.close()
`;

interface Peer {
  /** Tells the peer to connect (a signal: no event-loop turn needed on our side). */
  go(): void;
  stop(): Promise<void>;
}

async function startPeer(port: number): Promise<Peer> {
  const child = spawn("python3", ["-c", PEER, String(port)], { stdio: ["ignore", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    child.once("error", reject);
    child.stdout!.once("data", () => resolve());
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    go: () => void process.kill(child.pid!, "SIGUSR1"),
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

// ---- Run ----

function listenNet(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      resolve({ server, port: (server.address() as { port: number }).port });
    });
  });
}

function summary(counts: number[]): string {
  const sorted = [...counts].sort((a, b) => a - b);
  const show = (n: number) => (n === Infinity ? `>${CAP}` : String(n));
  return `${show(sorted[sorted.length >> 1])} (max ${show(sorted[sorted.length - 1])})`;
}

async function rounds(round: () => Promise<number>): Promise<string> {
  const counts: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await settle();
    const count = await round();
    counts.push(count);
    if (count === Infinity) break; // One starved round says it; the others would take CAP × 2 ms each.
  }
  return summary(counts);
}

const runtime = isDeno ? `Deno ${process.versions.deno}` : `Node ${process.versions.node}`;
const net = await listenNet();
const netPeer = await startPeer(net.port);
const denoListener = isDeno ? Deno.listen({ hostname: "127.0.0.1", port: 0 }) : undefined;
const denoPeer = denoListener ? await startPeer(denoListener.addr.port) : undefined;

const header = ["candidate", "ns/yield", "timer 1ms", "net", "net+py", ...(isDeno ? ["Deno", "Deno+py"] : [])];
const rows: string[][] = [];
console.log(`Yield candidates on ${runtime}: ${ROUNDS} rounds, 2 ms burnt between yields, give up after ${CAP}`);
for (const candidate of candidates()) {
  const row = [candidate.name];
  row.push((await nsPerYield(candidate)).toFixed(0));
  row.push(await rounds(() => timerRound(candidate.yieldOnce)));
  row.push(await rounds(() => netRound(candidate.yieldOnce, net.server, net.port)));
  row.push(await rounds(() => netPythonRound(candidate.yieldOnce, net.server, netPeer)));
  if (denoListener !== undefined && denoPeer !== undefined) {
    row.push(await rounds(() => denoRound(candidate.yieldOnce, denoListener, denoListener.addr.port)));
    row.push(await rounds(() => denoPythonRound(candidate.yieldOnce, denoListener, denoPeer)));
  }
  candidate.close?.();
  rows.push(row);
  console.log(row.join(" | "));
}

await netPeer.stop();
await denoPeer?.stop();
net.server.close();
denoListener?.close();

console.log("\nMarkdown:\n");
console.log(`| ${header.join(" | ")} |`);
console.log(`|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
