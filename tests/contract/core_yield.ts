/**
 * Contract tests: a checkpoint that yields is a full turn of the event loop
 * (SPEC 2.1 rule 4), measured in yields of a CPU-bound loop, and the
 * cancellation rules of `coroYield()` and `cancelShieldedCoroYield()`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createConnection, type Socket } from "node:net";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import { CancelledError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { netOptions, utf8 } from "./net_util.ts";

/** The CPU a task of rule 4 burns between two yields, in ms. */
const BURN_MS = 2;
/** Rule 4: a timer due in 1 ms runs within 3 yields of a CPU-bound loop. */
const TIMER_YIELDS = 3;
/** Rule 4: an accept, a write and the peer's read complete within 9 yields. */
const IO_YIELDS = 9;
/** Each measure is taken this many times; every round must meet the bound. */
const ROUNDS = 3;

/** Keeps the CPU busy for `ms` milliseconds (a task that does not yield). */
function burn(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Busy.
  }
}

/**
 * A CPU-bound loop: until `done()`, burns {@linkcode BURN_MS} then yields with
 * `yieldOnce`. Returns the yields it took; fails after `max` yields.
 */
async function yieldsUntil(
  yieldOnce: () => Promise<void>,
  done: () => boolean,
  max: number,
  what: string,
): Promise<number> {
  for (let yields = 0;; yields++) {
    if (done()) return yields;
    if (yields >= max) assert.fail(`${what} had not happened after ${max} yields of a loop burning ${BURN_MS} ms`);
    burn(BURN_MS);
    await yieldOnce();
  }
}

/** The yields under test, by name. */
function yieldKinds(backend: AsyncBackend): [string, () => Promise<void>][] {
  return [
    ["coroYield()", () => backend.coroYield()],
    ["sleep(0)", () => backend.sleep(0)],
    ["sleepUntil(a past deadline)", () => backend.sleepUntil(backend.currentTime() - 1)],
    ["cancelShieldedCoroYield()", () => backend.cancelShieldedCoroYield()],
  ];
}

// ---- A raw peer: the runtime's own sockets, not the library's ----

/** The part of Deno's API the raw peer uses (this file also compiles for Node). */
interface DenoConn {
  read(buffer: Uint8Array): Promise<number | null>;
  close(): void;
}
interface DenoNet {
  connect(options: { hostname: string; port: number }): Promise<DenoConn>;
}
const denoNet: DenoNet | undefined = (globalThis as { Deno?: DenoNet }).Deno;

/** A client connected with the runtime's own API that reads once. */
interface RawPeer {
  /** The bytes of the first read, once it completed. */
  readonly received: Uint8Array | null;
  /** Closes the client (and waits for its read to settle). */
  close(): Promise<void>;
}

/**
 * Connects to `port` with Deno's own `connect` on Deno, `node:net` on Node, and reads
 * once. The connection and the read are driven by the runtime alone: they
 * complete when the event loop polls I/O.
 */
function rawPeer(port: number): RawPeer {
  let received: Uint8Array | null = null;
  if (denoNet !== undefined) {
    let conn: DenoConn | undefined;
    let closed = false;
    const reading = denoNet.connect({ hostname: "127.0.0.1", port }).then(async (c) => {
      conn = c;
      if (closed) return c.close();
      const buffer = new Uint8Array(64);
      const n = await c.read(buffer);
      if (n !== null) received = buffer.subarray(0, n);
    }).catch(() => {});
    return {
      get received() {
        return received;
      },
      async close() {
        closed = true;
        try {
          conn?.close();
        } catch {
          // Closed already.
        }
        await reading;
      },
    };
  }
  const socket: Socket = createConnection({ host: "127.0.0.1", port });
  socket.on("error", () => {});
  socket.once("data", (data: Uint8Array) => received = new Uint8Array(data));
  return {
    get received() {
      return received;
    },
    close() {
      return new Promise<void>((resolve) => {
        if (socket.destroyed) resolve();
        else socket.once("close", () => resolve()).destroy();
      });
    },
  };
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  test(`${name}: a CPU-bound loop that yields every ${BURN_MS} ms sees a 1 ms timer within ${TIMER_YIELDS} yields`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      for (const [kind, yieldOnce] of yieldKinds(backend)) {
        for (let round = 0; round < ROUNDS; round++) {
          let fired = false;
          const id = setTimeout(() => fired = true, 1);
          try {
            await yieldsUntil(yieldOnce, () => fired, TIMER_YIELDS, `with ${kind}, round ${round}: a 1 ms timer`);
          } finally {
            clearTimeout(id);
          }
        }
      }
    });
  });

  test(`${name}: a CPU-bound loop's yields let a task's timer run within ${TIMER_YIELDS} yields`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      for (const [kind, yieldOnce] of yieldKinds(backend).slice(0, 2)) {
        for (let round = 0; round < ROUNDS; round++) {
          await backend.createTaskGroup(async (tg) => {
            let woke = false;
            tg.startSoon(async () => {
              await backend.sleep(1);
              woke = true;
            });
            await yieldsUntil(yieldOnce, () => woke, TIMER_YIELDS, `with ${kind}, round ${round}: a task's sleep(1)`);
          });
        }
      }
    });
  });

  test(
    `${name}: a CPU-bound loop's yields let an accept, a write and a raw peer's read complete within ${IO_YIELDS} yields`,
    async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 16);
        const port = listener.getLocalAddress().port;
        try {
          for (const [kind, yieldOnce] of yieldKinds(backend).slice(0, 2)) {
            for (let round = 0; round < ROUNDS; round++) {
              await backend.createTaskGroup(async (tg) => {
                const peer = rawPeer(port);
                try {
                  tg.startSoon(async () => {
                    const stream = await (await listener.accept()).connect();
                    try {
                      await stream.sendall(utf8("ping"));
                      // Keeps the connection open until the peer has read.
                      await backend.sleepForever();
                    } finally {
                      await stream.aclose();
                    }
                  });
                  await yieldsUntil(
                    yieldOnce,
                    () => peer.received !== null,
                    IO_YIELDS,
                    `with ${kind}, round ${round}: the peer's connect, our accept and write, the peer's read`,
                  );
                  assert.deepEqual(peer.received, utf8("ping"));
                } finally {
                  tg.cancelScope.cancel();
                  await peer.close();
                }
              });
            }
          }
        } finally {
          await listener.aclose();
        }
      });
    },
    netOptions(name),
  );

  test(`${name}: in a cancelled scope coroYield(), sleep(0) and sleepUntil(past) reject at once`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      await backend.moveOnAfter(Infinity, async (h) => {
        h.cancel();
        for (const [kind, yieldOnce] of yieldKinds(backend).slice(0, 3)) {
          let outcome: unknown = "pending";
          yieldOnce().then(() => outcome = "resolved", (error) => outcome = error);
          // Microtasks only: a rejection that waited for the loop would still be pending.
          for (let i = 0; i < 3; i++) await Promise.resolve();
          assert.ok(outcome instanceof CancelledError, `${kind} in a cancelled scope: ${String(outcome)}`);
        }
      });
    });
  });

  test(`${name}: a scope cancelled during coroYield() rejects it; cancelShieldedCoroYield() never rejects`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const steps: string[] = [];
      await backend.moveOnAfter(Infinity, async (h) => {
        const pending = backend.coroYield();
        const shielded = backend.cancelShieldedCoroYield();
        h.cancel();
        await assert.rejects(pending, CancelledError);
        await shielded;
        steps.push("cancelled during the yields");
        for (let i = 0; i < 3; i++) await backend.cancelShieldedCoroYield();
        steps.push("shielded yields in the cancelled scope");
        await assert.rejects(backend.coroYield(), CancelledError);
        steps.push("coroYield still rejects");
      });
      assert.deepEqual(steps, [
        "cancelled during the yields",
        "shielded yields in the cancelled scope",
        "coroYield still rejects",
      ]);
    });
  });

  test(`${name}: yields keep their order: tasks that yield in turn resume in turn`, async () => {
    const backend = create();
    await backend.bootstrap(async () => {
      const order: string[] = [];
      await backend.createTaskGroup((tg) => {
        for (const task of ["a", "b", "c"]) {
          tg.startSoon(async () => {
            for (let i = 0; i < 4; i++) {
              order.push(task);
              // A burn now and then makes some of the yields full turns of the loop.
              if (i === 1) burn(BURN_MS);
              await backend.coroYield();
            }
          });
        }
      });
      assert.equal(order.join(""), "abcabcabcabc");
    });
  });
}
