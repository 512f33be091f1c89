/**
 * The buffered-read benchmark (`deno task bench stream`): parsing 1 million
 * short lines with `receiveUntil("\n")` against a hand-written scan over
 * `recvInto` on the same adapter, in one process (goal ≤ 1.3×).
 *
 * Each round opens a loopback TCP connection; the server sends the lines (about
 * 12 MB, prepared once) in 64 KiB writes and closes its write side, the client
 * parses them. The reference reads 64 KiB at a time with `recvInto` into one
 * buffer and cuts lines with `indexOf`, each line a view of the buffer (a line
 * cut by a read joined in a carry buffer); ours calls `receiveUntil` once per
 * line. Both sum the line lengths, so neither can skip the work.
 *
 * Two rows show where the time goes. The floor is the reference plus what any
 * call that returns a line must pay and nothing else: per line, the
 * checkpoint's cancel check (the caller's scope looked up) and one awaited
 * promise resolved with the line; ours is compared with it too. A last row
 * compares with the same scan written as an async generator of lines. Ratio =
 * time ours / reference, median of interleaved rounds (`BENCH_ROUNDS`, default
 * 9), on every backend of the runtime (on Deno the Node backend runs through
 * Deno's `node:` modules); `BENCH_QUICK=1` (or `--quick`) parses 1/16 of the
 * lines in 3 rounds.
 *
 * Runs on Deno (`deno task bench stream`) and, from the npm build, on Node
 * (`node --expose-gc npm/scripts/bench/stream_bench.js`).
 *
 * @module
 */

import { loadavg } from "node:os";
import process from "node:process";
import type { AsyncBackend, AsyncHalfCloseableStreamSocketAdapter } from "../../backend/mod.ts";
import { currentScope } from "../../backend/_core/cancel_scope.ts";
import { CancelledError } from "../../backend/errors.ts";
import { AsyncBackendFactory } from "../../factory/mod.ts";
import { compare, type Comparison, report, type Result } from "./measure.ts";

const runtime = "deno" in process.versions
  ? `Deno ${process.versions.deno} (V8 ${process.versions.v8})`
  : `Node ${process.versions.node} (V8 ${process.versions.v8})`;
const quick = process.env.BENCH_QUICK === "1" || process.argv.includes("--quick");
const LINES = quick ? 1_000_000 / 16 : 1_000_000;
const rounds = Number(process.env.BENCH_ROUNDS ?? (quick ? 3 : 9));
const CHUNK = 64 * 1024;

// "line 0000001\n" ... : 13 bytes a line.
const wire = new TextEncoder().encode(
  Array.from({ length: LINES }, (_, i) => `line ${String(i).padStart(7, "0")}\n`).join(""),
);
const EXPECTED = wire.length - LINES;

/** Runs `parse` on a fresh connection whose peer sends `wire` and ends; checks the total. */
async function round(
  backend: AsyncBackend,
  parse: (stream: AsyncHalfCloseableStreamSocketAdapter) => Promise<number>,
): Promise<void> {
  await backend.bootstrap(async () => {
    const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 4);
    try {
      await backend.createTaskGroup(async (tg) => {
        tg.startSoon(async () => {
          const server = await (await listener.accept()).connect() as AsyncHalfCloseableStreamSocketAdapter;
          try {
            for (let at = 0; at < wire.length; at += CHUNK) await server.sendall(wire.subarray(at, at + CHUNK));
            await server.sendEof();
          } finally {
            await server.aclose();
          }
        });
        const client = await backend.createTcpConnection("127.0.0.1", listener.getLocalAddress().port);
        try {
          const total = await parse(client as AsyncHalfCloseableStreamSocketAdapter);
          if (total !== EXPECTED) throw new Error(`parsed ${total} bytes of lines, expected ${EXPECTED}`);
        } finally {
          await client.aclose();
        }
      });
    } finally {
      await listener.aclose();
    }
  });
}

/** Ours: one `receiveUntil` per line. */
async function withReceiveUntil(stream: AsyncHalfCloseableStreamSocketAdapter): Promise<number> {
  let total = 0;
  for (let i = 0; i < LINES; i++) total += (await stream.receiveUntil("\n")).length;
  return total;
}

/** The reference: `recvInto` 64 KiB at a time, lines cut with `indexOf` (views), a carry buffer across reads. */
async function withRecvInto(stream: AsyncHalfCloseableStreamSocketAdapter): Promise<number> {
  const buffer = new Uint8Array(CHUNK);
  let carry = new Uint8Array(256);
  let carried = 0;
  let total = 0;
  let lines = 0;
  while (lines < LINES) {
    const n = await stream.recvInto(buffer);
    if (n === 0) throw new Error("early end of stream");
    let start = 0;
    for (let end = buffer.indexOf(10, 0); end !== -1 && end < n; end = buffer.indexOf(10, start)) {
      let line: Uint8Array;
      if (carried > 0) {
        if (carried + end > carry.length) {
          const grown = new Uint8Array(2 * (carried + end));
          grown.set(carry.subarray(0, carried));
          carry = grown;
        }
        carry.set(buffer.subarray(0, end), carried);
        line = carry.subarray(0, carried + end);
        carried = 0;
      } else {
        line = buffer.subarray(start, end);
      }
      total += line.length;
      lines++;
      start = end + 1;
    }
    const rest = n - start;
    if (carried + rest > carry.length) {
      const grown = new Uint8Array(2 * (carried + rest));
      grown.set(carry.subarray(0, carried));
      carry = grown;
    }
    carry.set(buffer.subarray(start, n), carried);
    carried += rest;
  }
  return total;
}

/** What a line costs a call that checks for cancellation and returns it in a promise, and nothing more. */
function checkpoint(line: Uint8Array): Promise<Uint8Array> {
  const scope = currentScope();
  if (scope !== undefined && scope.isCancelled()) return Promise.reject(new CancelledError());
  return Promise.resolve(line);
}

/** The floor: the reference, each line passed through {@linkcode checkpoint} and awaited. */
async function withFloor(stream: AsyncHalfCloseableStreamSocketAdapter): Promise<number> {
  const buffer = new Uint8Array(CHUNK);
  let carry = new Uint8Array(256);
  let carried = 0;
  let total = 0;
  let lines = 0;
  while (lines < LINES) {
    const n = await stream.recvInto(buffer);
    if (n === 0) throw new Error("early end of stream");
    let start = 0;
    for (let end = buffer.indexOf(10, 0); end !== -1 && end < n; end = buffer.indexOf(10, start)) {
      let line: Uint8Array;
      if (carried > 0) {
        if (carried + end > carry.length) {
          const grown = new Uint8Array(2 * (carried + end));
          grown.set(carry.subarray(0, carried));
          carry = grown;
        }
        carry.set(buffer.subarray(0, end), carried);
        line = carry.subarray(0, carried + end);
        carried = 0;
      } else {
        line = buffer.subarray(start, end);
      }
      total += (await checkpoint(line)).length;
      lines++;
      start = end + 1;
    }
    const rest = n - start;
    if (carried + rest > carry.length) {
      const grown = new Uint8Array(2 * (carried + rest));
      grown.set(carry.subarray(0, carried));
      carry = grown;
    }
    carry.set(buffer.subarray(start, n), carried);
    carried += rest;
  }
  return total;
}

/** The same scan as an async generator of lines: a promise per line, as any line API that awaits pays. */
async function* lines(stream: AsyncHalfCloseableStreamSocketAdapter): AsyncGenerator<Uint8Array> {
  const buffer = new Uint8Array(CHUNK);
  let carry = new Uint8Array(0);
  for (;;) {
    const n = await stream.recvInto(buffer);
    if (n === 0) return;
    let start = 0;
    for (let end = buffer.indexOf(10, 0); end !== -1 && end < n; end = buffer.indexOf(10, start)) {
      if (carry.length > 0) {
        const line = new Uint8Array(carry.length + end);
        line.set(carry);
        line.set(buffer.subarray(0, end), carry.length);
        carry = new Uint8Array(0);
        yield line;
      } else {
        yield buffer.subarray(start, end);
      }
      start = end + 1;
    }
    const rest = new Uint8Array(carry.length + n - start);
    rest.set(carry);
    rest.set(buffer.subarray(start, n), carry.length);
    carry = rest;
  }
}

/** Reference: `for await` over {@linkcode lines}. */
async function withGenerator(stream: AsyncHalfCloseableStreamSocketAdapter): Promise<number> {
  let total = 0;
  let count = 0;
  for await (const line of lines(stream)) {
    total += line.length;
    if (++count === LINES) break;
  }
  return total;
}

const comparisons: Comparison[] = [];
const names = [...AsyncBackendFactory.getAvailableBackends()];
for (const name of names) {
  await AsyncBackendFactory.load(name);
  const backend = AsyncBackendFactory.new(name);
  const label = `${name} backend, ${LINES.toLocaleString("en")} lines`;
  comparisons.push({
    name: `${label}: receiveUntil`,
    ops: LINES,
    ours: () => round(backend, withReceiveUntil),
    rawName: "recvInto + indexOf",
    raw: () => round(backend, withRecvInto),
    goal: 1.3,
  }, {
    name: `${label}: floor (the scan + a checkpoint and an awaited promise per line)`,
    ops: LINES,
    ours: () => round(backend, withFloor),
    rawName: "recvInto + indexOf",
    raw: () => round(backend, withRecvInto),
  }, {
    name: `${label}: receiveUntil`,
    ops: LINES,
    ours: () => round(backend, withReceiveUntil),
    rawName: "the floor",
    raw: () => round(backend, withFloor),
  });
}
const first = AsyncBackendFactory.new(names[0]);
comparisons.push({
  name: `${names[0]} backend, ${LINES.toLocaleString("en")} lines: receiveUntil`,
  ops: LINES,
  ours: () => round(first, withReceiveUntil),
  rawName: "async generator over recvInto",
  raw: () => round(first, withGenerator),
});

const results: Result[] = [];
for (const comparison of comparisons) {
  results.push(await compare(comparison, quick ? { warmups: 1, rounds } : { warmups: 2, rounds }));
}
const gcNote = "gc" in globalThis ? "heap collected before each run" : "no gc() between runs";
report(
  `Buffered reads on ${runtime}: median of ${rounds} interleaved rounds, ${gcNote}; load average ${
    loadavg().map((x) => x.toFixed(2)).join(" ")
  }; ratio = time ours / reference`,
  results,
);
