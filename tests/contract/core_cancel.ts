/**
 * Contract tests: cancel scopes, deadlines, shielding, timeouts and the scope
 * `AbortSignal`.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { TimeoutHandle } from "../../backend/abc/cancel_scope.ts";
import { CancelledError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { domException, Slot } from "./core_util.ts";

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: cancellation is level-triggered: a checkpoint after a caught CancelledError rejects again`, async () => {
    const backend = create();
    const steps: string[] = [];
    const handle = new Slot<TimeoutHandle>();
    const result = await backend.bootstrap(() =>
      backend.moveOnAfter(Infinity, async (h) => {
        handle.set(h);
        // A checkpoint already waiting when the scope is cancelled stops waiting.
        const pending = backend.sleepForever();
        h.cancel();
        try {
          await pending;
        } catch (error) {
          assert.ok(error instanceof CancelledError);
          steps.push("caught");
        }
        // Catching it did not escape the scope: every checkpoint rejects again.
        await assert.rejects(backend.sleep(0), CancelledError);
        await assert.rejects(backend.sleep(10), CancelledError);
        await assert.rejects(backend.coroYield(), CancelledError);
        await assert.rejects(backend.createEvent().wait(), CancelledError);
        await assert.rejects(backend.createLock().acquire(), CancelledError);
        await assert.rejects(backend.sleepForever(), CancelledError);
        steps.push("still cancelled");
        await backend.sleep(1);
        steps.push("escaped the cancelled scope");
        return "body returned";
      })
    );
    assert.equal(result, undefined);
    assert.deepEqual(steps, ["caught", "still cancelled"]);
    assert.equal(handle.get().cancelCalled, true);
    assert.equal(handle.get().cancelledCaught, true);
  });

  test(`${name}: inner deadline fires: the inner scope catches and the outer one continues`, async () => {
    const backend = create();
    const inner = new Slot<TimeoutHandle>();
    const outer = new Slot<TimeoutHandle>();
    const result = await backend.bootstrap(() =>
      backend.moveOnAfter(60_000, async (o) => {
        outer.set(o);
        const value = await backend.moveOnAfter(1, async (i) => {
          inner.set(i);
          await backend.sleepForever();
        });
        assert.equal(value, undefined);
        // The outer scope is not cancelled: its checkpoints pass.
        await backend.sleep(0);
        await backend.coroYield();
        return "outer finished";
      })
    );
    assert.equal(result, "outer finished");
    assert.equal(inner.get().cancelledCaught, true);
    assert.equal(inner.get().expired(), true);
    assert.equal(outer.get().cancelCalled, false);
    assert.equal(outer.get().cancelledCaught, false);
    assert.equal(outer.get().expired(), false);
  });

  test(`${name}: outer deadline fires inside an inner scope: the inner scope does not swallow it`, async () => {
    const backend = create();
    for (const kind of ["moveOnAfter", "timeout"] as const) {
      const inner = new Slot<TimeoutHandle>();
      const outer = new Slot<TimeoutHandle>();
      const steps: string[] = [];
      const result = await backend.bootstrap(() =>
        backend.moveOnAfter(60_000, async (o) => {
          outer.set(o);
          const body = async (i: TimeoutHandle) => {
            inner.set(i);
            // The outer deadline is moved so that it fires while we wait in here.
            o.reschedule(backend.currentTime() + 2);
            steps.push("inner waiting");
            await backend.sleepForever();
          };
          await (kind === "moveOnAfter" ? backend.moveOnAfter(60_000, body) : backend.timeout(60_000, body));
          steps.push("after inner");
          return "outer finished";
        })
      );
      assert.equal(result, undefined, kind);
      assert.deepEqual(steps, ["inner waiting"], kind);
      assert.equal(inner.get().cancelCalled, false, kind);
      assert.equal(inner.get().cancelledCaught, false, kind);
      assert.equal(inner.get().expired(), false, kind);
      assert.equal(outer.get().cancelledCaught, true, kind);
      assert.equal(outer.get().expired(), true, kind);
    }
  });

  test(`${name}: a shielded scope inside a cancelled one keeps running; unshielding re-delivers`, async () => {
    const backend = create();
    const steps: string[] = [];
    const inner = new Slot<TimeoutHandle>();
    const outer = new Slot<TimeoutHandle>();
    const result = await backend.bootstrap(() =>
      backend.moveOnAfter(Infinity, async (o) => {
        outer.set(o);
        await backend.moveOnAfter(Infinity, async (i) => {
          inner.set(i);
          i.shield = true;
          assert.equal(i.shield, true);
          o.cancel();
          await backend.sleep(1);
          await backend.coroYield();
          await backend.sleep(0);
          // ignoreCancellation inside the cancelled outer scope runs too.
          assert.equal(await backend.ignoreCancellation(async () => (await backend.sleep(1), "ignored")), "ignored");
          steps.push("shielded code ran");
          const pending = backend.sleepForever();
          i.shield = false;
          await assert.rejects(pending, CancelledError);
          steps.push("re-delivered to a waiting checkpoint");
          await backend.sleep(0);
          steps.push("not reached");
        });
        steps.push("not reached either");
      })
    );
    assert.equal(result, undefined);
    assert.deepEqual(steps, ["shielded code ran", "re-delivered to a waiting checkpoint"]);
    assert.equal(inner.get().cancelledCaught, false);
    assert.equal(outer.get().cancelledCaught, true);
  });

  test(`${name}: ignoreCancellation completes; the outer cancellation arrives at the next checkpoint after it`, async () => {
    const backend = create();
    // Cancelled from inside the shielded body.
    const steps: string[] = [];
    const result = await backend.bootstrap(() =>
      backend.moveOnAfter(Infinity, async (outer) => {
        const value = await backend.ignoreCancellation(async () => {
          await backend.sleep(0);
          outer.cancel();
          await backend.sleep(1);
          await backend.coroYield();
          steps.push("shielded body finished");
          return 42;
        });
        assert.equal(value, 42);
        steps.push("after ignoreCancellation");
        await backend.sleep(0);
        steps.push("not reached");
      })
    );
    assert.equal(result, undefined);
    assert.deepEqual(steps, ["shielded body finished", "after ignoreCancellation"]);

    // Cancelled by another task while the shielded body waits.
    const childSteps: string[] = [];
    await backend.bootstrap(() =>
      backend.createTaskGroup(async (tg) => {
        const started = backend.createEvent();
        const release = backend.createEvent();
        const child = tg.startSoon(async () => {
          const value = await backend.ignoreCancellation(async () => {
            started.set();
            await release.wait();
            childSteps.push("shielded body finished");
            return "value";
          });
          childSteps.push(`got ${value}`);
          await backend.coroYield();
          childSteps.push("not reached");
        });
        await started.wait();
        tg.cancelScope.cancel();
        assert.equal(child.done(), false);
        release.set();
      })
    );
    assert.deepEqual(childSteps, ["shielded body finished", "got value"]);
  });

  test(`${name}: a deadline extended from inside the body, rescheduled, and removed with Infinity`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      // Extended with `deadline +=`: the old deadline passes without cancelling.
      const extended = new Slot<TimeoutHandle>();
      const a = await backend.moveOnAfter(10, async (h) => {
        extended.set(h);
        const first = h.deadline;
        assert.equal(h.when(), first);
        h.deadline += 60_000;
        assert.equal(h.when(), first + 60_000);
        await backend.sleep(100);
        return "outlived the first deadline";
      });
      assert.equal(a, "outlived the first deadline");
      assert.equal(extended.get().cancelCalled, false);

      // reschedule() to a later deadline, then to a near one that fires.
      const moved = new Slot<TimeoutHandle>();
      const steps: string[] = [];
      const b = await backend.moveOnAfter(10, async (h) => {
        moved.set(h);
        h.reschedule(backend.currentTime() + 60_000);
        await backend.sleep(100);
        steps.push("survived");
        h.reschedule(backend.currentTime() + 5);
        await backend.sleepForever();
      });
      assert.equal(b, undefined);
      assert.deepEqual(steps, ["survived"]);
      assert.equal(moved.get().expired(), true);

      // Removed with Infinity.
      const removed = new Slot<TimeoutHandle>();
      const c = await backend.moveOnAfter(10, async (h) => {
        removed.set(h);
        h.deadline = Infinity;
        assert.equal(h.when(), Infinity);
        await backend.sleep(100);
        return "no deadline";
      });
      assert.equal(c, "no deadline");
      assert.equal(removed.get().cancelCalled, false);

      // A deadline in the past cancels at once.
      const past = await backend.moveOnAfter(60_000, async (h) => {
        h.deadline = backend.currentTime() - 1;
        assert.equal(h.cancelCalled, true);
        await backend.sleep(0);
        return "not cancelled";
      });
      assert.equal(past, undefined);
    });
  });

  test(`${name}: timeout rejects a TimeoutError DOMException; handle.cancel() gives AbortError; expired() only on deadline`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const timedOut = new Slot<TimeoutHandle>();
      await assert.rejects(
        backend.timeout(5, async (h) => {
          timedOut.set(h);
          await backend.sleepForever();
        }),
        domException("TimeoutError"),
      );
      assert.equal(timedOut.get().expired(), true);
      assert.equal(timedOut.get().cancelCalled, true);
      assert.equal(timedOut.get().cancelledCaught, true);

      await assert.rejects(
        backend.timeoutAt(backend.currentTime() - 1, () => backend.sleep(0)),
        domException("TimeoutError"),
      );

      const aborted = new Slot<TimeoutHandle>();
      await assert.rejects(
        backend.timeout(60_000, async (h) => {
          aborted.set(h);
          h.cancel();
          await backend.sleep(0);
        }),
        domException("AbortError"),
      );
      assert.equal(aborted.get().expired(), false);
      assert.equal(aborted.get().cancelCalled, true);
      assert.equal(aborted.get().cancelledCaught, true);

      const fine = new Slot<TimeoutHandle>();
      assert.equal(
        await backend.timeout(60_000, async (h) => {
          fine.set(h);
          await backend.sleep(1);
          return "in time";
        }),
        "in time",
      );
      assert.equal(fine.get().expired(), false);
      assert.equal(fine.get().cancelCalled, false);

      // A non-cancellation error passes through untouched.
      const boom = new Error("boom");
      await assert.rejects(backend.timeout(60_000, () => Promise.reject(boom)), (e) => e === boom);

      // moveOnAfter cancelled by hand: not expired.
      const manual = new Slot<TimeoutHandle>();
      assert.equal(
        await backend.moveOnAfter(60_000, async (h) => {
          manual.set(h);
          h.cancel();
          await backend.sleep(0);
        }),
        undefined,
      );
      assert.equal(manual.get().expired(), false);
    });
  });

  test(`${name}: moveOnAfter resolves undefined on its deadline and returns the value otherwise`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const steps: string[] = [];
      const cancelled = await backend.moveOnAfter(1, async () => {
        await backend.sleepForever();
        steps.push("not reached");
        return "never";
      });
      assert.equal(cancelled, undefined);
      assert.equal(await backend.moveOnAt(backend.currentTime() + 1, () => backend.sleepForever()), undefined);
      assert.equal(await backend.moveOnAfter(60_000, async () => (await backend.sleep(1), "value")), "value");
      assert.equal(await backend.moveOnAt(backend.currentTime() + 60_000, () => "sync value"), "sync value");
      // A body that returns before its first checkpoint keeps its value even at deadline 0.
      assert.equal(await backend.moveOnAfter(0, () => "no checkpoint"), "no checkpoint");
      assert.equal(await backend.moveOnAfter(0, () => backend.sleep(0)), undefined);
      assert.deepEqual(steps, []);
    });
  });

  test(`${name}: many concurrent deadlines, moved and removed, fire in deadline order and none early`, async () => {
    const backend = create();
    for (const initialSeed of [0x2545f491, 0x9e3779b9, 0x01234567]) {
      // A fixed-seed generator: the same schedules on every run.
      let seed = initialSeed;
      const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
      const count = 100;
      // Distinct delays, shuffled: every deadline differs from the others by 1 ms or more.
      const delays = Array.from({ length: count }, (_, i) => 5 + i);
      for (let i = count - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [delays[i], delays[j]] = [delays[j], delays[i]];
      }
      const ended: { id: number; deadline: number; endedAt: number; expired: boolean; queued: boolean }[] = [];
      const handles: TimeoutHandle[] = [];
      let pendingFinite = Infinity;
      const settled = new Set<TimeoutHandle>();
      await backend.bootstrap(() =>
        backend.createTaskGroup((tg) => {
          for (let id = 0; id < count; id++) {
            const action = random();
            tg.startSoon(async () => {
              const handle = new Slot<TimeoutHandle>();
              // Every scope is entered and moved in the same macrotask, before any
              // deadline can fire: the firing order depends on the queue alone.
              await backend.moveOnAfter(delays[id], async (h) => {
                handle.set(h);
                handles.push(h);
                if (action < 0.2) h.deadline += count; // later
                else if (action < 0.4) h.deadline -= 3.5; // earlier (no tie with a whole-ms deadline)
                else if (action < 0.5) h.reschedule(backend.currentTime() + 60_000); // far...
                else if (action < 0.6) h.deadline = Infinity; // removed...
                if (action >= 0.4 && action < 0.6) {
                  h.deadline = backend.currentTime() + delays[(id + 1) % count] + 0.25; // ...back
                }
                if (id === count - 1) {
                  // The queue is full now: take entries out of its middle, put some back.
                  for (let k = 0; k < handles.length; k++) {
                    const r = random();
                    if (r < 0.15) handles[k].cancel();
                    else if (r < 0.3) {
                      handles[k].deadline = Infinity;
                      if (r < 0.22) handles[k].deadline = backend.currentTime() + delays[k] + 0.75;
                    }
                  }
                  pendingFinite = handles.filter((other) => other.when() !== Infinity).length;
                  // A stall of the process (GC, scheduling) between a scope's clock read
                  // and its entry may put a deadline in the past already: such scopes
                  // were cancelled on the spot, not by the queue; leave them out.
                  for (const other of handles) if (other.cancelCalled) settled.add(other);
                }
                await backend.sleepForever();
              });
              const h = handle.get();
              ended.push({
                id,
                deadline: h.deadline,
                endedAt: backend.currentTime(),
                expired: h.expired(),
                queued: !settled.has(h),
              });
              // Once every finite scope ended, end the scopes left without a deadline.
              if (h.when() !== Infinity && --pendingFinite === 0) {
                for (const other of handles) if (other.when() === Infinity) other.cancel();
              }
            });
          }
        })
      );
      assert.equal(ended.length, count);
      const byDeadline = ended.filter((e) => e.expired);
      assert.ok(byDeadline.length >= count / 2, `only ${byDeadline.length} deadlines fired`);
      for (const { deadline, endedAt } of byDeadline) {
        assert.ok(endedAt >= deadline, `a deadline fired ${deadline - endedAt} ms early`);
      }
      const byQueue = byDeadline.filter((e) => e.queued);
      assert.ok(byQueue.length >= count / 3, `only ${byQueue.length} deadlines fired from the queue`);
      const sorted = [...byQueue].sort((a, b) => a.deadline - b.deadline);
      assert.deepEqual(byQueue.map((e) => e.id), sorted.map((e) => e.id), "deadlines fired out of order");
    }
  });

  test(`${name}: an earlier deadline entered after a later one fires first`, async () => {
    const backend = create();
    const order: string[] = [];
    await backend.bootstrap(() =>
      backend.createTaskGroup((tg) => {
        tg.startSoon(async () => {
          await backend.moveOnAfter(300, () => backend.sleepForever());
          order.push("deadline in 300 ms");
        });
        tg.startSoon(async () => {
          await backend.moveOnAfter(5, () => backend.sleepForever());
          order.push("deadline in 5 ms");
        });
        tg.startSoon(async () => {
          await backend.sleep(100);
          order.push("sleep of 100 ms");
        });
      })
    );
    assert.deepEqual(order, ["deadline in 5 ms", "sleep of 100 ms", "deadline in 300 ms"]);
  });

  test(`${name}: sleeps and deadlines never end early`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      let start = backend.currentTime();
      await backend.sleep(20);
      assert.ok(backend.currentTime() - start >= 20, "sleep(20) woke early");
      start = backend.currentTime();
      await backend.sleepUntil(start + 20);
      assert.ok(backend.currentTime() - start >= 20, "sleepUntil woke early");
      start = backend.currentTime();
      assert.equal(await backend.moveOnAfter(20, () => backend.sleepForever()), undefined);
      assert.ok(backend.currentTime() - start >= 20, "the moveOnAfter(20) deadline fired early");
    });
  });

  test(`${name}: the scope AbortSignal aborts on cancel, also from an enclosing scope, with a CancelledError reason`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const signals: Record<string, AbortSignal> = {};
      await backend.moveOnAfter(Infinity, async (outer) => {
        signals.outer = outer.signal;
        await backend.moveOnAfter(Infinity, async (inner) => {
          signals.inner = inner.signal;
          await backend.moveOnAfter(Infinity, async (shielded) => {
            shielded.shield = true;
            signals.shielded = shielded.signal;
            let events = 0;
            signals.inner.addEventListener("abort", () => events++);
            assert.equal(signals.outer.aborted, false);
            assert.equal(signals.inner.aborted, false);
            outer.cancel();
            assert.equal(signals.outer.aborted, true);
            assert.equal(signals.inner.aborted, true);
            assert.equal(events, 1);
            assert.ok(signals.outer.reason instanceof CancelledError);
            assert.ok(signals.inner.reason instanceof CancelledError);
            assert.equal(signals.shielded.aborted, false);
            // A signal first read inside an already cancelled scope is already aborted.
            await backend.moveOnAfter(Infinity, (late) => {
              assert.equal(late.signal.aborted, false); // still shielded
            });
            shielded.shield = false;
            assert.equal(signals.shielded.aborted, true);
          });
        });
      });
      await backend.moveOnAfter(Infinity, async (outer) => {
        outer.cancel();
        await backend.moveOnAfter(Infinity, (inner) => {
          assert.equal(inner.signal.aborted, true);
          assert.ok(inner.signal.reason instanceof CancelledError);
        });
      });
      // A deadline aborts it too, while a foreign API waits on it.
      const deadline = new Slot<AbortSignal>();
      const aborted = await backend.moveOnAfter(2, (h) => {
        deadline.set(h.signal);
        return backend.waitFuture(
          new Promise<string>((resolve) => h.signal.addEventListener("abort", () => resolve("aborted"))),
        );
      });
      assert.equal(aborted, undefined);
      assert.equal(deadline.get().aborted, true);
      assert.ok(deadline.get().reason instanceof CancelledError);
    });
  });

  test(`${name}: the scope AbortSignal has no listener left after exit and is not aborted afterwards`, async () => {
    const backend = create();
    const proto = EventTarget.prototype;
    const originalAdd = proto.addEventListener;
    const originalRemove = proto.removeEventListener;
    let added = 0;
    let removed = 0;
    const kept: AbortSignal[] = [];
    await backend.bootstrap(async () => {
      await backend.moveOnAfter(Infinity, async (outer) => {
        proto.addEventListener = function (this: EventTarget, ...args: Parameters<EventTarget["addEventListener"]>) {
          if (this instanceof AbortSignal) added++;
          return originalAdd.apply(this, args);
        };
        proto.removeEventListener = function (
          this: EventTarget,
          ...args: Parameters<EventTarget["removeEventListener"]>
        ) {
          if (this instanceof AbortSignal) removed++;
          return originalRemove.apply(this, args);
        };
        try {
          void outer.signal;
          for (let n = 0; n < 3; n++) {
            await backend.moveOnAfter(60_000, async (inner) => {
              kept.push(inner.signal);
              await backend.moveOnAfter(60_000, async (innermost) => {
                kept.push(innermost.signal);
                await backend.sleep(0);
              });
            });
          }
          await backend.createTaskGroup(async (tg) => {
            kept.push(tg.cancelScope.signal);
            tg.startSoon(() => backend.sleep(1));
          });
          // One exited by its own cancellation.
          await backend.moveOnAfter(60_000, async (inner) => {
            kept.push(inner.signal);
            inner.cancel();
            await backend.sleep(0);
          });
        } finally {
          proto.addEventListener = originalAdd;
          proto.removeEventListener = originalRemove;
        }
        assert.equal(added - removed, 0, `${added} listeners added on AbortSignals, ${removed} removed`);
        assert.equal(kept.length, 8);
        const exitedUncancelled = kept.slice(0, 7);
        outer.cancel();
        assert.equal(outer.signal.aborted, true);
        for (const signal of exitedUncancelled) assert.equal(signal.aborted, false);
        assert.equal(kept[7].aborted, true);
      });
    });
  });

  test(`${name}: waits longer than a 32-bit timer holds never arm an overflowing timer`, async () => {
    const backend = create();
    const original = globalThis.setTimeout;
    const delays: number[] = [];
    // Observes the timers armed through the global (where the backend uses it).
    globalThis.setTimeout = ((callback: () => void, ms?: number) => {
      delays.push(ms ?? 0);
      return original(callback, ms);
    }) as typeof setTimeout;
    try {
      const huge = 2 ** 31 + 10;
      await backend.bootstrap(async () => {
        assert.equal(await backend.moveOnAfter(20, () => backend.sleep(huge)), undefined);
        assert.equal(await backend.moveOnAfter(20, () => backend.sleepUntil(backend.currentTime() + huge)), undefined);
        assert.equal(
          await backend.moveOnAfter(20, () => backend.moveOnAfter(huge, () => backend.sleepForever())),
          undefined,
        );
      });
    } finally {
      globalThis.setTimeout = original;
    }
    const overflowing = delays.filter((ms) => ms > 2 ** 31 - 1);
    assert.deepEqual(overflowing, [], "a timer was armed with a delay that overflows to 1 ms");
  });

  // ---- Deep chains (each scope keeps whether it is effectively cancelled) ----

  /** Runs `fn` at `depth` nested `moveOnAfter(Infinity)` scopes; `handles[0]` is the outermost. */
  function nested<T>(
    backend: ReturnType<BackendUnderTest["create"]>,
    depth: number,
    handles: TimeoutHandle[],
    fn: () => Promise<T>,
  ): Promise<T | undefined> {
    if (depth === 0) return fn();
    return backend.moveOnAfter(Infinity, async (handle) => {
      handles.push(handle);
      await null; // Not one deep synchronous stack.
      return nested(backend, depth - 1, handles, fn);
    });
  }

  test(`${name}: deep chains: a cancel at the top reaches a checkpoint 1,000 scopes down, and new checkpoints there reject at once`, async () => {
    const backend = create();
    const handles: TimeoutHandle[] = [];
    const steps: string[] = [];
    await backend.bootstrap(() =>
      nested(backend, 1000, handles, async () => {
        await backend.sleep(0);
        const pending = backend.sleepForever();
        handles[0].cancel("top");
        await assert.rejects(pending, (error) => error instanceof CancelledError && error.reason === "top");
        steps.push("woken");
        await assert.rejects(backend.coroYield(), CancelledError);
        await assert.rejects(backend.sleep(0), CancelledError);
        // A scope entered inside the cancelled chain is cancelled from its first checkpoint.
        await assert.rejects(backend.moveOnAfter(Infinity, () => backend.coroYield()), CancelledError);
        steps.push("level-triggered");
        await backend.coroYield();
        steps.push("not reached");
      })
    );
    assert.deepEqual(steps, ["woken", "level-triggered"]);
    assert.equal(handles[0].cancelledCaught, true);
    assert.ok(handles.slice(1).every((h) => !h.cancelledCaught && !h.cancelCalled));
  });

  test(`${name}: deep chains: raising and lowering a shield in the middle of a cancelled chain, again and again`, async () => {
    const backend = create();
    const handles: TimeoutHandle[] = [];
    const steps: string[] = [];
    await backend.bootstrap(() =>
      nested(backend, 40, handles, async () => {
        const middle = handles[20];
        // An inner scope cancelled on its own stays cancelled whatever the shield above does.
        const own = await backend.moveOnAfter(Infinity, async (inner) => {
          inner.cancel("own");
          middle.shield = true;
          await assert.rejects(backend.coroYield(), CancelledError);
          return "inner rejected";
        });
        assert.equal(own, "inner rejected");
        handles[0].cancel("top");
        for (let round = 0; round < 3; round++) {
          await backend.sleep(0); // shielded: runs
          await backend.coroYield();
          const pending = backend.sleepForever();
          middle.shield = false;
          await assert.rejects(pending, CancelledError);
          await assert.rejects(backend.coroYield(), CancelledError);
          middle.shield = true;
          steps.push(`round ${round}`);
        }
        // Shielding again below the middle changes nothing; unshielding it keeps the middle's shield.
        handles[30].shield = true;
        handles[30].shield = false;
        await backend.sleep(0);
        steps.push("still shielded");
      })
    );
    assert.deepEqual(steps, ["round 0", "round 1", "round 2", "still shielded"]);
    assert.equal(handles[0].cancelledCaught, false, "the shielded body returned normally");
  });

  test(`${name}: deep chains: code left running after its scope exited still sees an enclosing cancellation`, async () => {
    const backend = create();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let stray!: Promise<string>;
    const result = await backend.bootstrap(() =>
      backend.moveOnAfter(Infinity, async (outer) => {
        await backend.moveOnAfter(Infinity, () => {
          // Not awaited: it outlives its scope (unstructured, but it must not miss the outer cancel).
          stray = (async () => {
            await gate;
            try {
              await backend.coroYield();
              return "ran";
            } catch (error) {
              return error instanceof CancelledError ? "cancelled" : "other";
            }
          })();
        });
        outer.cancel();
        release();
        return await stray;
      })
    );
    assert.equal(result, "cancelled");
  });
}
