/**
 * Contract tests: the cancellation rules of SPEC 2.1, one test per rule and per
 * bug they fixed (which scope catches, task groups carrying cancellation out,
 * `tg.start()` in a cancelled scope, conditions, a task joining itself).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { TimeoutHandle } from "../../backend/abc/cancel_scope.ts";
import type { SystemTask, Task, TaskGroup } from "../../backend/abc/tasks.ts";
import { CancelledError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { domException, errorLike, Slot } from "./core_util.ts";

/** Keeps the CPU busy (no checkpoint, no timer can fire) for `ms` on the backend clock. */
function burn(backend: AsyncBackend, ms: number): void {
  const end = backend.currentTime() + ms;
  while (backend.currentTime() < end) { /* busy */ }
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: a deadline that fires while a task group waits for its children rejects timeout() with TimeoutError`, async () => {
    const backend = create();
    const steps: string[] = [];
    await backend.bootstrap(async () => {
      await assert.rejects(
        backend.timeout(20, async () => {
          await backend.createTaskGroup((tg) => {
            tg.startSoon(() => backend.sleep(60_000));
          });
          steps.push("after the group");
          return "completed";
        }),
        domException("TimeoutError"),
      );
    });
    assert.deepEqual(steps, []);
  });

  test(`${name}: a deadline that fires while a task group waits for its children makes moveOnAfter() resolve undefined`, async () => {
    const backend = create();
    const steps: string[] = [];
    const handle = new Slot<TimeoutHandle>();
    const group = new Slot<TaskGroup>();
    const result = await backend.bootstrap(() =>
      backend.moveOnAfter(20, async (h) => {
        handle.set(h);
        await backend.createTaskGroup((tg) => {
          group.set(tg);
          tg.startSoon(() => backend.sleep(60_000));
        });
        steps.push("after the group");
        return "completed";
      })
    );
    assert.equal(result, undefined);
    assert.deepEqual(steps, []);
    assert.equal(handle.get().cancelledCaught, true);
    assert.equal(group.get().cancelScope.cancelledCaught, false);
  });

  test(`${name}: an enclosing scope cancelled by a child after the body returned makes the group reject CancelledError`, async () => {
    const backend = create();
    const handle = new Slot<TimeoutHandle>();
    const outcome = await backend.bootstrap(() =>
      backend.moveOnAfter(Infinity, async (h) => {
        handle.set(h);
        try {
          await backend.createTaskGroup((tg) => {
            tg.startSoon(() => backend.sleepForever());
            tg.startSoon(async () => {
              await backend.sleep(0);
              h.cancel();
            });
            return "body value";
          });
        } catch (error) {
          return error instanceof CancelledError ? "group rejected CancelledError" : `other: ${String(error)}`;
        }
        return "group resolved";
      })
    );
    // The body caught the CancelledError and returned: the scope is left without a checkpoint.
    assert.equal(outcome, "group rejected CancelledError");
    assert.equal(handle.get().cancelledCaught, false);
  });

  test(`${name}: leaving a task group inside a cancelled scope is a checkpoint, even when every child finished`, async () => {
    const backend = create();
    const steps: string[] = [];
    const handle = new Slot<TimeoutHandle>();
    const result = await backend.bootstrap(() =>
      backend.moveOnAfter(Infinity, async (h) => {
        handle.set(h);
        h.cancel();
        const value = await backend.createTaskGroup((tg) => {
          tg.startSoon(() => steps.push("child ran"));
          return "body value";
        });
        steps.push(`after the group: ${String(value)}`);
        return "completed";
      })
    );
    assert.equal(result, undefined);
    assert.deepEqual(steps, ["child ran"]);
    assert.equal(handle.get().cancelledCaught, true);
  });

  test(`${name}: a group whose own scope is cancelled catches it and resolves the body's value`, async () => {
    const backend = create();
    const group = new Slot<TaskGroup>();
    const result = await backend.bootstrap(() =>
      backend.createTaskGroup((tg) => {
        group.set(tg);
        tg.startSoon(() => backend.sleepForever());
        tg.cancelScope.cancel();
        return "body value";
      })
    );
    assert.equal(result, "body value");
    assert.equal(group.get().cancelScope.cancelledCaught, true);
  });

  test(`${name}: with outer and inner scopes cancelled, the outer one catches and the code after the inner one does not run`, async () => {
    const backend = create();
    const steps: string[] = [];
    const outer = new Slot<TimeoutHandle>();
    const inner = new Slot<TimeoutHandle>();
    const result = await backend.bootstrap(() =>
      backend.moveOnAfter(Infinity, async (o) => {
        outer.set(o);
        o.cancel();
        await backend.moveOnAfter(Infinity, async (i) => {
          inner.set(i);
          i.cancel();
          await backend.sleep(0);
        });
        steps.push("after the inner scope");
        return "completed";
      })
    );
    assert.equal(result, undefined);
    assert.deepEqual(steps, []);
    assert.equal(outer.get().cancelledCaught, true);
    assert.equal(inner.get().cancelledCaught, false);
    assert.equal(inner.get().cancelCalled, true);
  });

  test(`${name}: an inner timeout() cancelled inside a cancelled outer scope leaves CancelledError, not AbortError`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const outer = new Slot<TimeoutHandle>();
      const result = await backend.moveOnAfter(Infinity, async (o) => {
        outer.set(o);
        await assert.rejects(
          backend.timeout(60_000, async (i) => {
            o.cancel();
            i.cancel();
            await backend.sleep(0);
          }),
          CancelledError,
        );
        return "completed";
      });
      // The body caught the CancelledError and returned without another checkpoint.
      assert.equal(result, "completed");
      assert.equal(outer.get().cancelledCaught, false);
    });
  });

  test(`${name}: an outer deadline that passed while an inner cancelled scope kept the loop busy is not lost`, async () => {
    const backend = create();
    const steps: string[] = [];
    const inner = new Slot<TimeoutHandle>();
    await backend.bootstrap(async () => {
      await assert.rejects(
        backend.timeout(5, async () => {
          await backend.moveOnAfter(Infinity, async (i) => {
            inner.set(i);
            i.cancel();
            // The outer timer cannot fire: no turn of the loop until the scope is left.
            burn(backend, 20);
            await backend.sleep(0);
          });
          steps.push("after the inner scope");
        }),
        domException("TimeoutError"),
      );
    });
    assert.deepEqual(steps, []);
    assert.equal(inner.get().cancelledCaught, false);
  });

  test(`${name}: an outer deadline that passed during a shielded inner scope is caught at the next checkpoint`, async () => {
    const backend = create();
    const steps: string[] = [];
    await backend.bootstrap(async () => {
      await assert.rejects(
        backend.timeout(5, async () => {
          await backend.ignoreCancellation(() => backend.sleep(30));
          steps.push("after the shield");
          await backend.sleep(0);
          steps.push("after the checkpoint");
        }),
        domException("TimeoutError"),
      );
    });
    assert.deepEqual(steps, ["after the shield"]);
  });

  test(`${name}: a shielded scope cancelled itself catches its own cancellation inside a cancelled outer scope`, async () => {
    const backend = create();
    const steps: string[] = [];
    const outer = new Slot<TimeoutHandle>();
    const inner = new Slot<TimeoutHandle>();
    const result = await backend.bootstrap(() =>
      backend.moveOnAfter(Infinity, async (o) => {
        outer.set(o);
        o.cancel();
        await backend.moveOnAfter(Infinity, async (i) => {
          inner.set(i);
          i.shield = true;
          i.cancel();
          await backend.sleep(0);
        });
        steps.push("after the shielded scope");
        await backend.sleep(0);
        steps.push("after the checkpoint");
      })
    );
    assert.equal(result, undefined);
    assert.deepEqual(steps, ["after the shielded scope"]);
    assert.equal(inner.get().cancelledCaught, true);
    assert.equal(outer.get().cancelledCaught, true);
  });

  test(`${name}: tg.start() in a cancelled scope runs the child to its first checkpoint and resolves if started() came first`, async () => {
    const backend = create();
    const steps: string[] = [];
    await backend.bootstrap(() =>
      backend.moveOnAfter(Infinity, async (h) => {
        await backend.createTaskGroup(async (tg) => {
          h.cancel();
          const value = await tg.start<[], string>((status) => {
            steps.push("child ran");
            status.started("ready");
            return backend.sleepForever();
          });
          steps.push(`start resolved ${value}`);
        });
      })
    );
    assert.deepEqual(steps, ["child ran", "start resolved ready"]);
  });

  test(`${name}: tg.start() in a cancelled scope rejects CancelledError when the child checkpoints before started()`, async () => {
    const backend = create();
    const steps: string[] = [];
    await backend.bootstrap(() =>
      backend.moveOnAfter(Infinity, async (h) => {
        await backend.createTaskGroup(async (tg) => {
          h.cancel();
          await assert.rejects(
            tg.start(async (status) => {
              steps.push("child ran");
              await backend.sleep(0);
              steps.push("child passed its checkpoint");
              status.started(undefined);
            }),
            CancelledError,
          );
          steps.push("start rejected");
        });
      })
    );
    assert.deepEqual(steps, ["child ran", "start rejected"]);
  });

  test(`${name}: tg.start() in a cancelled scope rejects with the child's error thrown before started()`, async () => {
    const backend = create();
    const failure = new Error("boom before started");
    await backend.bootstrap(() =>
      backend.moveOnAfter(Infinity, async (h) => {
        await backend.createTaskGroup(async (tg) => {
          h.cancel();
          await assert.rejects(
            tg.start(() => {
              throw failure;
            }),
            (error) => error === failure,
          );
        });
      })
    );
  });

  test(`${name}: tg.start() from a cancelled inner scope: a child that called started() first keeps running in the group`, async () => {
    const backend = create();
    const steps: string[] = [];
    const result = await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        await backend.moveOnAfter(Infinity, async (h) => {
          h.cancel();
          const value = await tg.start<[], number>(async (status) => {
            status.started(7);
            await backend.sleep(0);
            steps.push("child went on after its checkpoint");
          });
          steps.push(`start resolved ${value}`);
          await backend.sleep(0);
          steps.push("not reached");
        });
        return "group done";
      })
    );
    assert.equal(result, "group done");
    assert.deepEqual(steps.sort(), ["child went on after its checkpoint", "start resolved 7"]);
  });

  test(`${name}: cancelling the caller of tg.start() cancels a child that has not started and rejects CancelledError`, async () => {
    const backend = create();
    const child = new Slot<string>();
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const result = await backend.moveOnAfter(Infinity, async (h) => {
          const pending = tg.start(async () => {
            try {
              await backend.sleepForever();
            } catch (error) {
              child.set(error instanceof CancelledError ? "child cancelled" : "other");
              throw error;
            }
          });
          await backend.sleep(0);
          h.cancel();
          await pending;
        });
        assert.equal(result, undefined);
      })
    );
    assert.equal(child.get(), "child cancelled");
  });

  test(`${name}: Condition.notify() and notifyAll() without holding the lock throw`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const condition = backend.createConditionVar();
      assert.throws(() => condition.notify(), errorLike(Error, /notify\(\).*does not hold the lock/));
      assert.throws(() => condition.notifyAll(), errorLike(Error, /notifyAll\(\).*does not hold the lock/));
      // Held by another task: still refused.
      await backend.createTaskGroup(async (tg) => {
        await condition.acquire();
        await tg.start(async (status) => {
          status.started(undefined);
          assert.throws(() => condition.notify(1), errorLike(Error, /does not hold the lock/));
        });
        condition.release();
      });
      await condition.acquire();
      condition.notify();
      condition.notifyAll();
      condition.release();
    });
  });

  test(`${name}: a task that joins or waits for itself throws at once instead of hanging`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const joined = new Slot<Task<unknown>>();
      await assert.rejects(
        backend.createTaskGroup((tg) => {
          const task: Task<unknown> = tg.startSoon(async () => {
            await backend.sleep(0);
            return task.join();
          });
          joined.set(task);
        }),
        errorLike(Error, /cannot wait for or join itself/),
      );
      assert.equal(joined.get().done(), true);
      await backend.createTaskGroup((tg) => {
        const task: Task<void> = tg.startSoon(async () => {
          await assert.rejects(task.wait(), errorLike(Error, /cannot wait for or join itself/));
          // From a scope nested in the task too.
          await backend.moveOnAfter(Infinity, () => assert.rejects(task.join(), /cannot wait for or join itself/));
        });
      });
      const system: SystemTask<unknown> = backend.spawnTask(async (): Promise<unknown> => {
        await backend.sleep(0);
        return system.joinOrCancel();
      });
      await assert.rejects(system.join(), errorLike(Error, /cannot wait for or join itself/));
    });
  });

  test(`${name}: the scope handles users get expose the handle's members only, not the engine's scope`, async () => {
    const backend = create();
    const engineOnly = [
      "parent",
      "loop",
      "task",
      "enter",
      "exit",
      "catches",
      "addWaiter",
      "removeWaiter",
      "isCancelled",
    ];
    await backend.bootstrap(async () => {
      await backend.moveOnAfter(Infinity, (handle) => {
        for (const member of engineOnly) assert.equal(member in handle, false, `a timeout handle has '${member}'`);
        handle.deadline = 60_000 + backend.currentTime();
        assert.equal(handle.when(), handle.deadline);
        handle.cancel();
        assert.equal(handle.cancelCalled, true);
        assert.equal(handle.signal.aborted, true);
      });
      await backend.createTaskGroup((tg) => {
        for (const member of engineOnly) assert.equal(member in tg.cancelScope, false, `cancelScope has '${member}'`);
        assert.equal(tg.cancelScope, tg.cancelScope);
      });
    });
  });
}
