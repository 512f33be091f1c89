/**
 * Contract tests: capacity limiters (registered by `core_sync_more.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { TimeoutHandle } from "../../backend/abc/cancel_scope.ts";
import type { CapacityLimiter } from "../../backend/abc/sync.ts";
import type { Task } from "../../backend/abc/tasks.ts";
import { CancelledError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { seededRandom } from "./core_semaphore.ts";
import { errorLike, Slot, yieldTimes, yieldUntil } from "./core_util.ts";

/** Borrowers that ask in order, each recording its id once it holds a token (and keeping it). */
function waiters(
  limiter: CapacityLimiter,
  ids: readonly string[],
): { got: string[]; borrowers: { id: string }[]; start: () => Promise<void>[] } {
  const got: string[] = [];
  const borrowers = ids.map((id) => ({ id }));
  const start = () => borrowers.map((b) => limiter.acquireOnBehalfOf(b).then(() => void got.push(b.id)));
  return { got, borrowers, start };
}

/** Registers the capacity limiter tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: CapacityLimiter: per-task tokens, FIFO, borrowers are the task handles`, async () => {
    const backend = create();
    const limiter = backend.createCapacityLimiter(1);
    const acquired: number[] = [];
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        using _token = await limiter.acquire();
        const mainTask = limiter.statistics().borrowers[0];
        const tasks: Task<void>[] = [0, 1, 2].map((id) =>
          tg.startSoon(async () => {
            await yieldTimes(backend, id * 3); // ask in id order
            using _token = await limiter.acquire();
            acquired.push(id);
            assert.deepEqual(limiter.statistics().borrowers, [tasks[id]], "the borrower is the task handle");
            await backend.coroYield();
          })
        );
        await yieldUntil(backend, () => limiter.statistics().tasksWaiting === 3, "3 waiters");
        assert.deepEqual(limiter.statistics(), {
          borrowedTokens: 1,
          totalTokens: 1,
          borrowers: [mainTask],
          tasksWaiting: 3,
        });
        assert.ok(!tasks.includes(mainTask as never));
        // A newcomer does not borrow ahead of the waiters.
        assert.equal(limiter.tryAcquireOnBehalfOf({}), false);
        limiter.release();
        assert.equal(limiter.borrowedTokens, 1, "handed over at once");
        assert.equal(limiter.statistics().borrowers[0], tasks[0]);
        await Promise.all(tasks.map((t) => t.join()));
      })
    );
    assert.deepEqual(acquired, [0, 1, 2]);
    assert.equal(limiter.borrowedTokens, 0);
  });

  test(`${name}: CapacityLimiter: a borrower holding a token cannot borrow another; releasing none throws`, async () => {
    const backend = create();
    const limiter = backend.createCapacityLimiter(5);
    await backend.bootstrap(async () => {
      assert.throws(() => limiter.release(), errorLike(Error, /holds none/));
      assert.throws(() => limiter.releaseOnBehalfOf({}), errorLike(Error, /holds none/));
      using _token = await limiter.acquire();
      await assert.rejects(limiter.acquire(), errorLike(Error, /already holds/));
      assert.throws(() => limiter.tryAcquire(), errorLike(Error, /already holds/));
      const job = {};
      assert.equal(limiter.tryAcquireOnBehalfOf(job), true);
      await assert.rejects(limiter.acquireOnBehalfOf(job), errorLike(Error, /already holds/));
      assert.throws(() => limiter.tryAcquireOnBehalfOf(job), errorLike(Error, /already holds/));
      assert.equal(limiter.borrowedTokens, 2);
      limiter.releaseOnBehalfOf(job);
      assert.throws(() => limiter.releaseOnBehalfOf(job), errorLike(Error, /holds none/));
      // One borrower queued twice: when its turn comes, the second finds the first's token.
      const full = backend.createCapacityLimiter(1);
      const holder = {};
      full.tryAcquireOnBehalfOf(holder);
      const twice = {};
      const other = {};
      const first = full.acquireOnBehalfOf(twice);
      const second = full.acquireOnBehalfOf(twice);
      const third = full.acquireOnBehalfOf(other);
      assert.equal(full.statistics().tasksWaiting, 3);
      full.totalTokens = 3;
      assert.equal(typeof (await first)[Symbol.dispose], "function");
      await assert.rejects(second, errorLike(Error, /already holds/));
      await third;
      assert.deepEqual(full.statistics().borrowers, [holder, twice, other]);
      assert.equal(full.statistics().tasksWaiting, 0);
    });
  });

  test(`${name}: CapacityLimiter: shrinking totalTokens while borrowed; borrowers keep their tokens`, async () => {
    const backend = create();
    const limiter = backend.createCapacityLimiter(3);
    await backend.bootstrap(async () => {
      const holders = [{}, {}, {}];
      for (const h of holders) assert.equal(limiter.tryAcquireOnBehalfOf(h), true);
      limiter.totalTokens = 1;
      assert.equal(limiter.totalTokens, 1);
      assert.equal(limiter.borrowedTokens, 3, "no token is taken back");
      assert.equal(limiter.availableTokens, 0);
      const w = waiters(limiter, ["a", "b", "c"]);
      const done = w.start();
      await yieldTimes(backend, 3);
      limiter.releaseOnBehalfOf(holders[0]);
      limiter.releaseOnBehalfOf(holders[1]);
      await yieldTimes(backend, 3);
      assert.deepEqual(w.got, [], "a token was lent while more than totalTokens were out");
      assert.equal(limiter.borrowedTokens, 1);
      limiter.releaseOnBehalfOf(holders[2]);
      await yieldUntil(backend, () => w.got.length === 1, "a to get a token");
      assert.deepEqual(w.got, ["a"]);
      // Growing lends the new tokens at once, oldest waiter first.
      limiter.totalTokens = 2;
      assert.equal(limiter.statistics().tasksWaiting, 1);
      assert.deepEqual(limiter.statistics().borrowers, [w.borrowers[0], w.borrowers[1]]);
      limiter.totalTokens = Infinity;
      assert.equal(limiter.availableTokens, Infinity);
      await Promise.all(done);
      assert.deepEqual(w.got, ["a", "b", "c"]);
      assert.equal(limiter.borrowedTokens, 3);
      // Shrink, then grow back: only the free tokens are lent (Trio's count, not AnyIO's).
      limiter.totalTokens = 1;
      const more = waiters(limiter, ["d", "e"]);
      const moreDone = more.start();
      limiter.totalTokens = 3;
      limiter.totalTokens = 4;
      assert.equal(limiter.borrowedTokens, 4, "growing from 3 to 4 with 3 out lends exactly one token");
      assert.equal(limiter.statistics().tasksWaiting, 1);
      limiter.totalTokens = 5;
      await Promise.all(moreDone);
      assert.deepEqual(more.got, ["d", "e"]);
    });
  });

  test(`${name}: CapacityLimiter: cancellation while waiting borrows nothing; a late cancel passes the token on`, async () => {
    const backend = create();
    const limiter = backend.createCapacityLimiter(1);
    const steps: string[] = [];
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const owner = {};
        const held = await limiter.acquireOnBehalfOf(owner);
        const scopes = [new Slot<TimeoutHandle>(), new Slot<TimeoutHandle>()];
        const [b, c] = ["B", "C"].map((who, i) =>
          tg.startSoon(() =>
            backend.moveOnAfter(Infinity, async (h) => {
              scopes[i].set(h);
              await yieldTimes(backend, i * 3);
              using _token = await limiter.acquire();
              steps.push(`${who} got a token`);
              try {
                await backend.coroYield();
              } catch (error) {
                steps.push(`${who} cancelled at its next checkpoint`);
                throw error;
              }
            })
          )
        );
        await yieldUntil(backend, () => limiter.statistics().tasksWaiting === 2, "B and C to wait");
        const d = tg.startSoon(async () => {
          using _token = await limiter.acquire();
          steps.push("D got a token");
        });
        await yieldUntil(backend, () => limiter.statistics().tasksWaiting === 3, "D to wait");
        scopes[0].get().cancel(); // B, first in line, is cancelled while it waits
        assert.equal(await b.join(), undefined);
        assert.equal(limiter.statistics().tasksWaiting, 2);
        held[Symbol.dispose](); // hands the token to C...
        scopes[1].get().cancel(); // ...cancelled in the same tick: it keeps it to its next checkpoint
        assert.equal(limiter.statistics().borrowers[0], c);
        assert.equal(await c.join(), undefined);
        await d.join();
        // In a cancelled scope a free token is not borrowed.
        await backend.moveOnAfter(Infinity, async (h) => {
          h.cancel();
          await assert.rejects(limiter.acquire(), CancelledError);
        });
      })
    );
    assert.deepEqual(steps, ["C got a token", "C cancelled at its next checkpoint", "D got a token"]);
    assert.equal(limiter.borrowedTokens, 0);
    assert.equal(limiter.statistics().tasksWaiting, 0);
  });

  test(`${name}: CapacityLimiter: a guard releases only its own hold; statistics() snapshots`, async () => {
    const backend = create();
    const limiter = backend.createCapacityLimiter(2);
    await backend.bootstrap(async () => {
      const job = {};
      const first = await limiter.acquireOnBehalfOf(job);
      limiter.releaseOnBehalfOf(job);
      const second = await limiter.acquireOnBehalfOf(job);
      first[Symbol.dispose]();
      assert.equal(limiter.borrowedTokens, 1, "an old guard released a later hold");
      second[Symbol.dispose]();
      second[Symbol.dispose]();
      assert.equal(limiter.borrowedTokens, 0);
      const stats = limiter.statistics();
      assert.deepEqual(stats, { borrowedTokens: 0, totalTokens: 2, borrowers: [], tasksWaiting: 0 });
      assert.ok(Object.isFrozen(stats) && Object.isFrozen(stats.borrowers));
      const fn = () => {};
      assert.equal(limiter.tryAcquireOnBehalfOf(fn), true, "a function is an object");
      assert.equal(limiter.tryAcquireOnBehalfOf(job), true);
      assert.deepEqual(limiter.statistics().borrowers, [fn, job]);
      assert.equal(limiter.availableTokens, 0);
      assert.equal(stats.borrowedTokens, 0, "a snapshot does not change");
    });
  });

  test(`${name}: CapacityLimiter: bad totalTokens and borrowers are TypeError or RangeError naming the argument`, async () => {
    const backend = create();
    for (const total of ["2", null, undefined, 2n]) {
      assert.throws(
        () => backend.createCapacityLimiter(total as unknown as number),
        errorLike(TypeError, /'totalTokens'/),
      );
    }
    for (const total of [0, -1, 1.5, NaN, -Infinity, 2 ** 53]) {
      assert.throws(() => backend.createCapacityLimiter(total), errorLike(RangeError, /'totalTokens'/));
    }
    assert.equal(backend.createCapacityLimiter(Infinity).totalTokens, Infinity);
    const limiter = backend.createCapacityLimiter(2);
    assert.throws(() => (limiter.totalTokens = 0), errorLike(RangeError, /'totalTokens'/));
    assert.throws(() => (limiter.totalTokens = "3" as unknown as number), errorLike(TypeError, /'totalTokens'/));
    assert.equal(limiter.totalTokens, 2);
    await backend.bootstrap(async () => {
      for (const borrower of [null, undefined, "job", 1, Symbol("s")]) {
        await assert.rejects(
          limiter.acquireOnBehalfOf(borrower as unknown as object),
          errorLike(TypeError, /'borrower'/),
        );
        assert.throws(
          () => limiter.tryAcquireOnBehalfOf(borrower as unknown as object),
          errorLike(TypeError, /'borrower'/),
        );
      }
      assert.equal(limiter.borrowedTokens, 0);
    });
  });

  test(`${name}: CapacityLimiter under random cancellation and resizing: never over-lent, no token lost`, async () => {
    const backend = create();
    const TASKS = 25;
    const ROUNDS = 20;
    for (const seed of [4, 5]) {
      const random = seededRandom(seed);
      const limiter = backend.createCapacityLimiter(3);
      const scopes = new Set<TimeoutHandle>();
      let holding = 0;
      let finished = 0;
      let cancels = 0;
      await backend.bootstrap(() =>
        backend.createTaskGroup(async (tg) => {
          for (let t = 0; t < TASKS; t++) {
            tg.startSoon(async () => {
              for (let r = 0; r < ROUNDS; r++) {
                await backend.moveOnAfter(Infinity, async (h) => {
                  scopes.add(h);
                  try {
                    using _token = await limiter.acquire();
                    holding++;
                    // Every holder has its own token; never more out than the largest limit set.
                    assert.ok(holding <= limiter.borrowedTokens && limiter.borrowedTokens <= 4, `seed ${seed}`);
                    try {
                      for (let i = Math.floor(random() * 3); i > 0; i--) await backend.coroYield();
                    } finally {
                      holding--;
                    }
                  } finally {
                    scopes.delete(h);
                  }
                });
              }
              finished++;
            });
          }
          let limit = 3;
          for (let turns = 0; finished < TASKS; turns++) {
            if (turns > 200_000) assert.fail(`seed ${seed}: stuck with ${finished}/${TASKS} tasks finished`);
            const before = limiter.borrowedTokens;
            if (random() < 0.1) limiter.totalTokens = limit = 1 + Math.floor(random() * 4);
            // Lent only up to the limit; tokens out above a lowered limit are kept.
            assert.ok(limiter.borrowedTokens <= Math.max(before, limit), `seed ${seed}: over-lent`);
            await backend.coroYield();
            if (scopes.size > 0 && random() < 0.6) {
              [...scopes][Math.floor(random() * scopes.size)].cancel();
              cancels++;
            }
          }
        })
      );
      assert.equal(holding, 0);
      assert.equal(limiter.borrowedTokens, 0, `seed ${seed}: tokens lost`);
      assert.equal(limiter.statistics().tasksWaiting, 0);
      assert.ok(cancels > 0);
    }
  });
}
