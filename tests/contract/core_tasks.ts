/**
 * Contract tests: task groups, tasks, system tasks, runners, yields, futures and
 * `SingleTaskRunner`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import type { CancellableFuture } from "../../backend/abc/threads.ts";
import type { SystemTask, Task, TaskStatus } from "../../backend/abc/tasks.ts";
import { CancelledError } from "../../backend/errors.ts";
import { SingleTaskRunner } from "../../tasks/mod.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { errorLike, Slot, yieldTimes } from "./core_util.ts";

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: task group waits for every child and returns the body's value`, async () => {
    const backend = create();
    const finished: number[] = [];
    const tasks: Task<number>[] = [];
    const result = await backend.bootstrap(() =>
      backend.createTaskGroup((tg) => {
        for (const ms of [10, 1, 5]) {
          tasks.push(tg.startSoon(async (delay: number) => {
            await backend.sleep(delay);
            finished.push(delay);
            return delay * 2;
          }, ms));
        }
        // A synchronous child counts too.
        tg.startSoon(() => void finished.push(0));
        return "body";
      })
    );
    assert.equal(result, "body");
    assert.deepEqual([...finished].sort((a, b) => a - b), [0, 1, 5, 10]);
    for (const task of tasks) assert.equal(task.done(), true);
    assert.deepEqual(await backend.bootstrap(() => Promise.all(tasks.map((t) => t.join()))), [20, 2, 10]);
  });

  test(`${name}: task group: a child's error cancels its siblings and the group rejects with it`, async () => {
    const backend = create();
    const boom = new Error("boom");
    const steps: string[] = [];
    const sibling = new Slot<Task<void>>();
    await assert.rejects(
      backend.bootstrap(() =>
        backend.createTaskGroup(async (tg) => {
          const waiting = backend.createEvent();
          sibling.set(tg.startSoon(async () => {
            try {
              waiting.set();
              await backend.sleepForever();
            } finally {
              steps.push("sibling cancelled");
            }
          }));
          tg.startSoon(async () => {
            await waiting.wait();
            throw boom;
          });
          try {
            await backend.sleepForever();
          } finally {
            steps.push("body cancelled");
          }
        })
      ),
      (error) => error === boom,
    );
    assert.deepEqual(steps.sort(), ["body cancelled", "sibling cancelled"]);
    assert.equal(sibling.get().cancelled(), true);
  });

  test(`${name}: task group: two failing children give an AggregateError of both`, async () => {
    const backend = create();
    const first = new Error("first");
    const second = new Error("second");
    await assert.rejects(
      backend.bootstrap(() =>
        backend.createTaskGroup((tg) => {
          tg.startSoon(() => {
            throw first;
          });
          tg.startSoon(async () => {
            try {
              await backend.sleepForever();
            } finally {
              // Fails again while being cancelled by the first failure.
              // deno-lint-ignore no-unsafe-finally
              throw second;
            }
          });
        })
      ),
      (error) => {
        assert.ok(error instanceof AggregateError);
        assert.equal(error.errors.length, 2);
        assert.ok(error.errors.includes(first));
        assert.ok(error.errors.includes(second));
        return true;
      },
    );
  });

  test(`${name}: task group: the body rethrowing a child's error (join) is one error, not an AggregateError`, async () => {
    const backend = create();
    const boom = new Error("boom");
    await assert.rejects(
      backend.bootstrap(() =>
        backend.createTaskGroup(async (tg) => {
          const failing = tg.startSoon(async () => {
            await backend.sleep(0);
            throw boom;
          });
          await failing.join();
        })
      ),
      (error) => error === boom,
    );
  });

  test(`${name}: task group: the body's error cancels the children and the group rejects with it`, async () => {
    const backend = create();
    const boom = new Error("body failed");
    const child = new Slot<Task<void>>();
    const steps: string[] = [];
    await assert.rejects(
      backend.bootstrap(() =>
        backend.createTaskGroup(async (tg) => {
          const running = backend.createEvent();
          child.set(tg.startSoon(async () => {
            running.set();
            try {
              await backend.sleepForever();
            } finally {
              steps.push("child cancelled");
            }
          }));
          await running.wait();
          throw boom;
        })
      ),
      (error) => error === boom,
    );
    assert.deepEqual(steps, ["child cancelled"]);
    assert.equal(child.get().cancelled(), true);
  });

  test(`${name}: task group: a CancelledError the body raises itself (join of a cancelled task) cancels the children`, async () => {
    const backend = create();
    const steps: string[] = [];
    const outer = new Slot<{ readonly cancelCalled: boolean }>();
    await backend.bootstrap(() =>
      // The deadline only bounds a broken implementation (children never cancelled).
      backend.moveOnAfter(10_000, async (h) => {
        outer.set(h);
        await assert.rejects(
          backend.createTaskGroup(async (tg) => {
            tg.startSoon(async () => {
              try {
                await backend.sleepForever();
              } finally {
                steps.push(`sibling cancelled; outer deadline hit: ${h.cancelCalled}`);
              }
            });
            const victim = tg.startSoon(() => backend.sleepForever());
            victim.cancel();
            // Not a cancellation of this group or of any scope around it.
            await victim.join();
          }),
          CancelledError,
        );
        steps.push("group rejected");
      })
    );
    assert.equal(outer.get().cancelCalled, false);
    assert.deepEqual(steps, ["sibling cancelled; outer deadline hit: false", "group rejected"]);
  });

  test(`${name}: task group: startSoon and start after the group exited throw`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const group = new Slot<Parameters<Parameters<typeof backend.createTaskGroup>[0]>[0]>();
      await backend.createTaskGroup((tg) => void group.set(tg));
      let ran = false;
      assert.throws(() => group.get().startSoon(() => void (ran = true)), errorLike(Error, /exited/));
      await assert.rejects(group.get().start(() => void (ran = true)), errorLike(Error, /exited/));
      await yieldTimes(backend, 5);
      assert.equal(ran, false);
    });
  });

  test(`${name}: task group: start() handshake returns the value; an early error rejects start() only`, async () => {
    const backend = create();
    const steps: string[] = [];
    const result = await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        // The value given to started() is returned; the task keeps running.
        const port = await tg.start(async (status: TaskStatus<number>, base: number) => {
          await backend.sleep(1);
          status.started(base + 1);
          assert.throws(() => status.started(0), Error);
          await backend.sleep(1);
          steps.push("started task finished");
        }, 8000);
        assert.equal(port, 8001);
        steps.push("start returned");

        // An error before started() rejects start() and does not fail the group.
        const early = new Error("failed before started()");
        await assert.rejects(
          tg.start(async () => {
            await backend.sleep(0);
            throw early;
          }),
          (error) => error === early,
        );
        // A task returning without calling started().
        await assert.rejects(tg.start(async () => await backend.sleep(0)), errorLike(Error, /started\(\)/));
        // The group is not cancelled: its checkpoints pass.
        await backend.sleep(1);
        return "group survived";
      })
    );
    assert.equal(result, "group survived");
    assert.deepEqual(steps.sort(), ["start returned", "started task finished"]);

    // An error after started() fails the group as usual.
    const late = new Error("failed after started()");
    await assert.rejects(
      backend.bootstrap(() =>
        backend.createTaskGroup(async (tg) => {
          await tg.start(async (status) => {
            status.started();
            await backend.sleep(0);
            throw late;
          });
          await backend.sleepForever();
        })
      ),
      (error) => error === late,
    );
  });

  test(`${name}: cancelling join() leaves the task running; it completes later`, async () => {
    const backend = create();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const go = backend.createEvent();
        const task = tg.startSoon(async () => {
          await go.wait();
          return 5;
        });
        const joined = await backend.moveOnAfter(Infinity, (h) => {
          const join = task.join();
          h.cancel();
          return join;
        });
        assert.equal(joined, undefined);
        assert.equal(await backend.moveOnAfter(1, () => task.wait()), undefined);
        assert.equal(task.done(), false);
        assert.equal(task.cancelled(), false);
        go.set();
        assert.equal(await task.join(), 5);
        assert.equal(task.done(), true);
        assert.equal(task.cancelled(), false);
      })
    );
  });

  test(`${name}: task.cancel(), cancelled(), done(); join of a cancelled task rejects CancelledError`, async () => {
    const backend = create();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const running = backend.createEvent();
        const sleeper = tg.startSoon(async () => {
          running.set();
          await backend.sleepForever();
        });
        await running.wait();
        assert.equal(sleeper.done(), false);
        assert.equal(sleeper.cancelled(), false);
        assert.equal(sleeper.cancel(), true);
        await sleeper.wait();
        assert.equal(sleeper.done(), true);
        assert.equal(sleeper.cancelled(), true);
        assert.equal(sleeper.cancel(), false);
        await assert.rejects(sleeper.join(), CancelledError);

        // Cancelled before it even started.
        const early = tg.startSoon(() => backend.sleep(0));
        assert.equal(early.cancel(), true);
        await assert.rejects(early.join(), CancelledError);
        assert.equal(early.cancelled(), true);

        // A finished task cannot be cancelled and reports its result.
        const quick = tg.startSoon(async () => "quick");
        assert.equal(await quick.join(), "quick");
        assert.equal(quick.cancel(), false);
        assert.equal(quick.cancelled(), false);

        // A failed task is not "cancelled"; join rethrows its error.
        const failing = new Slot<Task<never>>();
        const boom = new Error("boom");
        await assert.rejects(
          backend.createTaskGroup((inner) => {
            failing.set(inner.startSoon(() => Promise.reject(boom)));
          }),
          (e) => e === boom,
        );
        assert.equal(failing.get().cancelled(), false);
        await assert.rejects(failing.get().join(), (e) => e === boom);
      })
    );
  });

  test(`${name}: cancelling the group's cancelScope makes createTaskGroup resolve undefined`, async () => {
    const backend = create();
    const children: Task<void>[] = [];
    const steps: string[] = [];
    const scope = new Slot<{ readonly cancelledCaught: boolean }>();
    const result = await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        scope.set(tg.cancelScope);
        for (let i = 0; i < 3; i++) children.push(tg.startSoon(() => backend.sleepForever()));
        await backend.sleep(0);
        tg.cancelScope.cancel();
        await backend.sleep(0);
        steps.push("not reached");
        return "value";
      })
    );
    assert.equal(result, undefined);
    assert.deepEqual(steps, []);
    assert.equal(scope.get().cancelledCaught, true);
    for (const child of children) assert.equal(child.cancelled(), true);
  });

  test(`${name}: system tasks survive the caller's cancellation and are cancelled by runner close`, async () => {
    const backend = create();
    const runner = backend.newRunner();
    const task = new Slot<SystemTask<string>>();
    const steps: string[] = [];
    try {
      await runner.run(async () => {
        const started = backend.createEvent();
        const result = await backend.moveOnAfter(Infinity, async (h) => {
          task.set(backend.spawnTask(async (label: string) => {
            started.set();
            try {
              await backend.sleepForever();
            } finally {
              steps.push(`${label} cancelled`);
            }
            return "never";
          }, "system task"));
          await started.wait();
          h.cancel();
          await backend.sleep(0);
        });
        assert.equal(result, undefined);
        await backend.sleep(1);
        assert.equal(task.get().done(), false);
      });
      // It outlives the run() that spawned it, and another run() can still see it.
      assert.equal(task.get().done(), false);
      assert.equal(await runner.run(() => backend.moveOnAfter(1, () => task.get().join())), undefined);
      assert.equal(task.get().done(), false);
      assert.deepEqual(steps, []);
    } finally {
      await runner.close();
    }
    assert.equal(task.get().done(), true);
    assert.equal(task.get().cancelled(), true);
    assert.deepEqual(steps, ["system task cancelled"]);
    await runner.close(); // idempotent
    await assert.rejects(runner.run(() => 1), errorLike(Error, /closed/));
  });

  test(`${name}: runner close cancels running run() calls; spawnTask outside a runner throws`, async () => {
    const backend = create();
    const runner = backend.newRunner();
    const steps: string[] = [];
    const running = runner.run(async () => {
      try {
        await backend.sleepForever();
      } finally {
        steps.push("run cancelled");
      }
    });
    await runner.close();
    await assert.rejects(running, CancelledError);
    assert.deepEqual(steps, ["run cancelled"]);

    let ran = false;
    assert.throws(() => backend.spawnTask(() => void (ran = true)), errorLike(Error, /runner/));
    await Promise.resolve();
    assert.equal(ran, false);

    // `await using` closes the runner.
    const task = new Slot<SystemTask<void>>();
    {
      await using scoped = backend.newRunner();
      await scoped.run(() => void task.set(backend.spawnTask(() => backend.sleepForever())));
      assert.equal(task.get().done(), false);
    }
    assert.equal(task.get().cancelled(), true);
  });

  test(`${name}: an unjoined system task's error is reported as an unhandled rejection; a joined one's is not`, async () => {
    const backend = create();
    const reported = await catchUnhandledRejections(async () => {
      await backend.bootstrap(async () => {
        const lost = new Error("nobody joins me");
        const failed = backend.spawnTask(() => {
          throw lost;
        });
        const joined = backend.spawnTask(async () => {
          await backend.sleep(1);
          throw new Error("joined");
        });
        const waited = backend.spawnTask(() => Promise.reject(new RangeError("waited")));
        const waiting = waited.wait();
        const cancelled = backend.spawnTask(() => backend.sleepForever());
        await assert.rejects(joined.join(), /joined/);
        await waiting;
        cancelled.cancel();
        await backend.sleep(5);
        assert.equal(failed.done(), true);
        // A later join still gets the error.
        await assert.rejects(failed.join(), (error) => error === lost);
      });
      // Let the runtime see the rejection.
      await new Promise((resolve) => setTimeout(resolve, 10));
    });
    assert.equal(reported.length, 1);
    assert.equal((reported[0] as Error).message, "nobody joins me");
  });

  test(`${name}: joinOrCancel cancels the task when the caller is cancelled, and waits for it`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const steps: string[] = [];
      const started = backend.createEvent();
      const task = backend.spawnTask(async () => {
        started.set();
        try {
          await backend.sleepForever();
        } finally {
          // Cleanup that takes checkpoints: joinOrCancel must wait for it.
          await backend.ignoreCancellation(async () => {
            await backend.sleep(5);
            await backend.coroYield();
          });
          steps.push("task cleaned up");
        }
      });
      await started.wait();
      const result = await backend.moveOnAfter(Infinity, async (h) => {
        const join = task.joinOrCancel();
        h.cancel();
        try {
          await join;
        } catch (error) {
          assert.ok(error instanceof CancelledError);
          steps.push(`joinOrCancel rejected, task done: ${task.done()}`);
          throw error;
        }
      });
      assert.equal(result, undefined);
      assert.deepEqual(steps, ["task cleaned up", "joinOrCancel rejected, task done: true"]);
      assert.equal(task.cancelled(), true);

      // Not cancelled: it is a plain join.
      const other = backend.spawnTask(async () => (await backend.sleep(1), "value"));
      assert.equal(await other.joinOrCancel(), "value");
    });
  });

  test(`${name}: coroYield lets a pending timer run`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      let fired = false;
      const id = setTimeout(() => (fired = true), 0);
      let yields = 0;
      try {
        // Microtask-only yields would spin here until the bound and fail.
        while (!fired && yields < 1_000_000) {
          await backend.coroYield();
          yields++;
        }
      } finally {
        clearTimeout(id);
      }
      assert.ok(fired, `the timer did not run during ${yields} coroYield() calls`);
    });
  });

  test(`${name}: cancelShieldedCoroYield never rejects in a cancelled scope; sleep(0) is a checkpoint`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const steps: string[] = [];
      await backend.moveOnAfter(Infinity, async (h) => {
        h.cancel();
        for (let i = 0; i < 3; i++) await backend.cancelShieldedCoroYield();
        steps.push("shielded yields passed");
        await assert.rejects(backend.sleep(0), CancelledError);
        await assert.rejects(backend.sleepUntil(backend.currentTime() - 1), CancelledError);
        steps.push("sleep(0) rejected");
      });
      assert.deepEqual(steps, ["shielded yields passed", "sleep(0) rejected"]);

      // cancelShieldedCoroYield and sleep(0) yield to the event loop (timers run).
      for (const yieldOnce of [() => backend.cancelShieldedCoroYield(), () => backend.sleep(0)]) {
        let fired = false;
        const id = setTimeout(() => (fired = true), 0);
        try {
          for (let i = 0; !fired && i < 1_000_000; i++) await yieldOnce();
        } finally {
          clearTimeout(id);
        }
        assert.ok(fired);
      }
    });
  });

  test(`${name}: waitFuture resolves and rejects with the future's outcome`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      assert.equal(await backend.waitFuture(Promise.resolve(3)), 3);
      const boom = new Error("boom");
      await assert.rejects(backend.waitFuture(Promise.reject(boom)), (e) => e === boom);
      // A bare thenable.
      const thenable: PromiseLike<string> = {
        then: (onFulfilled, _onRejected) => Promise.resolve("thenable").then(onFulfilled),
      };
      assert.equal(await backend.waitFuture(thenable), "thenable");
      // A future reporting cancelled() rejects with CancelledError.
      const cancelledFuture: CancellableFuture<never> = {
        then: (onFulfilled, onRejected) => Promise.reject(new Error("future cancelled")).then(onFulfilled, onRejected),
        cancelled: () => true,
      };
      await assert.rejects(backend.waitFuture(cancelledFuture), CancelledError);
      // A waitFuture in a cancelled scope rejects at once.
      await backend.moveOnAfter(Infinity, async (h) => {
        h.cancel();
        await assert.rejects(backend.waitFuture(Promise.resolve(1)), CancelledError);
      });
    });
  });

  test(`${name}: waitFuture calls cancel() on the future when the waiter is cancelled`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      let cancelCalls = 0;
      let rejectFuture!: (error: unknown) => void;
      const promise = new Promise<number>((_resolve, reject) => (rejectFuture = reject));
      let isCancelled = false;
      const future: CancellableFuture<number> = {
        then: (onFulfilled, onRejected) => promise.then(onFulfilled, onRejected),
        cancel: () => {
          cancelCalls++;
          isCancelled = true;
          rejectFuture(new Error("cancelled by the waiter"));
        },
        cancelled: () => isCancelled,
      };
      const result = await backend.moveOnAfter(Infinity, async (h) => {
        const waiting = backend.waitFuture(future);
        await backend.coroYield();
        assert.equal(cancelCalls, 0);
        h.cancel();
        await assert.rejects(waiting, CancelledError);
        assert.equal(cancelCalls, 1);
        await backend.sleep(0);
      });
      assert.equal(result, undefined);
      assert.equal(cancelCalls, 1);

      // Cancelled by a deadline while waiting.
      let deadlineCancels = 0;
      const never: CancellableFuture<void> = {
        then: (onFulfilled, onRejected) => new Promise<void>(() => {}).then(onFulfilled, onRejected),
        cancel: () => void deadlineCancels++,
      };
      assert.equal(await backend.moveOnAfter(2, () => backend.waitFuture(never)), undefined);
      assert.equal(deadlineCancels, 1);
    });
  });

  test(`${name}: SingleTaskRunner runs fn once for 10 concurrent callers, sharing its result or error`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      let calls = 0;
      const shared = { answer: 42 };
      const runner = new SingleTaskRunner(backend, async (value: typeof shared) => {
        calls++;
        await backend.sleep(1);
        return value;
      }, shared);
      const results: unknown[] = [];
      await backend.createTaskGroup((tg) => {
        for (let i = 0; i < 10; i++) tg.startSoon(async () => void results.push(await runner.run()));
      });
      assert.equal(calls, 1);
      assert.equal(results.length, 10);
      for (const result of results) assert.equal(result, shared);
      assert.equal(await runner.run(), shared);
      assert.equal(calls, 1);

      let failingCalls = 0;
      const boom = new Error("boom");
      const failing = new SingleTaskRunner(backend, async () => {
        failingCalls++;
        await backend.sleep(1);
        throw boom;
      });
      const errors: unknown[] = [];
      await backend.createTaskGroup((tg) => {
        for (let i = 0; i < 10; i++) {
          tg.startSoon(async () => {
            try {
              await failing.run();
            } catch (error) {
              errors.push(error);
            }
          });
        }
      });
      assert.equal(failingCalls, 1);
      assert.equal(errors.length, 10);
      for (const error of errors) assert.equal(error, boom);
    });
  });

  test(`${name}: SingleTaskRunner.cancel() before run makes run reject CancelledError`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      let calls = 0;
      const runner = new SingleTaskRunner(backend, () => ++calls);
      assert.equal(runner.cancel(), true);
      await assert.rejects(runner.run(), CancelledError);
      await assert.rejects(runner.run(), CancelledError);
      assert.equal(calls, 0);

      // cancel() while running cancels the function.
      const started = backend.createEvent();
      const running = new SingleTaskRunner(backend, async () => {
        started.set();
        await backend.sleepForever();
      });
      await backend.createTaskGroup(async (tg) => {
        const waiter = tg.startSoon(() => running.run());
        await started.wait();
        assert.equal(running.cancel(), true);
        await assert.rejects(waiter.join(), CancelledError);
      });
    });
  });
  test(`${name}: tasks start in spawn order, each on its own microtask after the spawner's synchronous code, in the spawner's async context`, async () => {
    const backend = create();
    const steps: string[] = [];
    const storage = new AsyncLocalStorage<string>();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        tg.startSoon(() => void steps.push(`A ${storage.getStore()}`));
        // A microtask queued between two spawns runs between the two starts.
        void Promise.resolve().then(() => steps.push("M"));
        storage.run("b", () => tg.startSoon(() => void steps.push(`B ${storage.getStore()}`)));
        tg.startSoon(async () => {
          steps.push("C");
          await null;
          steps.push("C after await");
        });
        storage.run("d", () => tg.startSoon(() => void steps.push(`D ${storage.getStore()}`)));
        steps.push("spawner");
        await null;
        steps.push("spawner after await");
      })
    );
    assert.deepEqual(steps, [
      "spawner",
      "A undefined",
      "M",
      "B b",
      "C",
      "D d",
      "spawner after await",
      "C after await",
    ]);
  });

  test(`${name}: 10,000 tasks that each spawn a child as they start all start once, in spawn order, in their spawner's context`, async () => {
    // Starts keep being queued while earlier ones run, so the queue of tasks not
    // yet started is compacted while in use (backend/_core/task.ts).
    const backend = create();
    const storage = new AsyncLocalStorage<number>();
    const started: number[] = [];
    const contexts: (number | undefined)[] = [];
    const parents = 5_000;
    await backend.bootstrap(() =>
      backend.createTaskGroup((tg) => {
        const child = (id: number) => {
          started.push(id);
          contexts.push(storage.getStore());
        };
        for (let i = 0; i < parents; i++) {
          tg.startSoon((id: number) => {
            started.push(id);
            contexts.push(storage.getStore());
            storage.run(parents + id, () => tg.startSoon(child, parents + id));
          }, i);
        }
      })
    );
    // All parents start first (queued before any child), then the children in
    // the order their parents started.
    assert.deepEqual(started, Array.from({ length: 2 * parents }, (_, i) => i));
    assert.deepEqual(contexts, Array.from({ length: 2 * parents }, (_, i) => i < parents ? undefined : i));
  });
}

/**
 * Runs `fn` while collecting the reasons of unhandled rejections instead of
 * letting the runtime (or the test runner) fail on them: the `unhandledrejection`
 * event where `globalThis` dispatches it (Deno, browsers), else Node's
 * `'unhandledRejection'`, with the test runner's own listeners set aside.
 */
export async function catchUnhandledRejections(fn: () => Promise<void>): Promise<unknown[]> {
  const reasons: unknown[] = [];
  const web = globalThis as unknown as {
    addEventListener?: (type: string, listener: (event: PromiseRejectionEvent) => void) => void;
    removeEventListener?: (type: string, listener: (event: PromiseRejectionEvent) => void) => void;
  };
  if (typeof web.addEventListener === "function") {
    const listener = (event: PromiseRejectionEvent) => {
      event.preventDefault();
      reasons.push(event.reason);
    };
    web.addEventListener("unhandledrejection", listener);
    try {
      await fn();
    } finally {
      web.removeEventListener!("unhandledrejection", listener);
    }
    return reasons;
  }
  type Listener = (...args: unknown[]) => void;
  const proc = (globalThis as unknown as {
    process: {
      listeners(event: string): Listener[];
      removeAllListeners(event: string): void;
      on(event: string, listener: Listener): void;
    };
  }).process;
  const saved = proc.listeners("unhandledRejection");
  proc.removeAllListeners("unhandledRejection");
  proc.on("unhandledRejection", (reason) => reasons.push(reason));
  try {
    await fn();
  } finally {
    proc.removeAllListeners("unhandledRejection");
    for (const listener of saved) proc.on("unhandledRejection", listener);
  }
  return reasons;
}
