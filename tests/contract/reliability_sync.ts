/**
 * Reliability: chaos on the synchronization primitives. Tasks take a `Lock`
 * and wait on a `Condition` under random short deadlines (seeded; see
 * `reliability_util.ts`): the lock is never owned twice, is free at the end and
 * takes a newcomer at once; no notification is lost to a cancelled waiter (no
 * waiter is stranded while an item waits); every item is consumed exactly once.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { Condition, Lock } from "../../backend/abc/sync.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { yieldUntil } from "./core_util.ts";
import { elapsed, randomCheckpoints, randomDeadline, scaled, seeded, Tally } from "./reliability_util.ts";

async function lockChaos(backend: AsyncBackend, name: string): Promise<void> {
  const label = `${name}: lock chaos`;
  const random = seeded(label);
  const lock: Lock = backend.createLock();
  const tally = new Tally(["acquire", "holding"] as const);
  const tasks = scaled(40);
  const rounds = 25;
  let owner = -1;
  let held = 0;
  const start = backend.currentTime();
  await backend.timeout(scaled(30_000), async () => {
    await backend.createTaskGroup(async (tg) => {
      for (let id = 0; id < tasks; id++) {
        tg.startSoon(async () => {
          for (let round = 0; round < rounds; round++) {
            const cancelWhileHolding = random.chance(0.05); // a deadline expiring just then
            await backend.moveOnAfter(randomDeadline(random), async (handle) => {
              await tally.at("acquire", lock.acquire());
              if (cancelWhileHolding) handle.cancel();
              try {
                assert.equal(owner, -1, `${label}: task ${id} got the lock while task ${owner} owned it`);
                owner = id;
                held++;
                await tally.at("holding", randomCheckpoints(backend, random));
                assert.equal(owner, id, `${label}: task ${owner} took the lock from task ${id}`);
              } finally {
                if (owner === id) owner = -1;
                lock.release();
              }
            });
          }
        });
      }
    });
  });
  assert.equal(lock.locked(), false, `${label}: the lock is still held after every task ended`);
  // No waiter was stranded in the lock's queue: a newcomer takes it at once.
  await backend.timeout(1000, async () => {
    using _guard = await lock.acquire();
  });
  console.log(
    `${label}: ${tasks} tasks x ${rounds} rounds in ${elapsed(backend, start)} ms: held ${held} times, ` +
      `cancellations: ${tally}; never owned twice, free afterwards`,
  );
  tally.assertEachHit(["acquire", "holding"], label);
}

async function conditionChaos(backend: AsyncBackend, name: string): Promise<void> {
  const label = `${name}: condition chaos`;
  const random = seeded(label);
  const condition: Condition = backend.createConditionVar();
  const tally = new Tally(["acquire", "wait"] as const);
  const queue: number[] = [];
  const consumed = new Map<number, number>();
  const chaosConsumers = scaled(24);
  const steadyConsumers = 4;
  const items = scaled(400);
  const tailItems = 40;
  let owner = -1;
  let done = false;
  let chaosLeft = chaosConsumers;
  const start = backend.currentTime();

  /** Takes the condition's lock and checks that nobody else has it. */
  const enter = async (id: number): Promise<void> => {
    await tally.at("acquire", condition.acquire());
    assert.equal(owner, -1, `${label}: consumer ${id} got the lock while ${owner} owned it`);
    owner = id;
  };
  /** Waits on the condition; the lock is owned again afterwards, also when cancelled. */
  const wait = async (id: number): Promise<void> => {
    owner = -1;
    try {
      await tally.at("wait", condition.wait());
    } finally {
      assert.equal(owner, -1, `${label}: consumer ${id} came back from wait while ${owner} owned the lock`);
      owner = id;
    }
  };
  /** One attempt to consume an item; `false` once the producer is done and the queue is empty. */
  const consumeOne = async (id: number): Promise<boolean> => {
    await enter(id);
    try {
      while (queue.length === 0 && !done) await wait(id);
      const item = queue.shift();
      if (item === undefined) return false;
      assert.equal(consumed.get(item), undefined, `${label}: item ${item} consumed twice`);
      consumed.set(item, id);
      return true;
    } finally {
      owner = -1;
      condition.release();
    }
  };
  const produce = async (item: number): Promise<void> => {
    await condition.acquire();
    try {
      queue.push(item);
      condition.notify();
    } finally {
      condition.release();
    }
  };

  await backend.timeout(scaled(30_000), async () => {
    await backend.createTaskGroup(async (tg) => {
      for (let id = 0; id < steadyConsumers; id++) {
        tg.startSoon(async () => {
          while (await consumeOne(id));
        });
      }
      for (let id = steadyConsumers; id < steadyConsumers + chaosConsumers; id++) {
        tg.startSoon(async () => {
          try {
            for (let round = 0; round < 30; round++) {
              await backend.moveOnAfter(randomDeadline(random, 0), () => consumeOne(id));
            }
          } finally {
            chaosLeft--;
          }
        });
      }
      // Phase 1: items arrive while consumers are cancelled at random.
      for (let item = 0; item < items; item++) {
        await produce(item);
        if (random.chance(0.3)) await backend.sleep(random.chance(0.5) ? 0 : random.logUniform(0.01, 0.5));
      }
      await yieldUntil(backend, () => chaosLeft === 0, "the cancelled consumers end");
      // Phase 2: no more cancellations. Each item wakes one waiter; a waiter left behind by a cancelled wait
      // would take the notification and leave the item in the queue.
      for (let item = items; item < items + tailItems; item++) {
        await produce(item);
        await yieldUntil(backend, () => queue.length === 0, `item ${item} is consumed (a stranded waiter?)`, 10_000);
      }
      await condition.acquire();
      done = true;
      condition.notifyAll();
      condition.release();
    });
  });
  const total = items + tailItems;
  for (let item = 0; item < total; item++) assert.ok(consumed.has(item), `${label}: item ${item} never consumed`);
  assert.equal(consumed.size, total);
  console.log(
    `${label}: ${total} items, ${steadyConsumers} steady and ${chaosConsumers} cancelled consumers in ` +
      `${elapsed(backend, start)} ms: every item consumed once, no waiter stranded; cancellations: ${tally}`,
  );
  tally.assertEachHit(["acquire", "wait"], label);
}

// The chaos of semaphores, capacity limiters and memory channels is in `reliability_sync_more.ts`.

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: reliability: chaos on Lock under random deadlines`, async () => {
    const backend = create();
    await backend.bootstrap(() => lockChaos(backend, name));
  });

  test(`${name}: reliability: chaos on Condition under random deadlines`, async () => {
    const backend = create();
    await backend.bootstrap(() => conditionChaos(backend, name));
  });
}
