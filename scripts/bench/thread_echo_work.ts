/**
 * The raw worker of `thread_pool_bench.ts`, on `node:worker_threads` (Node and
 * Deno): answers `n` with `n + 1`, in order, so that many requests can be in
 * flight; given `{ port, state, count }`, runs the raw blocking round trip
 * (postMessage + Atomics.wait + receiveMessageOnPort) `count` times.
 *
 * @module
 */

import { parentPort, receiveMessageOnPort } from "node:worker_threads";

interface Blocking {
  port: MessagePort;
  state: SharedArrayBuffer;
  count: number;
}

const parent = parentPort;
parent?.on("message", (data: number | Blocking) => {
  if (typeof data === "number") {
    parent.postMessage(data + 1);
    return;
  }
  const state = new Int32Array(data.state);
  let sum = 0;
  for (let i = 0; i < data.count; i++) {
    const seen = Atomics.load(state, 0);
    data.port.postMessage(i);
    let reply = receiveMessageOnPort(data.port as never);
    while (reply === undefined) {
      Atomics.wait(state, 0, seen);
      reply = receiveMessageOnPort(data.port as never);
    }
    sum += (reply as { message: number }).message;
  }
  parent.postMessage(sum);
});
