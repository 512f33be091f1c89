/**
 * The raw worker of `thread_bench.ts`: echoes messages; on request, runs the
 * raw blocking round trip (postMessage + Atomics.wait + receiveMessageOnPort).
 *
 * @module
 */

import { receiveMessageOnPort } from "node:worker_threads";

interface Blocking {
  port: MessagePort;
  state: SharedArrayBuffer;
  count: number;
}

const scope = globalThis as unknown as {
  postMessage(message: unknown): void;
  onmessage: ((event: MessageEvent) => void) | null;
};

scope.onmessage = (event: MessageEvent) => {
  const data = event.data as number | Blocking;
  if (typeof data === "number") {
    scope.postMessage(data + 1);
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
  scope.postMessage(sum);
};
