/**
 * The Node column of the networking and threads benchmarks: `NodeBackend`
 * against raw `node:net`, `node:dgram` and `node:worker_threads`, in one
 * process. Runs on Node from the npm build (`deno task bench:node`) and on Deno
 * (`deno task bench node`, through Deno's `node:` modules).
 *
 * - TCP request/response round trips (1 byte, sequential) vs a raw `net.Socket`
 *   write + `'data'` (goal ≤ 1.3×);
 * - a 64 MiB one-way TCP transfer in 64 KiB `sendall`s vs raw `write` + `'drain'`
 *   (goal ≤ 1.2×);
 * - 64 connections doing 100-byte request/response round trips vs raw
 *   `net.Socket`s (goal ≥ 0.85× raw requests/s, a time ratio ≤ 1.18×);
 * - TLS echo throughput, 64 KiB writes, vs a raw `tls.TLSSocket` (goal ≥ 0.9×,
 *   a time ratio ≤ 1.11×);
 * - UDP request/response round trips vs a raw `dgram` socket (goal ≤ 1.3×);
 * The three thread rows are for reference (no goal): the goals are measured by
 * `thread_pool_bench.ts`, which runs on every runtime with the peers beside it.
 *
 * - `runInThread` round trips of a tiny function vs a raw `worker_threads`
 *   `postMessage` ping-pong (goal ≤ 1.3×);
 * - 100k tiny calls on a 2-worker `AsyncThreadPoolExecutor` vs 100k raw
 *   messages pipelined to 2 workers (for reference: calls/s);
 * - a blocking portal call (`portal.runSync`) vs a raw `postMessage` +
 *   `Atomics.wait` + `receiveMessageOnPort` round trip (goal ≤ 1.2×).
 *
 * The servers (TCP echo, UDP echo, TCP sink) are raw and shared by both sides:
 * only the client side differs.
 *
 * @module
 */

import { createSocket, type Socket as DgramSocket } from "node:dgram";
import { readFileSync } from "node:fs";
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from "node:tls";
import { type AddressInfo, connect, createServer, type Server, type Socket } from "node:net";
import process from "node:process";
import { MessageChannel, Worker } from "node:worker_threads";
import { AsyncThreadPoolExecutor } from "../../futures/mod.ts";
import { NodeBackend } from "../../backend/node/mod.ts";
import { type AsyncStreamSocketAdapter, threadModule } from "../../backend/mod.ts";
import { compare, type Comparison, QUICK, report, type Result, sized } from "./measure.ts";

const MIB = 1024 * 1024;
const ROUND_TRIPS = sized(5_000, 20);
const BULK = sized(64 * MIB, MIB);
const CHUNK = 64 * 1024;
const THREAD_ROUND_TRIPS = sized(2_000, 20);
const CALLS = sized(100_000, 100);
const PORTAL_CALLS = sized(5_000, 20);
const TLS_BYTES = sized(32 * MIB, MIB);
const CONNECTIONS = sized(64, 4);
const REQUESTS_PER_CONNECTION = sized(200, 5);
const REQUEST = 100;

const certDir = new URL("../../tests/fixtures/tls/", import.meta.url);
const cert = readFileSync(new URL("server.pem", certDir), "utf8");
const key = readFileSync(new URL("server.key", certDir), "utf8");
const ca = readFileSync(new URL("ca.pem", certDir), "utf8");

const backend = new NodeBackend();
const work = threadModule<typeof import("./thread_bench_work.ts")>(new URL("./thread_bench_work.ts", import.meta.url));
const runtime = "deno" in process.versions
  ? `Deno ${process.versions.deno} (node: modules)`
  : `Node ${process.versions.node} (V8 ${process.versions.v8})`;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen({ host: "127.0.0.1", port: 0 }, () => resolve((server.address() as AddressInfo).port))
  );
}

function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Raw request/response: write one byte, wait for one byte back. */
async function rawTcpRoundTrips(socket: Socket): Promise<void> {
  const byte = new Uint8Array([1]);
  for (let i = 0; i < ROUND_TRIPS; i++) {
    await new Promise<void>((resolve) => {
      socket.once("data", () => resolve());
      socket.write(byte);
    });
  }
}

/** Raw bulk send with backpressure. */
async function rawBulk(socket: Socket): Promise<void> {
  const chunk = new Uint8Array(CHUNK);
  for (let sent = 0; sent < BULK; sent += CHUNK) {
    if (!socket.write(chunk)) await new Promise<void>((resolve) => socket.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve) => socket.write(new Uint8Array(0), () => resolve()));
}

function rawUdpRoundTrips(socket: DgramSocket, port: number): Promise<void> {
  const byte = new Uint8Array([1]);
  return new Promise<void>((resolve) => {
    let left = ROUND_TRIPS;
    const onMessage = () => {
      if (--left === 0) {
        socket.off("message", onMessage);
        resolve();
      } else socket.send(byte, port, "127.0.0.1");
    };
    socket.on("message", onMessage);
    socket.send(byte, port, "127.0.0.1");
  });
}

/** Raw TLS echo: writes `total` bytes in `CHUNK` writes while reading them back. */
async function rawTlsEcho(socket: TLSSocket, total: number): Promise<void> {
  const chunk = new Uint8Array(CHUNK);
  const received = new Promise<void>((resolve) => {
    let got = 0;
    const onData = (data: Uint8Array) => {
      got += data.length;
      if (got >= total) {
        socket.off("data", onData);
        resolve();
      }
    };
    socket.on("data", onData);
  });
  for (let sent = 0; sent < total; sent += CHUNK) {
    if (!socket.write(chunk)) await new Promise<void>((resolve) => socket.once("drain", () => resolve()));
  }
  await received;
}

/** Raw request/response on `clients`: each writes `REQUEST` bytes and waits for as many back. */
async function rawRequests(clients: Socket[]): Promise<void> {
  const request = new Uint8Array(REQUEST).fill(1);
  await Promise.all(clients.map((socket) =>
    new Promise<void>((resolve) => {
      let left = REQUESTS_PER_CONNECTION;
      let got = 0;
      const onData = (data: Uint8Array) => {
        got += data.length;
        if (got < REQUEST) return;
        got -= REQUEST;
        if (--left === 0) {
          socket.off("data", onData);
          resolve();
        } else socket.write(request);
      };
      socket.on("data", onData);
      socket.write(request);
    })
  ));
}

/**
 * A raw worker: answers `n` with `n + 1` (requests answered in order, so many
 * can be in flight); given `{ port, state, count }`, runs the raw blocking round
 * trip (postMessage + Atomics.wait + receiveMessageOnPort) `count` times.
 */
function rawWorker(): { worker: Worker; request(message: unknown, transfer?: Transferable[]): Promise<number> } {
  const source = `const { parentPort, receiveMessageOnPort } = require("node:worker_threads");
parentPort.on("message", (data) => {
  if (typeof data === "number") return parentPort.postMessage(data + 1);
  const state = new Int32Array(data.state);
  let sum = 0;
  for (let i = 0; i < data.count; i++) {
    const seen = Atomics.load(state, 0);
    data.port.postMessage(i);
    let reply = receiveMessageOnPort(data.port);
    while (reply === undefined) {
      Atomics.wait(state, 0, seen);
      reply = receiveMessageOnPort(data.port);
    }
    sum += reply.message;
  }
  parentPort.postMessage(sum);
});`;
  const worker = new Worker(source, { eval: true });
  const waiters: ((n: number) => void)[] = [];
  let head = 0;
  worker.on("message", (n: number) => {
    const resolve = waiters[head];
    waiters[head++] = undefined as never;
    if (head === waiters.length) {
      waiters.length = 0;
      head = 0;
    }
    resolve(n);
  });
  return {
    worker,
    request: (message, transfer = []) =>
      new Promise<number>((resolve) => {
        waiters.push(resolve);
        worker.postMessage(message, transfer as never);
      }),
  };
}

/** The raw blocking round trip: a channel whose loop side answers and notifies. */
async function rawBlocking(worker: ReturnType<typeof rawWorker>): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  const state = new Int32Array(new SharedArrayBuffer(4));
  port1.on("message", (n: number) => {
    port1.postMessage(n);
    Atomics.add(state, 0, 1);
    Atomics.notify(state, 0);
  });
  await worker.request({ port: port2, state: state.buffer, count: PORTAL_CALLS }, [port2 as unknown as Transferable]);
  port1.close();
}

const results: Result[] = await backend.bootstrap(async () => {
  const echo = createServer((socket) => socket.on("data", (data) => socket.write(data)));
  const sink = createServer((socket) => socket.resume());
  const udpEcho = createSocket("udp4");
  udpEcho.on("message", (data, info) => udpEcho.send(data, info.port, info.address));
  await new Promise<void>((resolve) => udpEcho.bind(0, "127.0.0.1", () => resolve()));
  const udpPort = udpEcho.address().port;
  const echoPort = await listen(echo);
  const sinkPort = await listen(sink);

  const rawEchoClient = await rawConnect(echoPort);
  const rawSinkClient = await rawConnect(sinkPort);
  const ourEchoClient = await backend.createTcpConnection("127.0.0.1", echoPort);
  const ourSinkClient = await backend.createTcpConnection("127.0.0.1", sinkPort);
  const rawUdp = createSocket("udp4");
  await new Promise<void>((resolve) => rawUdp.bind(0, "127.0.0.1", () => resolve()));
  const ourUdp = await backend.createUdpEndpoint({ remoteAddress: { hostname: "127.0.0.1", port: udpPort } });
  const raw = rawWorker();
  const raw2 = rawWorker();
  const executor = new AsyncThreadPoolExecutor(backend, { maxWorkers: 2, threadNamePrefix: "bench" });
  const portal = backend.createThreadsPortal({ noop: (n: number) => n });
  const byte = new Uint8Array([1]);
  const chunk = new Uint8Array(CHUNK);

  const tlsEcho = createTlsServer({ cert, key }, (socket) => socket.on("data", (data) => socket.write(data)));
  const tlsPort = await listen(tlsEcho);
  const rawTlsClient = await new Promise<TLSSocket>((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port: tlsPort, servername: "localhost", ca }, () => resolve(socket));
    socket.once("error", reject);
  });
  const ourTlsClient = await backend.createSslOverTcpConnection("127.0.0.1", tlsPort, { caCerts: [ca] }, {
    serverHostname: "localhost",
  });
  const rawClients: Socket[] = [];
  const ourClients: AsyncStreamSocketAdapter[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    rawClients.push(await rawConnect(echoPort));
    ourClients.push(await backend.createTcpConnection("127.0.0.1", echoPort));
  }

  const comparisons: Comparison[] = [
    {
      name: `TCP round trip, 1 byte (${ROUND_TRIPS} sequential)`,
      ops: ROUND_TRIPS,
      ours: async () => {
        for (let i = 0; i < ROUND_TRIPS; i++) {
          await ourEchoClient.sendall(byte);
          await ourEchoClient.recv(65536);
        }
      },
      rawName: "net.Socket write + 'data'",
      raw: () => rawTcpRoundTrips(rawEchoClient),
      goal: 1.3,
    },
    {
      name: `TCP bulk send, ${BULK / 1024 / 1024} MiB in ${CHUNK / 1024} KiB sendall`,
      ops: BULK / CHUNK,
      ours: async () => {
        for (let sent = 0; sent < BULK; sent += CHUNK) await ourSinkClient.sendall(chunk);
      },
      rawName: "net.Socket write + 'drain'",
      raw: () => rawBulk(rawSinkClient),
      goal: 1.2,
    },
    {
      name: `${CONNECTIONS} conns × ${REQUESTS_PER_CONNECTION} ${REQUEST}-byte req/resp`,
      ops: CONNECTIONS * REQUESTS_PER_CONNECTION,
      ours: () =>
        backend.createTaskGroup((tg) => {
          for (const client of ourClients) {
            tg.startSoon(async () => {
              const request = new Uint8Array(REQUEST).fill(1);
              const buffer = new Uint8Array(REQUEST);
              for (let r = 0; r < REQUESTS_PER_CONNECTION; r++) {
                await client.sendall(request);
                let got = 0;
                while (got < REQUEST) got += await client.recvInto(buffer.subarray(got));
              }
            });
          }
        }),
      rawName: "net.Socket write + 'data'",
      raw: () => rawRequests(rawClients),
      goal: 1.18,
    },
    {
      name: `TLS echo, ${TLS_BYTES / 1024 / 1024} MiB in ${CHUNK / 1024} KiB writes`,
      ops: 1,
      ours: () =>
        backend.createTaskGroup((tg) => {
          tg.startSoon(async () => {
            for (let sent = 0; sent < TLS_BYTES; sent += CHUNK) await ourTlsClient.sendall(chunk);
          });
          tg.startSoon(async () => {
            const buffer = new Uint8Array(CHUNK);
            for (let got = 0; got < TLS_BYTES;) {
              const n = await ourTlsClient.recvInto(buffer);
              if (n === 0) throw new Error("early end of stream");
              got += n;
            }
          });
        }),
      rawName: "tls.TLSSocket write + 'data'",
      raw: () => rawTlsEcho(rawTlsClient, TLS_BYTES),
      goal: 1.11,
    },
    {
      name: `UDP round trip, 1 byte (${ROUND_TRIPS} sequential)`,
      ops: ROUND_TRIPS,
      ours: async () => {
        for (let i = 0; i < ROUND_TRIPS; i++) {
          await ourUdp.sendto(byte, null);
          await ourUdp.recvfrom(65536);
        }
      },
      rawName: "dgram send + 'message'",
      raw: () => rawUdpRoundTrips(rawUdp, udpPort),
      goal: 1.3,
    },
    {
      name: `runInThread round trip (${THREAD_ROUND_TRIPS} sequential)`,
      ops: THREAD_ROUND_TRIPS,
      ours: async () => {
        for (let i = 0; i < THREAD_ROUND_TRIPS; i++) await backend.runInThread(work.tiny, i);
      },
      rawName: "worker_threads postMessage ping-pong",
      raw: async () => {
        for (let i = 0; i < THREAD_ROUND_TRIPS; i++) await raw.request(i);
      },
    },
    {
      name: `${CALLS.toLocaleString("en-US")} tiny calls on 2 workers`,
      ops: CALLS,
      ours: async () => {
        const pending = new Array<Promise<number>>(CALLS);
        for (let i = 0; i < CALLS; i++) pending[i] = executor.run(work.tiny, i);
        await Promise.all(pending);
      },
      rawName: "pipelined postMessage, 2 workers",
      raw: async () => {
        const workers = [raw, raw2];
        const pending = new Array<Promise<number>>(CALLS);
        for (let i = 0; i < CALLS; i++) pending[i] = workers[i & 1].request(i);
        await Promise.all(pending);
      },
    },
    {
      name: `blocking portal.runSync (${PORTAL_CALLS} in a row)`,
      ops: PORTAL_CALLS,
      ours: async () => void await backend.runInThread(work.portalCalls, portal, PORTAL_CALLS),
      rawName: "postMessage+Atomics.wait+receiveMessageOnPort",
      raw: () => rawBlocking(raw),
    },
  ];
  // BENCH_ROUNDS: another round count (quick mode: one round, no warm-up).
  const options = QUICK ? {} : { rounds: Number(process.env.BENCH_ROUNDS ?? 7), warmups: 2 };
  const results: Result[] = [];
  try {
    for (const comparison of comparisons) results.push(await compare(comparison, options));
  } finally {
    await ourEchoClient.aclose();
    await ourSinkClient.aclose();
    await ourUdp.aclose();
    await ourTlsClient.aclose();
    for (const client of ourClients) await client.aclose();
    for (const client of rawClients) client.destroy();
    rawTlsClient.destroy();
    tlsEcho.close();
    rawEchoClient.destroy();
    rawSinkClient.destroy();
    rawUdp.close();
    udpEcho.close();
    echo.close();
    sink.close();
    await raw.worker.terminate();
    await raw2.worker.terminate();
    await executor.shutdown();
  }
  return results;
});

report(`Node column on ${runtime}: NodeBackend vs raw node: modules, median of interleaved rounds`, results);
