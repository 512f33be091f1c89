/**
 * Reliability: chaos on TCP and TLS. Hundreds of concurrent echo sessions, each
 * side under a random short deadline (seeded; see `reliability_util.ts`), so
 * cancellation lands at every kind of checkpoint: connect, handshake, accept,
 * recv, sendall and close (the graceful `sendEof()`; `aclose()` itself does not
 * wait, so it is no checkpoint). Afterwards every byte any client received is
 * the byte it sent at that offset, every completed exchange is whole, the
 * listener still serves a normal client, the time is bounded, and the test
 * sanitizers find nothing left open.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type {
  AcceptedSocket,
  AsyncHalfCloseableStreamSocketAdapter,
  AsyncListenerSocketAdapter,
  AsyncStreamSocketAdapter,
} from "../../backend/abc/socket.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { CLIENT_TLS, netOptions, pattern, portOf, SERVER_TLS } from "./net_util.ts";
import {
  describeError,
  elapsed,
  eofLossTolerated,
  normalClient,
  onlyCancelled,
  peerGone,
  type Random,
  scaled,
  seeded,
  Tally,
  Unexpected,
} from "./reliability_util.ts";

/** How long a client whose bytes all came back waits for the end of stream. */
const EOF_GRACE_MS = 3000;

const KINDS = ["connect", "handshake", "accept", "recv", "sendall", "close"] as const;
type Kind = typeof KINDS[number];

/** What the clients saw. */
interface ClientStats {
  completed: number;
  cancelled: number;
  cutShort: number;
  peerGone: number;
  bytesVerified: number;
  /** Sessions whose end of stream never came (the server never saw the client's). */
  eofLost: number;
  /** The sessions still running: index to a description (to say what a hung run waits for). */
  live: Map<number, () => string>;
}

/**
 * A client's deadline (ms): 10% already expired, 25% none, the rest log-uniform
 * between 0.05 and 80 ms (TLS: up to 200 ms, its handshakes take longer).
 */
function clientDeadline(random: Random, tls: boolean): number {
  const roll = random.next();
  if (roll < 0.1) return 0;
  if (roll < 0.35) return Infinity;
  return random.logUniform(0.05, tls ? 200 : 80);
}

/** A served connection's deadline: 55% none, 5% expired, the rest log-uniform between 0.05 and 60 ms. */
function serverDeadline(random: Random): number {
  const roll = random.next();
  if (roll < 0.55) return Infinity;
  if (roll < 0.6) return 0;
  return random.logUniform(0.05, 60);
}

/** How a client session runs. */
interface Plan {
  size: number;
  deadline: number;
  /** Send everything before reading: both sides' sends block until the deadline (sessions with one only). */
  stall: boolean;
  /** Cancel the session's scope just as it reaches this checkpoint (a deadline expiring at that moment). */
  cancelAt: Kind | null;
}

/** The checkpoints a client session may be cancelled at on purpose. */
const TARGETS: readonly Kind[] = ["connect", "recv", "sendall", "close"];

/**
 * Session `index`'s plan: the first 16 sessions, and 10% of the others, are cancelled right at one
 * checkpoint (the first ones at each in turn, so every kind is reached whatever the timing), with no
 * deadline besides; of the rest, 8% with a deadline stall on 1 MiB. Payloads mostly small, a fifth up
 * to 192 KiB (below the Node adapter's 256 KiB receive bound).
 */
function plan(random: Random, tls: boolean, index: number): Plan {
  const cancelAt = index < 16
    ? TARGETS[index % TARGETS.length]
    : random.chance(0.1)
    ? TARGETS[random.int(0, TARGETS.length - 1)]
    : null;
  const deadline = cancelAt === null ? clientDeadline(random, tls) : Infinity;
  const stall = deadline !== Infinity && random.chance(0.08);
  const size = stall ? 1 << 20 : random.chance(0.2) ? random.int(65536, 196608) : random.int(1, 65536);
  return { size, deadline, stall, cancelAt };
}

/** A step of a session: counts a cancellation landing at `kind`; cancels first when `kind` is the target. */
type Step = <T>(kind: Kind, call: () => Promise<T>) => Promise<T>;

function stepper(tally: Tally<Kind>, cancelAt: Kind | null, cancel: () => void): Step {
  return (kind, call) => {
    if (kind === cancelAt) cancel();
    return tally.at(kind, call());
  };
}

async function sendEof(step: Step, stream: AsyncStreamSocketAdapter): Promise<void> {
  const closing = stream as Partial<AsyncHalfCloseableStreamSocketAdapter>;
  if (typeof closing.sendEof === "function") await step("close", () => closing.sendEof!());
}

/** Serves one accepted connection: finish its setup, echo until end of stream, close gracefully. */
async function serveOne(step: Step, accepted: AcceptedSocket, unexpected: Unexpected): Promise<void> {
  let stream: AsyncStreamSocketAdapter;
  try {
    stream = await step("handshake", () => accepted.connect());
  } catch (error) {
    if (!peerGone(error)) unexpected.add("server handshake", error);
    if (onlyCancelled(error)) throw error;
    return;
  }
  try {
    for (;;) {
      const chunk = await step("recv", () => stream.recv(65536));
      if (chunk.length === 0) break;
      await step("sendall", () => stream.sendall(chunk));
    }
    await sendEof(step, stream);
  } catch (error) {
    if (!peerGone(error)) unexpected.add("server", error);
    if (onlyCancelled(error)) throw error;
  } finally {
    await stream.aclose();
  }
}

/** Accepts forever, each accept under a random deadline; each connection is served under its own. */
async function acceptLoop(
  backend: AsyncBackend,
  random: Random,
  tally: Tally<Kind>,
  listener: AsyncListenerSocketAdapter,
  unexpected: Unexpected,
): Promise<never> {
  return await backend.createTaskGroup(async (handlers) => {
    for (;;) {
      const acceptDeadline = random.chance(0.7) ? Infinity : random.chance(0.2) ? 0 : random.logUniform(0.05, 20);
      await backend.moveOnAfter(acceptDeadline, async () => {
        const accepted = await tally.at("accept", listener.accept());
        const deadline = serverDeadline(random);
        const cancelAt = random.chance(0.05) ? (["handshake", "sendall", "close"] as const)[random.int(0, 2)] : null;
        handlers.startSoon(() =>
          backend.moveOnAfter(deadline, (handle) => {
            const step = stepper(tally, cancelAt, () => handle.cancel());
            return serveOne(step, accepted, unexpected);
          })
        );
      });
    }
  }) as never;
}

/** One client session: connect, send the plan's pattern bytes while receiving the echo, close. */
async function clientSession(
  backend: AsyncBackend,
  tally: Tally<Kind>,
  port: number,
  tls: boolean,
  index: number,
  { size, deadline, stall, cancelAt }: Plan,
  stats: ClientStats,
  unexpected: Unexpected,
): Promise<void> {
  const data = pattern(size, index);
  let got = 0;
  let sent = false;
  stats.live.set(index, () => `#${index} size ${size} got ${got} sent ${sent} deadline ${deadline} stall ${stall}`);
  try {
    const outcome = await backend.moveOnAfter(deadline, async (handle) => {
      const step = stepper(tally, cancelAt, () => handle.cancel());
      const stream = await step(
        "connect",
        () =>
          tls
            ? backend.createSslOverTcpConnection("127.0.0.1", port, CLIENT_TLS)
            : backend.createTcpConnection("127.0.0.1", port),
      );
      try {
        if (stall) await step("sendall", () => stream.sendall(data));
        await backend.createTaskGroup(async (tg) => {
          tg.startSoon(async () => {
            if (!stall) await step("sendall", () => stream.sendall(data));
            await sendEof(step, stream);
            sent = true;
          });
          for (;;) {
            // Once every byte is back, the end of stream must follow within a grace period.
            const chunk = got < size
              ? await step("recv", () => stream.recv(65536))
              : await backend.moveOnAfter(EOF_GRACE_MS, () => stream.recv(65536));
            if (chunk === undefined) {
              stats.eofLost++;
              break;
            }
            if (chunk.length === 0) break;
            assert.ok(got + chunk.length <= size, `session ${index}: more bytes came back than were sent`);
            for (let i = 0; i < chunk.length; i++) {
              if (chunk[i] !== data[got + i]) assert.fail(`session ${index}: byte ${got + i} differs`);
            }
            got += chunk.length;
          }
        });
      } finally {
        await stream.aclose();
      }
      return "done" as const;
    });
    if (outcome === undefined) stats.cancelled++;
    else if (got === size) stats.completed++;
    else stats.cutShort++; // the server's round was cancelled: it closed early
  } catch (error) {
    if (!peerGone(error) || onlyCancelled(error)) unexpected.add(`client ${index}`, error);
    else stats.peerGone++;
  }
  stats.bytesVerified += got;
  stats.live.delete(index);
}

async function chaos(
  backend: AsyncBackend,
  backendName: string,
  tls: boolean,
  sessions: number,
): Promise<void> {
  const label = `${backendName}: ${tls ? "tls" : "tcp"} chaos`;
  const random = seeded(label);
  const listener = tls
    ? (await backend.createSslOverTcpListeners("127.0.0.1", 0, 1024, SERVER_TLS))[0]
    : (await backend.createTcpListeners("127.0.0.1", 0, 1024))[0];
  const tally = new Tally(KINDS); // the clients'
  const serverTally = new Tally(KINDS);
  const unexpected = new Unexpected();
  const stats: ClientStats = {
    completed: 0,
    cancelled: 0,
    cutShort: 0,
    peerGone: 0,
    bytesVerified: 0,
    eofLost: 0,
    live: new Map(),
  };
  const start = backend.currentTime();
  let waiting = "";
  try {
    await backend.timeout(scaled(30_000), async () => {
      await backend.createTaskGroup(async (tg) => {
        let stopServers = (): void => {};
        let running = true;
        tg.startSoon(async () => {
          while (running) {
            const sessions = [...stats.live.values()].slice(0, 5).map((describe) => describe()).join(", ");
            waiting = `client ${tally.waiting()}; server ${serverTally.waiting()}; sessions ${sessions}`;
            await backend.sleep(200);
          }
        });
        tg.startSoon(() =>
          backend.moveOnAfter(Infinity, (handle) => {
            stopServers = () => handle.cancel();
            return acceptLoop(backend, random, serverTally, listener, unexpected);
          })
        );
        await backend.createTaskGroup(async (clients) => {
          for (let i = 0; i < sessions; i++) {
            const sessionPlan = plan(random, tls, i);
            clients.startSoon(() =>
              clientSession(backend, tally, portOf(listener), tls, i, sessionPlan, stats, unexpected)
            );
            if (i % 16 === 15) await backend.coroYield();
          }
        });
        serverTally.counting = false;
        running = false;
        stopServers();
      });
    });
    unexpected.assertNone(label);
    waiting = "none: the chaos had ended, a normal client was being served";
    const chaosMs = elapsed(backend, start);
    await normalClient(backend, listener, tls);
    const all = new Tally(KINDS).add(tally).add(serverTally);
    console.log(
      `${label}: ${sessions} sessions in ${chaosMs} ms: ${stats.completed} completed byte-exact, ` +
        `${stats.cancelled} cancelled, ${stats.cutShort} cut short and ${stats.peerGone} reset by a cancelled ` +
        `server; ${stats.bytesVerified} bytes verified; cancellations: ${all} (total ${all.total()}; ` +
        `client ${tally.toString(true)}; server ${serverTally.toString(true)}); a normal client was served ` +
        `afterwards` +
        (stats.eofLost > 0 ? `; ${stats.eofLost} sessions never saw the end of stream (Deno's node:tls)` : ""),
    );
    if (!eofLossTolerated(backendName, tls)) assert.equal(stats.eofLost, 0, `${label}: end of stream lost`);
    all.assertEachHit(KINDS, label);
    assert.ok(stats.completed > 0, `${label}: no session completed`);
    assert.equal(
      stats.completed + stats.cancelled + stats.cutShort + stats.peerGone,
      sessions,
      `${label}: every session accounted for`,
    );
  } catch (error) {
    if (error instanceof assert.AssertionError) throw error;
    throw new Error(`${label}: ${describeError(error)} (calls waiting then: ${waiting})`, { cause: error });
  } finally {
    await listener.aclose();
  }
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  const options = netOptions(name);

  test(`${name}: reliability: chaos on TCP echo sessions under random deadlines`, async () => {
    const backend = create();
    await backend.bootstrap(() => chaos(backend, name, false, scaled(300)));
  }, options);

  test(`${name}: reliability: chaos on TLS echo sessions under random deadlines`, async () => {
    const backend = create();
    await backend.bootstrap(() => chaos(backend, name, true, scaled(100)));
  }, options);

  // Found by the TLS chaos (NodeBackend): Node emits its own 'error' after a failed handshake's 'end', which
  // went uncaught (the process ended) once the handshake had given the socket up.
  test(
    `${name}: reliability: a TLS client whose server hangs up mid-handshake gets an error, nothing uncaught`,
    async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 16);
        try {
          await backend.createTaskGroup(async (tg) => {
            tg.startSoon(async () => {
              const server = await (await listener.accept()).connect();
              await server.recv(16); // the client's hello has begun
              await server.aclose();
            });
            await assert.rejects(backend.createSslOverTcpConnection("127.0.0.1", portOf(listener), CLIENT_TLS));
          });
          await backend.sleep(20); // the runtime's late 'error', if any, is emitted by now
        } finally {
          await listener.aclose();
        }
      });
    },
    options,
  );
}
