/**
 * The memory channel benchmark: what does an item cost from a producer task to
 * a consumer task (issue 14: within 2× a raw hand-off)?
 *
 * - **ours**: `backend.createMemoryChannel(n)`; one task sends N items with
 *   `send()`, another receives them with `receive()`, both in a task group.
 * - **raw**: the same two loops over the smallest bounded queue of the same
 *   rules written with an array and promises (a receive takes a waiting
 *   sender's item first, a full queue parks the sender, an empty one the
 *   receiver), with no cancellation, no close and no checkpoint: the floor of a
 *   hand-off between two async functions on this runtime.
 *
 * Buffers of 0 (rendezvous: every item is a hand-off between the two tasks) and
 * 64. With 64, the raw pair never waits: each side finds the queue neither
 * full nor empty and the two alternate item by item. Ours yields to the event
 * loop once a millisecond (so that timers and I/O run); while one side yields
 * the other runs ahead until the buffer is full or empty, and from then on one
 * side waits at every item, as both do with a buffer of 0. A reference row
 * gives the raw queue the same yield a millisecond (a macrotask): that is the
 * cost of the pattern, not of the channel. Each row is the median of 7 interleaved
 * rounds after 2 warm-ups (`measure.ts`), with the ratio's min–max and the load
 * average. Runs on Deno (`deno task bench channel`) and, from the npm build, on
 * Node (`node --expose-gc npm/scripts/bench/channel_bench.js`).
 *
 * @module
 */

import type { AsyncBackend } from "../../backend/mod.ts";
import { AsyncBackendFactory } from "../../factory/mod.ts";
import { loadavg } from "node:os";
import process from "node:process";
import { setImmediate } from "node:timers";
import { compare, type Comparison, report, type Result, sized } from "./measure.ts";

const backend: AsyncBackend = AsyncBackendFactory.new();
const runtime = "deno" in process.versions
  ? `Deno ${process.versions.deno} (V8 ${process.versions.v8})`
  : `Node ${process.versions.node} (V8 ${process.versions.v8})`;
const ITEMS = sized(200_000, 200);

// ---- Ours ----

async function channelRun(size: number, items: number): Promise<void> {
  const [send, receive] = backend.createMemoryChannel<number>(size);
  let sum = 0;
  await backend.createTaskGroup((tg) => {
    tg.startSoon(async () => {
      for (let i = 0; i < items; i++) await send.send(i);
      send.close();
    });
    tg.startSoon(async () => {
      for (let i = 0; i < items; i++) sum += await receive.receive();
    });
  });
  if (sum !== (items * (items - 1)) / 2) throw new Error(`Lost items: sum ${sum}`);
}

// ---- Raw: an array queue with promises ----

const RESOLVED = Promise.resolve();

class RawQueue<T> {
  /** With `true`, a call yields a macrotask first once a millisecond, as ours does. */
  readonly #yields: boolean;
  #calls = 0;
  #lastYield = performance.now();
  readonly #items: T[] = [];
  readonly #receivers: ((value: T) => void)[] = [];
  readonly #senders: { value: T; resolve: () => void }[] = [];
  readonly #max: number;

  constructor(max: number, yields: boolean) {
    this.#max = max;
    this.#yields = yields;
  }

  /** A macrotask once a millisecond (checked once in 32 calls), or `null`. */
  #yield(): Promise<void> | null {
    if (!this.#yields || (++this.#calls & 31) !== 0) return null;
    const now = performance.now();
    if (now - this.#lastYield < 1) return null;
    this.#lastYield = now;
    return new Promise((resolve) => setImmediate(resolve));
  }

  send(value: T): Promise<void> {
    const yielded = this.#yield();
    if (yielded !== null) return yielded.then(() => this.send(value));
    const receiver = this.#receivers.shift();
    if (receiver !== undefined) {
      receiver(value);
      return RESOLVED;
    }
    if (this.#items.length < this.#max) {
      this.#items.push(value);
      return RESOLVED;
    }
    return new Promise((resolve) => this.#senders.push({ value, resolve }));
  }

  receive(): Promise<T> {
    const yielded = this.#yield();
    if (yielded !== null) return yielded.then(() => this.receive());
    const sender = this.#senders.shift();
    if (sender !== undefined) {
      this.#items.push(sender.value);
      sender.resolve();
    }
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift() as T);
    return new Promise((resolve) => this.#receivers.push(resolve));
  }
}

async function rawRun(size: number, items: number, yields = false): Promise<void> {
  const queue = new RawQueue<number>(size, yields);
  let sum = 0;
  await Promise.all([
    (async () => {
      for (let i = 0; i < items; i++) await queue.send(i);
    })(),
    (async () => {
      for (let i = 0; i < items; i++) sum += await queue.receive();
    })(),
  ]);
  if (sum !== (items * (items - 1)) / 2) throw new Error(`Lost items: sum ${sum}`);
}

// ---- Run ----

const results: Result[] = await backend.bootstrap(async () => {
  const comparisons: Comparison[] = [0, 64].flatMap((size) => [
    {
      name: `send+receive, buffer ${size}, ${ITEMS.toLocaleString("en-US")} items`,
      ops: ITEMS,
      ours: () => channelRun(size, ITEMS),
      rawName: "array queue + promises",
      raw: () => rawRun(size, ITEMS),
      goal: 2,
    },
    {
      name: `send+receive, buffer ${size} (raw yields too)`,
      ops: ITEMS,
      ours: () => channelRun(size, ITEMS),
      rawName: "the same + a macrotask a ms",
      raw: () => rawRun(size, ITEMS, true),
    },
  ]);
  const results: Result[] = [];
  for (const comparison of comparisons) results.push(await compare(comparison));
  return results;
});

const gcNote = "gc" in globalThis ? "heap collected before each run" : "no gc() between runs";
const load = loadavg().map((value) => value.toFixed(2)).join(", ");
report(
  `Memory channel benchmark on ${runtime}: median of 7 interleaved rounds after 2 warm-ups, ${gcNote}; load average ${load}`,
  results,
);
