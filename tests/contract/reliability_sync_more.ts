/**
 * Reliability: chaos on semaphores, capacity limiters and memory channels.
 * Tasks take tokens and pass items under random short deadlines (seeded; see
 * `reliability_util.ts`):
 *
 * - `Semaphore`: never more holders than its value allows, the value restored
 *   at the end, no waiter stranded (a newcomer takes every token at once).
 * - `CapacityLimiter`, its `totalTokens` changed at random while tokens are
 *   out: a borrower that resumes with a token never sees more borrowers than
 *   the largest `totalTokens` in force since it asked (the grant happened in
 *   that window, and a grant needs fewer tokens out than `totalTokens`); every
 *   token back at the end, none waiting, the whole capacity free to a newcomer.
 * - Memory channels with several senders and receivers (buffers of 0, 1 and
 *   16), sends and receives cancelled at random: every item is either received
 *   once or reported not sent (the send rejected), never both, never twice, and
 *   each receiver sees each sender's items in the order they were sent.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import { EndOfChannel, WouldBlock } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { elapsed, randomCheckpoints, randomDeadline, scaled, seeded, Tally } from "./reliability_util.ts";

async function semaphoreChaos(backend: AsyncBackend, name: string): Promise<void> {
  const label = `${name}: semaphore chaos`;
  const random = seeded(label);
  const tokens = 3;
  const semaphore = backend.createSemaphore(tokens, { max: tokens }); // a token given back twice throws
  const tally = new Tally(["acquire", "holding"] as const);
  const tasks = scaled(40);
  const rounds = 25;
  let holders = 0;
  let peak = 0;
  let held = 0;
  let tries = 0;
  let tried = 0;
  const enter = (id: number): void => {
    holders++;
    held++;
    assert.ok(holders <= tokens, `${label}: task ${id} makes ${holders} holders of a semaphore of ${tokens}`);
    peak = Math.max(peak, holders);
  };
  const start = backend.currentTime();
  await backend.timeout(scaled(30_000), async () => {
    await backend.createTaskGroup(async (tg) => {
      for (let id = 0; id < tasks; id++) {
        tg.startSoon(async () => {
          for (let round = 0; round < rounds; round++) {
            if (random.chance(0.1)) {
              // Not a checkpoint: takes a free token or nothing.
              tries++;
              if (!semaphore.tryAcquire()) continue;
              tried++;
              enter(id);
              try {
                await backend.coroYield();
              } finally {
                holders--;
                semaphore.release();
              }
              continue;
            }
            const cancelFirst = random.chance(0.05); // a scope cancelled before the call: it takes nothing
            const cancelWhileHolding = random.chance(0.05); // a deadline expiring just then
            await backend.moveOnAfter(randomDeadline(random), async (handle) => {
              if (cancelFirst) handle.cancel();
              using _token = await tally.at("acquire", semaphore.acquire());
              if (cancelWhileHolding) handle.cancel();
              enter(id);
              try {
                await tally.at("holding", randomCheckpoints(backend, random));
              } finally {
                holders--;
              }
            });
          }
        });
      }
    });
  });
  const stats = semaphore.statistics();
  assert.equal(stats.value, tokens, `${label}: ${tokens - stats.value} tokens lost after every task ended`);
  assert.equal(stats.tasksWaiting, 0, `${label}: tasks still waiting after every task ended`);
  assert.equal(peak, tokens, `${label}: never ${tokens} holders at once (the run proves nothing)`);
  // No waiter stranded in the queue: a newcomer takes every token at once.
  await backend.timeout(1000, async () => {
    const guards = [];
    for (let i = 0; i < tokens; i++) guards.push(await semaphore.acquire());
    assert.equal(semaphore.tryAcquire(), false);
    for (const guard of guards) guard[Symbol.dispose]();
  });
  assert.equal(semaphore.value, tokens);
  console.log(
    `${label}: ${tasks} tasks x ${rounds} rounds in ${elapsed(backend, start)} ms: ${held} holds ` +
      `(${tried} by tryAcquire, of ${tries} tries), at most ${peak} at once; cancellations: ${tally}; value ${tokens} afterwards`,
  );
  tally.assertEachHit(["acquire", "holding"], label);
}

async function limiterChaos(backend: AsyncBackend, name: string): Promise<void> {
  const label = `${name}: capacity limiter chaos`;
  const random = seeded(label);
  const limiter = backend.createCapacityLimiter(3);
  const tally = new Tally(["acquire", "holding"] as const);
  const tasks = scaled(30);
  const rounds = 25;
  /** The borrowers that resumed with a token and have not given it back. */
  let borrowers = 0;
  let borrowed = 0;
  let changes = 0;
  let peak = 0;
  let workersLeft = tasks;
  /** The largest `totalTokens` in force since each waiting borrower asked (updated on every change). */
  const windows = new Set<{ max: number }>();
  const setTotal = (value: number): void => {
    limiter.totalTokens = value;
    changes++;
    for (const window of windows) window.max = Math.max(window.max, value);
  };
  /** Borrows for `borrower` (the current task or an object), checking the count when the token arrives. */
  const borrow = async (id: number, borrower: object | null, tryFirst: boolean): Promise<() => void> => {
    const window = { max: limiter.totalTokens };
    windows.add(window);
    // Given back by hand, or (half the time when there is one) by disposing the guard.
    let giveBack = borrower === null ? () => limiter.release() : () => limiter.releaseOnBehalfOf(borrower);
    try {
      if (!tryFirst || !(borrower === null ? limiter.tryAcquire() : limiter.tryAcquireOnBehalfOf(borrower))) {
        const guard = await tally.at(
          "acquire",
          borrower === null ? limiter.acquire() : limiter.acquireOnBehalfOf(borrower),
        );
        if (random.chance(0.5)) giveBack = () => guard[Symbol.dispose]();
      }
      borrowers++;
    } finally {
      windows.delete(window);
    }
    borrowed++;
    peak = Math.max(peak, borrowers);
    assert.ok(
      borrowers <= window.max,
      `${label}: task ${id} got a token with ${borrowers} borrowers, totalTokens at most ${window.max} meanwhile`,
    );
    assert.ok(borrowers <= limiter.borrowedTokens, `${label}: the limiter counts fewer borrowers than resumed`);
    return giveBack;
  };
  const start = backend.currentTime();
  await backend.timeout(scaled(30_000), async () => {
    await backend.createTaskGroup(async (tg) => {
      // totalTokens changes at random (1 to 6) while tokens are out and borrowers wait.
      tg.startSoon(async () => {
        while (workersLeft > 0) {
          setTotal(random.int(1, 6));
          await backend.sleep(random.chance(0.3) ? 0 : random.logUniform(0.05, 2));
        }
      });
      for (let id = 0; id < tasks; id++) {
        tg.startSoon(async () => {
          try {
            for (let round = 0; round < rounds; round++) {
              const borrower = random.chance(0.3) ? { id, round } : null;
              const tryFirst = random.chance(0.1);
              const cancelFirst = random.chance(0.05);
              const cancelWhileHolding = random.chance(0.05);
              await backend.moveOnAfter(randomDeadline(random), async (handle) => {
                if (cancelFirst) handle.cancel();
                const giveBack = await borrow(id, borrower, tryFirst);
                if (cancelWhileHolding) handle.cancel();
                try {
                  await tally.at("holding", randomCheckpoints(backend, random));
                } finally {
                  borrowers--;
                  giveBack();
                }
              });
            }
          } finally {
            workersLeft--;
          }
        });
      }
    });
  });
  const stats = limiter.statistics();
  assert.equal(stats.borrowedTokens, 0, `${label}: ${stats.borrowedTokens} tokens still out after every task ended`);
  assert.equal(stats.borrowers.length, 0);
  assert.equal(stats.tasksWaiting, 0, `${label}: borrowers still waiting after every task ended`);
  assert.equal(limiter.availableTokens, limiter.totalTokens);
  assert.ok(peak >= 3, `${label}: never 3 borrowers at once (the run proves nothing)`);
  // The whole capacity is free to newcomers, and no more.
  const total = limiter.totalTokens;
  const newcomers = Array.from({ length: total }, (_, i) => ({ newcomer: i }));
  for (const newcomer of newcomers) assert.ok(limiter.tryAcquireOnBehalfOf(newcomer), `${label}: a token is missing`);
  assert.equal(limiter.tryAcquireOnBehalfOf({}), false, `${label}: more than ${total} tokens`);
  for (const newcomer of newcomers) limiter.releaseOnBehalfOf(newcomer);
  console.log(
    `${label}: ${tasks} tasks x ${rounds} rounds in ${elapsed(backend, start)} ms, totalTokens changed ` +
      `${changes} times: ${borrowed} borrows, at most ${peak} at once; cancellations: ${tally}; all tokens back`,
  );
  tally.assertEachHit(["acquire", "holding"], label);
}

async function channelChaos(backend: AsyncBackend, name: string, bufferSize: number): Promise<void> {
  const label = `${name}: memory channel chaos, buffer ${bufferSize}`;
  const random = seeded(label);
  const [send, receive] = backend.createMemoryChannel<number>(bufferSize);
  const tally = new Tally(["send", "receive"] as const);
  const senders = 4;
  const receivers = 4;
  const perSender = scaled(1000);
  /** Each item is `sender * STRIDE + k`. */
  const STRIDE = 1 << 20;
  const sent = new Set<number>();
  const notSent = new Set<number>();
  const received = new Map<number, number>(); // item -> receiver
  let wouldBlock = 0;
  const start = backend.currentTime();
  await backend.timeout(scaled(30_000), async () => {
    await backend.createTaskGroup(async (tg) => {
      for (let s = 0; s < senders; s++) {
        const end = send.clone();
        tg.startSoon(async () => {
          using _end = end; // the receivers see the end once every sender closed its clone
          for (let k = 0; k < perSender; k++) {
            const item = s * STRIDE + k;
            if (random.chance(0.1)) {
              try {
                end.sendNowait(item); // not a checkpoint
                sent.add(item);
              } catch (error) {
                if (!(error instanceof WouldBlock)) throw error;
                wouldBlock++;
                notSent.add(item);
              }
              continue;
            }
            let done = false;
            const cancelFirst = random.chance(0.05); // a send in a cancelled scope sends nothing
            await backend.moveOnAfter(randomDeadline(random, 0.5), async (handle) => {
              if (cancelFirst) handle.cancel();
              try {
                await tally.at("send", end.send(item));
                done = true;
              } finally {
                (done ? sent : notSent).add(item);
              }
              if (random.chance(0.2)) await backend.coroYield();
            });
          }
        });
      }
      send.close();
      for (let r = 0; r < receivers; r++) {
        const end = receive.clone();
        tg.startSoon(async () => {
          using _end = end;
          const last = new Array<number>(senders).fill(-1);
          for (let ended = false; !ended;) {
            const cancelFirst = random.chance(0.05); // a receive in a cancelled scope takes nothing
            await backend.moveOnAfter(randomDeadline(random, 0.5), async (handle) => {
              if (cancelFirst) handle.cancel();
              let item: number;
              try {
                item = await tally.at("receive", end.receive());
              } catch (error) {
                if (!(error instanceof EndOfChannel)) throw error;
                ended = true;
                return;
              }
              const previous = received.get(item);
              assert.equal(previous, undefined, `${label}: item ${item} received by ${r} and by ${previous}`);
              received.set(item, r);
              const s = Math.floor(item / STRIDE);
              assert.ok(item > last[s], `${label}: receiver ${r} got item ${item} after ${last[s]}`);
              last[s] = item;
              if (random.chance(0.2)) await randomCheckpoints(backend, random);
            });
          }
        });
      }
      receive.close();
    });
  });
  const attempted = senders * perSender;
  assert.equal(sent.size + notSent.size, attempted, `${label}: a send neither completed nor failed`);
  for (const item of notSent) assert.ok(!received.has(item), `${label}: item ${item} reported not sent, received`);
  for (const item of sent) assert.ok(received.has(item), `${label}: item ${item} sent, never received (lost)`);
  assert.equal(received.size, sent.size, `${label}: items received that were never sent`);
  const stats = send.statistics();
  assert.equal(stats.currentBufferUsed, 0);
  assert.equal(stats.tasksWaitingSend + stats.tasksWaitingReceive, 0, `${label}: tasks still waiting at the end`);
  console.log(
    `${label}: ${senders} senders, ${receivers} receivers, ${attempted} items in ${elapsed(backend, start)} ms: ` +
      `${received.size} received once, ${notSent.size} not sent (${wouldBlock} would block); ` +
      `cancellations: ${tally}`,
  );
  tally.assertEachHit(["send", "receive"], label);
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: reliability: chaos on Semaphore under random deadlines`, async () => {
    const backend = create();
    await backend.bootstrap(() => semaphoreChaos(backend, name));
  });

  test(`${name}: reliability: chaos on CapacityLimiter with totalTokens changing, under random deadlines`, async () => {
    const backend = create();
    await backend.bootstrap(() => limiterChaos(backend, name));
  });

  for (const bufferSize of [0, 1, 16]) {
    test(`${name}: reliability: chaos on a memory channel (buffer ${bufferSize}) under random deadlines`, async () => {
      const backend = create();
      await backend.bootstrap(() => channelChaos(backend, name, bufferSize));
    });
  }
}
