/**
 * The networking benchmark (`deno task bench net`): the Deno backend's adapters
 * against the raw Deno API, measured in one process, same workload shape:
 *
 * - TCP echo throughput: one connection, 64 KiB writes, 256 MiB echoed (goal ≥ 0.9× raw);
 * - 64 connections doing 100-byte request/response round trips (goal ≥ 0.85× raw requests/s);
 * - UDP 64-byte ping-pong (goal ≥ 0.85× raw round trips/s);
 * - TLS echo throughput, 64 KiB writes (goal ≥ 0.9× raw).
 *
 * Our side receives with `recvInto` (a reused buffer), as the raw side reads
 * into one; a reference row shows TCP echo with `recv`, which returns a fresh
 * array per call (V8 makes fresh 64 KiB arrays expensive). Another reference
 * row, the floor, runs the raw request/response loop with each read and write
 * answered through a promise of its own: what any API whose calls can be
 * cancelled pays at the least, before any cancellation work.
 *
 * Client and server run in this process, on loopback. The table's ratio is a
 * time ratio (ours / raw, lower is better); a throughput goal of ≥ 0.9× raw is a
 * time goal of ≤ 1.11×. Each row is the median of 11 interleaved rounds
 * (`BENCH_ROUNDS` sets another count); `BENCH_QUICK=1` shrinks every workload
 * 16× for a smoke run.
 *
 * @module
 */

import type { AsyncStreamSocketAdapter } from "../../backend/mod.ts";
import { DenoBackend } from "../../backend/deno/mod.ts";
import { compare, type Comparison, report, type Result } from "./measure.ts";

const backend = new DenoBackend();
const quick = Deno.env.get("BENCH_QUICK") === "1";
const scale = quick ? 16 : 1;

const CHUNK = 64 * 1024;
const TCP_BYTES = (256 * 1024 * 1024) / scale;
const TLS_BYTES = (128 * 1024 * 1024) / scale;
const CONNECTIONS = 64;
const REQUESTS_PER_CONNECTION = Math.ceil(1000 / scale);
const REQUEST = 100;
const UDP_ROUNDS = Math.ceil(20_000 / scale);
const DATAGRAM = 64;

const certDir = new URL("../../tests/fixtures/tls/", import.meta.url);
const cert = Deno.readTextFileSync(new URL("server.pem", certDir));
const key = Deno.readTextFileSync(new URL("server.key", certDir));
const ca = Deno.readTextFileSync(new URL("ca.pem", certDir));

// ---- Raw Deno helpers ----

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) offset += await conn.write(data.subarray(offset));
}

async function rawEchoServe(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(CHUNK);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      await writeAll(conn, buffer.subarray(0, n));
    }
  } finally {
    conn.close();
  }
}

/** Sends `total` bytes in 64 KiB writes while reading the echo; resolves when all came back. */
async function rawStream(conn: Deno.Conn, total: number): Promise<void> {
  const chunk = new Uint8Array(CHUNK).fill(7);
  const send = (async () => {
    for (let sent = 0; sent < total; sent += CHUNK) await writeAll(conn, chunk);
  })();
  const buffer = new Uint8Array(CHUNK);
  let received = 0;
  while (received < total) {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("early end of stream");
    received += n;
  }
  await send;
}

async function rawTcpEcho(): Promise<void> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const served = rawEchoServe(await listener.accept());
  await rawStream(client, TCP_BYTES);
  client.close();
  await served;
}

async function rawTlsEcho(): Promise<void> {
  using listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
  const client = await Deno.connectTls({ hostname: "localhost", port: listener.addr.port, caCerts: [ca] });
  const served = rawEchoServe(await listener.accept());
  await rawStream(client, TLS_BYTES);
  client.close();
  await served;
}

/**
 * The floor of any API whose calls can be cancelled: `conn` with each read and
 * write answered through a promise of its own (settled from the runtime's), as
 * a cancellable call must be, and nothing else (no cancellation, no checks).
 */
function ownPromisePerCall(conn: Deno.Conn): Deno.Conn {
  let settleRead: (n: number | null) => void = () => {};
  let settleWrite: (n: number) => void = () => {};
  const readExecutor = (resolve: (n: number | null) => void) => settleRead = resolve;
  const writeExecutor = (resolve: (n: number) => void) => settleWrite = resolve;
  const onRead = (n: number | null) => settleRead(n);
  const onWrite = (n: number) => settleWrite(n);
  return {
    read(buffer: Uint8Array): Promise<number | null> {
      const promise = new Promise(readExecutor);
      conn.read(buffer).then(onRead);
      return promise;
    },
    write(data: Uint8Array): Promise<number> {
      const promise = new Promise(writeExecutor);
      conn.write(data).then(onWrite);
      return promise;
    },
    close: () => conn.close(),
  } as Deno.Conn;
}

async function rawRequests(wrap: (conn: Deno.Conn) => Deno.Conn = (conn) => conn): Promise<void> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const servers: Promise<void>[] = [];
  const clients: Promise<void>[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const client = wrap(await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }));
    servers.push(rawEchoServe(wrap(await listener.accept())));
    clients.push((async () => {
      const request = new Uint8Array(REQUEST).fill(1);
      const buffer = new Uint8Array(REQUEST);
      for (let r = 0; r < REQUESTS_PER_CONNECTION; r++) {
        await writeAll(client, request);
        let got = 0;
        while (got < REQUEST) {
          const n = await client.read(buffer.subarray(got));
          if (n === null) throw new Error("early end of stream");
          got += n;
        }
      }
      client.close();
    })());
  }
  await Promise.all(clients);
  await Promise.all(servers);
}

async function rawUdp(): Promise<void> {
  const a = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const b = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const payload = new Uint8Array(DATAGRAM);
    const echo = (async () => {
      for (let i = 0; i < UDP_ROUNDS; i++) {
        const [data, from] = await b.receive();
        await b.send(data, from);
      }
    })();
    for (let i = 0; i < UDP_ROUNDS; i++) {
      await a.send(payload, b.addr);
      await a.receive();
    }
    await echo;
  } finally {
    a.close();
    b.close();
  }
}

// ---- Ours ----

/** How our side receives: `recvInto` (a reused buffer, like raw `read`) or `recv` (a fresh array per call). */
type ReceiveMode = "recvInto" | "recv";

async function echoServe(stream: AsyncStreamSocketAdapter, mode: ReceiveMode = "recvInto"): Promise<void> {
  const buffer = new Uint8Array(CHUNK);
  try {
    for (;;) {
      if (mode === "recv") {
        const data = await stream.recv(CHUNK);
        if (data.length === 0) break;
        await stream.sendall(data);
      } else {
        const n = await stream.recvInto(buffer);
        if (n === 0) break;
        await stream.sendall(buffer.subarray(0, n));
      }
    }
  } finally {
    await stream.aclose();
  }
}

async function streamThrough(stream: AsyncStreamSocketAdapter, total: number, mode: ReceiveMode): Promise<void> {
  const chunk = new Uint8Array(CHUNK).fill(7);
  const buffer = new Uint8Array(CHUNK);
  await backend.createTaskGroup(async (tg) => {
    tg.startSoon(async () => {
      for (let sent = 0; sent < total; sent += CHUNK) await stream.sendall(chunk);
    });
    let received = 0;
    while (received < total) {
      const n = mode === "recv" ? (await stream.recv(CHUNK)).length : await stream.recvInto(buffer);
      if (n === 0) throw new Error("early end of stream");
      received += n;
    }
  });
}

function oursTcpEcho(tls: boolean, mode: ReceiveMode = "recvInto"): () => Promise<void> {
  return () =>
    backend.bootstrap(async () => {
      const [listener] = tls
        ? await backend.createSslOverTcpListeners("127.0.0.1", 0, 16, { cert, key })
        : await backend.createTcpListeners("127.0.0.1", 0, 16);
      try {
        await backend.createTaskGroup(async (tg) => {
          tg.startSoon(async () => echoServe(await (await listener.accept()).connect(), mode));
          const port = listener.getLocalAddress().port;
          const client = tls
            ? await backend.createSslOverTcpConnection("localhost", port, { caCerts: [ca] })
            : await backend.createTcpConnection("127.0.0.1", port);
          try {
            await streamThrough(client, tls ? TLS_BYTES : TCP_BYTES, mode);
          } finally {
            await client.aclose();
          }
        });
      } finally {
        await listener.aclose();
      }
    });
}

function oursRequests(): Promise<void> {
  return backend.bootstrap(async () => {
    const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 128);
    try {
      await backend.createTaskGroup(async (tg) => {
        for (let i = 0; i < CONNECTIONS; i++) {
          const client = await backend.createTcpConnection("127.0.0.1", listener.getLocalAddress().port);
          const server = await (await listener.accept()).connect();
          tg.startSoon(echoServe, server);
          tg.startSoon(async () => {
            const request = new Uint8Array(REQUEST).fill(1);
            const buffer = new Uint8Array(REQUEST);
            try {
              for (let r = 0; r < REQUESTS_PER_CONNECTION; r++) {
                await client.sendall(request);
                let got = 0;
                while (got < REQUEST) {
                  const n = await client.recvInto(buffer.subarray(got));
                  if (n === 0) throw new Error("early end of stream");
                  got += n;
                }
              }
            } finally {
              await client.aclose();
            }
          });
        }
      });
    } finally {
      await listener.aclose();
    }
  });
}

function oursUdp(): Promise<void> {
  return backend.bootstrap(async () => {
    const a = await backend.createUdpEndpoint({ localAddress: { hostname: "127.0.0.1", port: 0 } });
    const b = await backend.createUdpEndpoint({ localAddress: { hostname: "127.0.0.1", port: 0 } });
    try {
      const payload = new Uint8Array(DATAGRAM);
      const bAddress = b.getLocalAddress();
      await backend.createTaskGroup(async (tg) => {
        tg.startSoon(async () => {
          for (let i = 0; i < UDP_ROUNDS; i++) {
            const [data, from] = await b.recvfrom(2048);
            await b.sendto(data, from);
          }
        });
        for (let i = 0; i < UDP_ROUNDS; i++) {
          await a.sendto(payload, bAddress);
          await a.recvfrom(2048);
        }
      });
    } finally {
      await a.aclose();
      await b.aclose();
    }
  });
}

// ---- Run ----

const MIB = 1024 * 1024;
const comparisons: Comparison[] = [
  {
    name: `TCP echo, 64 KiB writes, ${TCP_BYTES / MIB} MiB`,
    ops: 1,
    ours: oursTcpEcho(false),
    rawName: "Deno.connect read/write",
    raw: rawTcpEcho,
    goal: 1.11,
  },
  {
    name: `TCP echo with recv() (a fresh array per call), ${TCP_BYTES / MIB} MiB`,
    ops: 1,
    ours: oursTcpEcho(false, "recv"),
    rawName: "Deno.connect read/write",
    raw: rawTcpEcho,
  },
  {
    name: `${CONNECTIONS} conns × ${REQUESTS_PER_CONNECTION} 100-byte req/resp`,
    ops: CONNECTIONS * REQUESTS_PER_CONNECTION,
    ours: oursRequests,
    rawName: "Deno.connect read/write",
    raw: () => rawRequests(),
    goal: 1.18,
  },
  {
    name: `${CONNECTIONS} conns req/resp, floor: raw with one own promise per call`,
    ops: CONNECTIONS * REQUESTS_PER_CONNECTION,
    ours: () => rawRequests(ownPromisePerCall),
    rawName: "Deno.connect read/write",
    raw: () => rawRequests(),
  },
  {
    name: `UDP 64-byte ping-pong × ${UDP_ROUNDS}`,
    ops: UDP_ROUNDS,
    ours: oursUdp,
    rawName: "Deno.listenDatagram",
    raw: rawUdp,
    goal: 1.18,
  },
  {
    name: `TLS echo, 64 KiB writes, ${TLS_BYTES / MIB} MiB`,
    ops: 1,
    ours: oursTcpEcho(true),
    rawName: "Deno.connectTls read/write",
    raw: rawTlsEcho,
    goal: 1.11,
  },
];

/** Loopback rounds swing widely on shared cores: more rounds than the other benches (`BENCH_ROUNDS` overrides). */
const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 11);
const results: Result[] = [];
for (const comparison of comparisons) {
  const result = await compare(comparison, quick ? { warmups: 1, rounds: 3 } : { warmups: 2, rounds });
  results.push(result);
  const perSecond = (perOp: number) => 1000 / perOp;
  const throughput = comparison.ops === 1
    ? `${
      ((comparison.name.startsWith("TLS") ? TLS_BYTES : TCP_BYTES) / MIB / (result.oursPerOp / 1000)).toFixed(0)
    } MiB/s ours, ${
      ((comparison.name.startsWith("TLS") ? TLS_BYTES : TCP_BYTES) / MIB / (result.rawPerOp / 1000)).toFixed(0)
    } MiB/s raw`
    : `${perSecond(result.oursPerOp).toFixed(0)}/s ours, ${perSecond(result.rawPerOp).toFixed(0)}/s raw`;
  console.log(`${comparison.name}: ${throughput}; throughput ratio ${(1 / result.ratio).toFixed(2)}× raw`);
}
report(
  `Networking, Deno ${Deno.version.deno}, ${
    quick ? "BENCH_QUICK: 1/16 sizes, 3 rounds" : `median of ${rounds} rounds`
  }; ` +
    "ratio = time ours / raw (goal ≤ 1.11× means ≥ 0.9× throughput, ≤ 1.18× means ≥ 0.85×)",
  results,
);
