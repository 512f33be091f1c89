/**
 * The server benchmark (`deno task bench serve`): connection churn through
 * `serveTcp` against the same server written by hand, in one process on
 * loopback, with the same raw `Deno.connect` clients:
 *
 * - ours: `backend.serveTcp(echoOnce, 0)`;
 * - hand: the library's listener with an accept loop and `tg.startSoon` per
 *   connection (what `serveTcp` replaces): the ratio is the cost of the server
 *   layer (the error handling, the closing, the per-connection setup task);
 * - a reference row: a raw `Deno.listen` server with one promise per connection.
 *
 * Each connection sends 100 bytes, reads the echo, and closes; 32 clients at a
 * time. Each row is the median of 11 interleaved rounds (`BENCH_ROUNDS` sets
 * another count); `BENCH_QUICK=1` shrinks the workload 8× for a smoke run.
 *
 * @module
 */

import type { AsyncStreamSocketAdapter, ServeStatus, TaskGroup } from "../../backend/mod.ts";
import { DenoBackend } from "../../backend/deno/mod.ts";
import { compare, type Comparison, report, type Result } from "./measure.ts";

const backend = new DenoBackend();
const quick = Deno.env.get("BENCH_QUICK") === "1";
const CONNECTIONS = quick ? 250 : 2_000;
const CONCURRENCY = 32;
const REQUEST = new Uint8Array(100).fill(9);

/** The handler: echo one request, then the server closes the connection. */
async function echoOnce(stream: AsyncStreamSocketAdapter): Promise<void> {
  let got = 0;
  while (got < REQUEST.length) {
    const data = await stream.recv(REQUEST.length - got);
    if (data.length === 0) return;
    got += data.length;
    await stream.sendall(data);
  }
}

/** `CONNECTIONS` raw clients, `CONCURRENCY` at a time: connect, send, read the echo until the server closes. */
async function churn(port: number): Promise<void> {
  let next = 0;
  const buffer = new Uint8Array(256);
  const client = async () => {
    while (next++ < CONNECTIONS) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      try {
        let offset = 0;
        while (offset < REQUEST.length) offset += await conn.write(REQUEST.subarray(offset));
        let got = 0;
        for (let n; (n = await conn.read(buffer)) !== null;) got += n;
        if (got !== REQUEST.length) throw new Error(`echo of ${got} bytes`);
      } finally {
        conn.close();
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
}

/** Runs `clients(port)` against a server started by `start`, then stops the server. */
function withOurServer(start: (tg: TaskGroup) => Promise<number>): () => Promise<void> {
  return () =>
    backend.bootstrap(async () => {
      await backend.createTaskGroup(async (tg) => {
        const port = await start(tg);
        await churn(port);
        tg.cancelScope.cancel();
      });
    });
}

const viaServeTcp = withOurServer(async (tg) => {
  const [listener] = await tg.start((status: ServeStatus) =>
    backend.serveTcp(echoOnce, 0, { host: "127.0.0.1", taskStatus: status })
  );
  return listener.getLocalAddress().port;
});

const byHand = withOurServer(async (tg) => {
  const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 511);
  tg.startSoon(async () => {
    try {
      for (;;) {
        const accepted = await listener.accept();
        tg.startSoon(async () => {
          const stream = await accepted.connect();
          try {
            await echoOnce(stream);
          } catch (error) {
            console.error(error);
          } finally {
            await stream.aclose();
          }
        });
      }
    } finally {
      await listener.aclose();
    }
  });
  return listener.getLocalAddress().port;
});

async function rawDeno(): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const connections = new Set<Promise<void>>();
  const loop = (async () => {
    for await (const conn of listener) {
      const served = (async () => {
        const buffer = new Uint8Array(REQUEST.length);
        try {
          let got = 0;
          while (got < REQUEST.length) {
            const n = await conn.read(buffer.subarray(got));
            if (n === null) break;
            let offset = got;
            got += n;
            while (offset < got) offset += await conn.write(buffer.subarray(offset, got));
          }
        } finally {
          conn.close();
        }
      })();
      connections.add(served);
      served.finally(() => connections.delete(served));
    }
  })();
  await churn((listener.addr as Deno.NetAddr).port);
  listener.close();
  await loop.catch(() => {});
  await Promise.all(connections);
}

const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 11);
const comparisons: Comparison[] = [
  {
    name: `serveTcp, ${CONNECTIONS} connections (100 B echo each)`,
    ops: CONNECTIONS,
    ours: viaServeTcp,
    rawName: "accept loop by hand",
    raw: byHand,
    goal: 1.1,
  },
  {
    name: `serveTcp vs raw Deno.listen (reference)`,
    ops: CONNECTIONS,
    ours: viaServeTcp,
    rawName: "raw Deno.listen",
    raw: rawDeno,
  },
];
const results: Result[] = [];
for (const comparison of comparisons) results.push(await compare(comparison, { rounds }));
const load = Deno.loadavg().map((value) => value.toFixed(2)).join(" ");
report(`Servers on Deno ${Deno.version.deno}, load average ${load}`, results);
