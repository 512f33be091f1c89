/**
 * Contract tests: memory channels under load. Many senders and receivers, on
 * buffers of 0, 1, 16 and `Infinity`, with a task that cancels their calls at
 * random (a seeded generator: the same run every time), mixed with nowait
 * calls. Every item is counted: none lost, none duplicated, and each sender's
 * items arrive in the order they were sent.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { TimeoutHandle } from "../../backend/abc/cancel_scope.ts";
import { EndOfChannel, WouldBlock } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";

const SENDERS = 5;
const ITEMS_PER_SENDER = 200;
/** The canceller gives up after this many rounds (a hang becomes a failure). */
const MAX_CANCELLER_ROUNDS = 200_000;

/** A small seeded generator (mulberry32): numbers in [0, 1). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface StressOutcome {
  /** What each receiver got, in order: `[sender, sequence]`. */
  readonly received: (readonly [number, number])[][];
  /** How many calls the canceller cut short. */
  readonly cancelled: number;
}

async function stress(backend: AsyncBackend, size: number, receivers: number, seed: number): Promise<StressOutcome> {
  const random = seeded(seed);
  const [send, receive] = backend.createMemoryChannel<readonly [number, number]>(size);
  const inFlight = new Set<TimeoutHandle>();
  const received: (readonly [number, number])[][] = Array.from({ length: receivers }, () => []);
  let running = SENDERS + receivers;
  let cancelled = 0;

  /** Runs one blocking call in a scope the canceller may cancel; `false` if it did. */
  const attempt = async (call: () => Promise<void>): Promise<boolean> => {
    let completed = false;
    await backend.moveOnAfter(Infinity, async (h) => {
      inFlight.add(h);
      try {
        await call();
        completed = true; // no checkpoint between the call and this line
      } finally {
        inFlight.delete(h);
      }
    });
    if (!completed) cancelled++;
    return completed;
  };

  await backend.createTaskGroup((tg) => {
    for (let s = 0; s < SENDERS; s++) {
      const end = send.clone();
      tg.startSoon(async () => {
        using _end = end;
        for (let seq = 0; seq < ITEMS_PER_SENDER;) {
          const item = [s, seq] as const;
          if (random() < 0.2) {
            try {
              end.sendNowait(item);
              seq++;
              continue;
            } catch (error) {
              if (!(error instanceof WouldBlock)) throw error;
            }
          }
          // A cancelled send sent nothing: send the same item again.
          if (await attempt(() => end.send(item))) seq++;
          if (random() < 0.5) await backend.coroYield();
        }
        running--;
      });
    }
    send.close();
    for (let r = 0; r < receivers; r++) {
      const end = receive.clone();
      const mine = received[r];
      tg.startSoon(async () => {
        using _end = end;
        for (let ended = false; !ended;) {
          if (random() < 0.2) {
            try {
              mine.push(end.receiveNowait());
              continue;
            } catch (error) {
              if (error instanceof EndOfChannel) break;
              if (!(error instanceof WouldBlock)) throw error;
            }
          }
          await attempt(async () => {
            try {
              mine.push(await end.receive());
            } catch (error) {
              if (!(error instanceof EndOfChannel)) throw error;
              ended = true;
            }
          });
          if (random() < 0.1) await backend.coroYield();
        }
        running--;
      });
    }
    receive.close();
    tg.startSoon(async () => {
      for (let round = 0; running > 0; round++) {
        assert.ok(round < MAX_CANCELLER_ROUNDS, `the run did not finish (seed ${seed}, ${running} tasks left)`);
        await backend.coroYield();
        if (inFlight.size > 0 && random() < 0.8) {
          const handles = [...inFlight];
          handles[Math.floor(random() * handles.length)].cancel();
        }
      }
    });
  });
  const stats = send.statistics();
  assert.equal(stats.tasksWaitingSend + stats.tasksWaitingReceive + stats.currentBufferUsed, 0);
  return { received, cancelled };
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  for (const size of [0, 1, 16, Infinity]) {
    for (const receivers of [1, 4]) {
      test(`${name}: channel stress, buffer ${size}, ${SENDERS} senders, ${receivers} receiver(s), random cancellation`, async () => {
        const backend = create();
        const seed = 1000 * receivers + (size === Infinity ? 999 : size);
        const { received, cancelled } = await backend.bootstrap(() => stress(backend, size, receivers, seed));
        const context = `(seed ${seed})`;
        assert.ok(cancelled > 0, `the canceller cancelled nothing ${context}`);
        const seen = new Set<number>();
        for (const items of received) {
          const last = new Array<number>(SENDERS).fill(-1);
          for (const [s, seq] of items) {
            const key = s * ITEMS_PER_SENDER + seq;
            assert.ok(!seen.has(key), `item ${s}:${seq} received twice ${context}`);
            seen.add(key);
            assert.ok(seq > last[s], `sender ${s}: ${seq} after ${last[s]} ${context}`);
            last[s] = seq;
          }
        }
        assert.equal(seen.size, SENDERS * ITEMS_PER_SENDER, `items lost ${context}`);
        if (receivers === 1) {
          for (let s = 0; s < SENDERS; s++) {
            const order = received[0].filter(([from]) => from === s).map(([, seq]) => seq);
            assert.deepEqual(order, Array.from({ length: ITEMS_PER_SENDER }, (_, i) => i), `sender ${s} ${context}`);
          }
        }
      });
    }
  }

  test(`${name}: channel, buffer 64: a producer and a consumer alternate instead of waiting at every item`, async () => {
    const backend = create();
    const items = 20_000;
    let waits = 0;
    await backend.bootstrap(() =>
      backend.createTaskGroup((tg) => {
        const [send, receive] = backend.createMemoryChannel<number>(64);
        tg.startSoon(async () => {
          for (let i = 0; i < items; i++) {
            const stats = send.statistics();
            if (stats.tasksWaitingReceive === 0 && stats.currentBufferUsed === 64) waits++;
            await send.send(i);
          }
        });
        tg.startSoon(async () => {
          for (let i = 0; i < items; i++) {
            const stats = receive.statistics();
            if (stats.tasksWaitingSend === 0 && stats.currentBufferUsed === 0) waits++;
            assert.equal(await receive.receive(), i);
          }
        });
      })
    );
    // Each yield to the loop (once a millisecond) costs a wait or two; not one per item.
    assert.ok(waits < items / 10, `${waits} waits for ${items} items`);
  });
}
