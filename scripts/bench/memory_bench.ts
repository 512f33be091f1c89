/**
 * The memory benchmark (`deno task bench memory`): resident memory (RSS) per
 * held thing, the library against the runtime's own API, each variant in a
 * child process of its own so that one variant's heap cannot hide in the
 * other's:
 *
 * - an idle TCP connection: 5,000 loopback connections accepted and held open
 *   through the library's adapters (`createTcpListeners` + `accept().connect()`)
 *   vs the runtime's own (`Deno.listen` on Deno, `node:net` on Node and on Deno's
 *   `node:` modules) (goal ≤ 1.3×);
 * - the same with a pending read on every connection: `recv(65536)` vs
 *   `conn.read()` into a 64 KiB buffer (Deno) or a promise settled by
 *   `once('data')` (`node:net`) (goal ≤ 1.5×);
 * - a sleeping task: 100k tasks each in `backend.sleep(1e9)` in one task group
 *   (cancelled at the end) vs 100k `await new Promise((r) => setTimeout(r, 1e9))`
 *   waiters (goal ≤ 1.3×).
 *
 * The peer ends of the connections live in this (the parent) process. A child
 * warms up (a few connections opened and closed), collects garbage, reads its
 * RSS, opens the connections (or starts the waiters), collects again, waits
 * for the RSS to settle and reads it again: the difference divided by the
 * count is the figure. Each variant runs `BENCH_ROUNDS` times (default 3,
 * interleaved with its reference); the table gives the median bytes per
 * connection and the ratio of the medians, with the min–max of the per-round
 * ratios. `--quick` (or `BENCH_QUICK=1`) holds 50 connections and 1,000 tasks,
 * one round.
 *
 * Runs on Deno (`deno task bench memory`) and, from the npm build, on Node
 * (`node --expose-gc npm/scripts/bench/memory_bench.js`).
 *
 * @module
 */

import { spawn } from "node:child_process";
import { connect, createServer, type Server, type Socket } from "node:net";
import { loadavg } from "node:os";
import process from "node:process";
import type { AsyncBackend, AsyncStreamSocketAdapter } from "../../backend/mod.ts";
import { AsyncBackendFactory } from "../../factory/mod.ts";
import { median, QUICK, report, type Result, sized } from "./measure.ts";

const CONNECTIONS = sized(5_000, 50);
const TASKS = sized(100_000, 1_000);
const READ_SIZE = 64 * 1024;
const WARMUP = 64;
const rounds = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const isDeno = "deno" in process.versions;
const runtime = isDeno
  ? `Deno ${process.versions.deno} (V8 ${process.versions.v8})`
  : `Node ${process.versions.node} (V8 ${process.versions.v8})`;

/** The raw Deno API, typed as far as this bench uses it (the file also compiles for Node). */
interface RawConn {
  read(buffer: Uint8Array): Promise<number | null>;
  close(): void;
}
interface RawDeno {
  listen(options: { hostname: string; port: number }): {
    addr: { port: number };
    accept(): Promise<RawConn>;
    close(): void;
  };
}
const Deno = (globalThis as { Deno?: RawDeno }).Deno;

const collect = (globalThis as { gc?: () => void }).gc ?? (() => {});
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Collects garbage until the RSS stops falling, then reads it. The pauses
 * between collections let V8 see a low allocation rate and shrink its young
 * generation, which a burst of allocations grew (what is measured is what the
 * held things keep, not the collector's reaction to how fast they were made).
 */
async function settledRss(): Promise<number> {
  let last = Infinity;
  for (let i = 0; i < Number(process.env.MEMORY_BENCH_SETTLE ?? 12); i++) {
    collect();
    await pause(Number(process.env.MEMORY_BENCH_PAUSE ?? 200));
    const rss = process.memoryUsage().rss;
    if (i >= 3 && rss >= last - 16 * 1024) return rss;
    last = Math.min(last, rss);
  }
  return process.memoryUsage().rss;
}

// ---- The child: one variant ----

/** A variant: what a child holds, and how it opens its connections (`port`: where the parent waits). */
type Kind = "idle" | "read";

interface Held {
  /** Accepts one connection and holds it. */
  accept(): Promise<void>;
  /** Starts the pending read on every connection held. */
  read(): void;
  /** Closes everything. */
  close(): Promise<void>;
  readonly port: number;
}

function rawDeno(): Held {
  const listener = Deno!.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: RawConn[] = [];
  return {
    port: listener.addr.port,
    async accept() {
      conns.push(await listener.accept());
    },
    read() {
      for (const conn of conns) conn.read(new Uint8Array(READ_SIZE)).catch(() => {});
    },
    close() {
      for (const conn of conns) conn.close();
      listener.close();
      return Promise.resolve();
    },
  };
}

async function rawNode(): Promise<Held> {
  const sockets: Socket[] = [];
  const waiting: ((socket: Socket) => void)[] = [];
  const arrived: Socket[] = [];
  const server: Server = createServer((socket) => {
    socket.on("error", () => {});
    const waiter = waiting.shift();
    if (waiter !== undefined) waiter(socket);
    else arrived.push(socket);
  });
  await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
  return {
    port: (server.address() as { port: number }).port,
    async accept() {
      const socket = arrived.shift();
      sockets.push(socket ?? await new Promise<Socket>((resolve) => waiting.push(resolve)));
    },
    read() {
      for (const socket of sockets) new Promise((resolve) => socket.once("data", resolve));
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function ours(backend: AsyncBackend): Promise<Held> {
  const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 4096);
  const streams: AsyncStreamSocketAdapter[] = [];
  return {
    port: listener.getLocalAddress().port,
    async accept() {
      streams.push(await (await listener.accept()).connect());
    },
    read() {
      for (const stream of streams) stream.recv(READ_SIZE).catch(() => {});
    },
    async close() {
      for (const stream of streams) await stream.aclose();
      await listener.aclose();
    },
  };
}

/** Runs in a child: holds `count` connections of `variant`, prints `{ before, after }` RSS as JSON. */
async function child(variant: string, kind: Kind | "sleep", count: number): Promise<void> {
  const total0 = process.memoryUsage().heapTotal;
  const report = async (before: number, after: number, heap: number) => {
    if (process.env.MEMORY_BENCH_DEBUG === "1") {
      const { heapTotal, external } = process.memoryUsage();
      console.log(`heapTotal +${((heapTotal - total0) / count).toFixed(0)} B/item, external ${external}`);
      const v8 = await import("node:v8");
      for (const space of v8.getHeapSpaceStatistics()) {
        console.log(`${space.space_name}: size ${space.space_size >> 10} KiB, used ${space.space_used_size >> 10} KiB`);
      }
    }
    console.log(`RESULT ${JSON.stringify({ before, after, heap })}`);
  };
  if (kind === "sleep") {
    if (variant === "raw") {
      const warm = Array.from({ length: 100 }, () => new Promise((r) => setTimeout(r, 1)));
      await Promise.all(warm);
      const before = await settledRss();
      const heap0 = process.memoryUsage().heapUsed;
      const timers: ReturnType<typeof setTimeout>[] = [];
      for (let i = 0; i < count; i++) new Promise((r) => timers.push(setTimeout(r, 1e9)));
      const after = await settledRss();
      await report(before, after, process.memoryUsage().heapUsed - heap0);
      for (const timer of timers) clearTimeout(timer);
      return;
    }
    await AsyncBackendFactory.load(variant as "deno" | "node");
    const backend = AsyncBackendFactory.new(variant as "deno" | "node");
    await backend.bootstrap(async () => {
      await backend.createTaskGroup(async (tg) => {
        for (let i = 0; i < 100; i++) tg.startSoon(() => backend.sleep(0.001));
      });
      const before = await settledRss();
      const heap0 = process.memoryUsage().heapUsed;
      await backend.createTaskGroup(async (tg) => {
        for (let i = 0; i < count; i++) tg.startSoon(() => backend.sleep(1e9));
        await backend.sleep(0.05);
        const after = await settledRss();
        await report(before, after, process.memoryUsage().heapUsed - heap0);
        tg.cancelScope.cancel();
      });
    });
    return;
  }
  const run = async (held: Held) => {
    const ask = (n: number) => console.log(`CONNECT ${held.port} ${n}`);
    // Warm up: the code paths compiled, the first buffers made, before the baseline.
    ask(WARMUP);
    for (let i = 0; i < WARMUP; i++) await held.accept();
    if (kind === "read") held.read();
    await pause(100);
    const before = await settledRss();
    const heap0 = process.memoryUsage().heapUsed;
    ask(count);
    for (let i = 0; i < count; i++) await held.accept();
    if (kind === "read") held.read();
    await pause(200);
    const after = await settledRss();
    await report(before, after, process.memoryUsage().heapUsed - heap0);
    await held.close();
  };
  if (variant === "raw-deno") return await run(rawDeno());
  if (variant === "raw-node") return await run(await rawNode());
  await AsyncBackendFactory.load(variant as "deno" | "node");
  const backend = AsyncBackendFactory.new(variant as "deno" | "node");
  await backend.bootstrap(async () => await run(await ours(backend)));
}

// ---- The parent: spawns the children, is the peer of their connections ----

/** Connects `n` sockets to `port` (50 at a time), kept until the child exits. */
async function connectMany(port: number, n: number, into: Socket[]): Promise<void> {
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < n) {
      next++;
      const socket = await new Promise<Socket>((resolve, reject) => {
        const s = connect({ host: "127.0.0.1", port }, () => resolve(s));
        s.once("error", reject);
      });
      socket.on("error", () => {});
      into.push(socket);
    }
  };
  await Promise.all(Array.from({ length: 50 }, one));
}

interface Sample {
  readonly perItem: number;
  readonly heapPerItem: number;
}

function runChild(variant: string, kind: string, count: number): Promise<Sample> {
  const script = process.argv[1];
  const args = isDeno ? ["run", "-A", "--unstable-net", "--v8-flags=--expose-gc", script] : ["--expose-gc", script];
  const command = [process.execPath, ...args, "--child", variant, kind, String(count)]
    .map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(" ");
  const proc = spawn("sh", ["-c", `ulimit -n 20000 2>/dev/null; exec ${command}`], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const sockets: Socket[] = [];
  return new Promise<Sample>((resolve, reject) => {
    let text = "";
    let result: Sample | undefined;
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (chunk: string) => {
      text += chunk;
      let newline;
      while ((newline = text.indexOf("\n")) !== -1) {
        const line = text.slice(0, newline);
        text = text.slice(newline + 1);
        const [word, a, b] = line.split(" ");
        if (word === "CONNECT") connectMany(Number(a), Number(b), sockets).catch(reject);
        else if (word === "RESULT") {
          const { before, after, heap } = JSON.parse(line.slice(7));
          result = { perItem: (after - before) / count, heapPerItem: heap / count };
        } else if (line.trim() !== "") console.log(`  [${variant}] ${line}`);
      }
    });
    proc.on("exit", (code) => {
      for (const socket of sockets) socket.destroy();
      if (result !== undefined && code === 0) resolve(result);
      else reject(new Error(`${variant} ${kind} exited with code ${code}`));
    });
  });
}

interface Row {
  readonly name: string;
  readonly kind: Kind | "sleep";
  readonly count: number;
  readonly ours: string;
  readonly raw: string;
  readonly rawName: string;
  readonly goal: number;
}

function formatBytes(bytes: number): string {
  return bytes >= 10240 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes.toFixed(0)} B`;
}

async function parent(): Promise<void> {
  const names = [...AsyncBackendFactory.getAvailableBackends()];
  const rows: Row[] = [];
  for (const name of names) {
    const raw = name === "deno" ? "raw-deno" : "raw-node";
    const rawName = name === "deno" ? "Deno.listen" : "node:net";
    rows.push(
      {
        name: `${name} backend: idle TCP connection`,
        kind: "idle",
        count: CONNECTIONS,
        ours: name,
        raw,
        rawName,
        goal: 1.3,
      },
      {
        name: `${name} backend: TCP connection with a pending recv(65536)`,
        kind: "read",
        count: CONNECTIONS,
        ours: name,
        raw,
        rawName: name === "deno" ? "Deno read(64 KiB)" : "once('data') promise",
        goal: 1.5,
      },
    );
  }
  for (const name of names) {
    rows.push({
      name: `${name} backend: task sleeping in a group`,
      kind: "sleep",
      count: TASKS,
      ours: name,
      raw: "raw",
      rawName: "setTimeout promise",
      goal: 1.3,
    });
  }
  const wanted = process.argv.slice(2).filter((arg) => !arg.startsWith("--"));
  const picked = wanted.length === 0 ? rows : rows.filter((row) => wanted.some((w) => row.name.includes(w)));
  const lines: string[][] = [];
  const results: Result[] = [];
  for (const row of picked) {
    const oursSamples: Sample[] = [];
    const rawSamples: Sample[] = [];
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? [row.ours, row.raw] : [row.raw, row.ours];
      for (const variant of order) {
        const sample = await runChild(variant, row.kind, row.count);
        (variant === row.ours ? oursSamples : rawSamples).push(sample);
      }
    }
    const oursMedian = median(oursSamples.map((s) => s.perItem));
    const rawMedian = median(rawSamples.map((s) => s.perItem));
    const ratios = oursSamples.map((s, i) => s.perItem / rawSamples[i].perItem);
    const ratio = oursMedian / rawMedian;
    const line = [
      `${row.name} (${row.count.toLocaleString("en")})`,
      `${formatBytes(oursMedian)} (heap ${formatBytes(median(oursSamples.map((s) => s.heapPerItem)))})`,
      `${formatBytes(rawMedian)} (${row.rawName}; heap ${formatBytes(median(rawSamples.map((s) => s.heapPerItem)))})`,
      `${ratio.toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
      `≤ ${row.goal}×`,
      ratio <= row.goal ? "yes" : "no",
    ];
    console.log(line.join("  |  "));
    lines.push(line);
    results.push({
      comparison: {
        name: `${row.name} (${row.count.toLocaleString("en")}), RSS`,
        ops: row.count,
        ours: () => {},
        rawName: row.rawName,
        raw: () => {},
        goal: row.goal,
        unit: "bytes",
      },
      oursPerOp: oursMedian,
      rawPerOp: rawMedian,
      ratio,
      spread: [Math.min(...ratios), Math.max(...ratios)],
      rounds,
    });
  }
  const header = ["Held", "Ours RSS / item", "Raw RSS / item", "Ratio (min–max)", "Goal", "Met"];
  console.log(
    `\nMemory, ${runtime}, RSS per item, median of ${rounds} child processes per variant; load average ${
      loadavg().map((l) => l.toFixed(2)).join(" ")
    }\n`,
  );
  console.log(`| ${header.join(" | ")} |`);
  console.log(`|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`);
  for (const line of lines) console.log(`| ${line.map((cell) => (cell === "no" ? "**no**" : cell)).join(" | ")} |`);
  // The same rows through the harness, so that run_all records them (bytes per item, not ms).
  report(`Memory on ${runtime}: RSS per item, median of ${rounds} child processes per variant`, results);
}

const at = process.argv.indexOf("--child");
if (at !== -1) {
  const [variant, kind, count] = process.argv.slice(at + 1, at + 4);
  await child(variant, kind as Kind | "sleep", Number(count));
  process.exit(0);
} else {
  await parent();
}
