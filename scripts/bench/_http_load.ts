/**
 * The load generator of `http_bench.ts`, run as a process of its own so that
 * its CPU time is not the server's: `connections` keep-alive HTTP/1.1 client
 * connections on loopback (raw `node:net`, on every runtime), each sending a
 * request, reading the whole response (its `Content-Length` body) and sending
 * the next, until `requests` requests were answered in all. Every fourth
 * request is a `POST` with a 128-byte body. Bounded: it exits with an error
 * after `limit` seconds.
 *
 * Usage: `_http_load.ts <port> <connections> <requests> [limit]`. Prints
 * `DONE <requests> <ms>` and exits.
 *
 * @module
 */

import { connect, type Socket } from "node:net";
import process from "node:process";

const [port, connections, requests, limit = 120] = process.argv.slice(2).map(Number);
if (!(port > 0 && connections > 0 && requests > 0)) {
  console.error("Usage: _http_load.ts <port> <connections> <requests> [limit]");
  process.exit(2);
}
setTimeout(() => {
  console.error(`_http_load: not done after ${limit} s`);
  process.exit(1);
}, limit * 1000).unref();

const encoder = new TextEncoder();
const GET = encoder.encode(
  "GET /api/items?id=42 HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: http-bench/1\r\n" +
    "Accept: application/json\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n\r\n",
);
const POST = encoder.encode(
  "POST /api/items HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: http-bench/1\r\n" +
    "Content-Type: application/octet-stream\r\nContent-Length: 128\r\nConnection: keep-alive\r\n\r\n" +
    "x".repeat(128),
);
const CRLFCRLF = encoder.encode("\r\n\r\n");
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

let sent = 0;
let answered = 0;
const start = performance.now();

/** One connection: request, whole response, next request, until every request is sent. */
function client(): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket: Socket = connect({ host: "127.0.0.1", port, noDelay: true });
    let pending: Uint8Array = new Uint8Array(0);
    const next = () => {
      if (sent >= requests) {
        socket.end();
        return;
      }
      socket.write(sent++ % 4 === 3 ? POST : GET);
    };
    socket.on("connect", next);
    socket.on("data", (chunk: Uint8Array) => {
      if (pending.length > 0) {
        const joined = new Uint8Array(pending.length + chunk.length);
        joined.set(pending);
        joined.set(chunk, pending.length);
        chunk = joined;
      }
      for (;;) {
        const head = indexOf(chunk, CRLFCRLF);
        if (head === -1) break;
        const text = new TextDecoder().decode(chunk.subarray(0, head + 2));
        const length = Number(CONTENT_LENGTH.exec(text)?.[1] ?? 0);
        const end = head + 4 + length;
        if (chunk.length < end) break;
        chunk = chunk.subarray(end);
        answered++;
        next();
      }
      pending = chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => resolve());
  });
}

function indexOf(data: Uint8Array, needle: Uint8Array): number {
  for (
    let i = data.indexOf(needle[0]);
    i !== -1 && i <= data.length - needle.length;
    i = data.indexOf(needle[0], i + 1)
  ) {
    let j = 1;
    while (j < needle.length && data[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

await Promise.all(Array.from({ length: connections }, client));
if (answered !== requests) {
  console.error(`_http_load: ${answered} of ${requests} requests answered`);
  process.exit(1);
}
console.log(`DONE ${answered} ${(performance.now() - start).toFixed(0)}`);
process.exit(0);
