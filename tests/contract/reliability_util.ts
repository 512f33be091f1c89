/**
 * Helpers shared by the reliability areas (`reliability_*.ts`; not an area: registers no test).
 *
 * - `RELIABILITY_LONG=1` multiplies the counts by 10 (`RELIABILITY_LONG=<n>`, by `n`).
 * - `RELIABILITY_SEED=<n>` replays a run: every test prints its seed, derived
 *   from this one and the test's name (a random one when unset).
 *
 * @module
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import process from "node:process";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { AcceptedSocket, AsyncListenerSocketAdapter } from "../../backend/abc/socket.ts";
import { CancelledError } from "../../backend/errors.ts";
import { CLIENT_TLS, pattern, portOf, recvExactly } from "./net_util.ts";

function envInteger(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === "") return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, got ${JSON.stringify(text)}`);
  return value;
}

/** The count multiplier: 1, or 10 with `RELIABILITY_LONG=1`, or `n` with `RELIABILITY_LONG=n`. */
export const LONG: number = ((value) => value === undefined || value <= 0 ? 1 : value === 1 ? 10 : value)(
  envInteger("RELIABILITY_LONG"),
);

/** `count` in the default mode, multiplied in the long mode. */
export function scaled(count: number): number {
  return count * LONG;
}

const BASE_SEED = envInteger("RELIABILITY_SEED") ?? ((Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0);

/** A small seeded PRNG (mulberry32). */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** `true` with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A float between `min` and `max`, log-uniform (short delays as likely per decade as long ones). */
  logUniform(min: number, max: number): number {
    return min * Math.exp(this.next() * Math.log(max / min));
  }
}

/** The PRNG of test `name`, seeded from `RELIABILITY_SEED` (printed, so a run can be replayed). */
export function seeded(name: string): Random {
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 16777619);
  console.log(`${name}: seed ${BASE_SEED} (replay with RELIABILITY_SEED=${BASE_SEED}), counts x${LONG}`);
  return new Random((BASE_SEED ^ hash) >>> 0);
}

/** Counts of cancellations by the kind of checkpoint where they landed. */
export class Tally<K extends string> {
  readonly counts: Record<K, number>;
  /** While `false`, cancellations are not counted (a shutdown's own cancellation). */
  counting = true;

  constructor(kinds: readonly K[]) {
    this.counts = Object.fromEntries(kinds.map((kind) => [kind, 0])) as Record<K, number>;
  }

  /** How many calls of each kind are waiting now (to say where a hung run hangs). */
  readonly pending: Map<K, number> = new Map();

  /** Awaits `promise`; a `CancelledError` it rejects with is counted under `kind` and rethrown. */
  async at<T>(kind: K, promise: Promise<T>): Promise<T> {
    this.pending.set(kind, (this.pending.get(kind) ?? 0) + 1);
    try {
      return await promise;
    } catch (error) {
      if (error instanceof CancelledError && this.counting) this.counts[kind]++;
      throw error;
    } finally {
      this.pending.set(kind, this.pending.get(kind)! - 1);
    }
  }

  /** The kinds with calls waiting now: `kind count, ...`. */
  waiting(): string {
    return [...this.pending].filter(([, count]) => count > 0).map(([kind, count]) => `${kind} ${count}`).join(", ") ||
      "none";
  }

  /** Adds `other`'s counts to this tally's. */
  add(other: Tally<K>): Tally<K> {
    for (const kind of Object.keys(other.counts) as K[]) this.counts[kind] += other.counts[kind];
    return this;
  }

  /** The total. */
  total(): number {
    return Object.values<number>(this.counts).reduce((sum, count) => sum + count, 0);
  }

  /** Fails unless each of `kinds` was hit at least once. */
  assertEachHit(kinds: readonly K[], what: string): void {
    for (const kind of kinds) assert.ok(this.counts[kind] > 0, `${what}: no cancellation landed at ${kind}`);
  }

  /** `kind count, ...`; with `nonZero`, only the kinds hit. */
  toString(nonZero = false): string {
    return Object.entries<number>(this.counts).filter(([, count]) => !nonZero || count > 0)
      .map(([kind, count]) => `${kind} ${count}`).join(", ") || "none";
  }
}

/** The errors, whatever their class, that the nested groups of a task group threw (flattened). */
export function leaves(error: unknown): unknown[] {
  if (error instanceof AggregateError) return error.errors.flatMap(leaves);
  return [error];
}

/** `true` for `CancelledError` and for groups made only of it. */
export function onlyCancelled(error: unknown): boolean {
  return leaves(error).every((leaf) => leaf instanceof CancelledError);
}

/** The POSIX codes a peer that gave up (closed mid-exchange) may cause. */
const PEER_GONE_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);
/** The messages of TLS stacks whose peer went away mid-handshake or mid-stream. */
const PEER_GONE_MESSAGES =
  /close_notify|unexpected eof|end of file|socket hang up|disconnected|connection reset|broken pipe|handshake/i;

/**
 * `true` when `error` (or every leaf of a group) is what a peer closing a
 * connection mid-exchange causes, or a cancellation.
 */
export function peerGone(error: unknown): boolean {
  return leaves(error).every((leaf) => {
    if (leaf instanceof CancelledError) return true;
    const { code, message } = (leaf ?? {}) as { code?: unknown; message?: unknown };
    if (typeof code === "string" && PEER_GONE_CODES.has(code)) return true;
    return typeof message === "string" && PEER_GONE_MESSAGES.test(message);
  });
}

/**
 * NodeBackend on Deno: Deno's `node:tls` sometimes never reports the peer's close
 * (`close_notify`) to a TLS socket that was paused and resumed (issue 12); the
 * streams it hits are counted and printed, not failed. Everywhere else none may be lost.
 */
export function eofLossTolerated(backendName: string, tls: boolean): boolean {
  return tls && backendName === "node" && "deno" in process.versions;
}

/** Describes an error for a failure message. */
export function describeError(error: unknown): string {
  return leaves(error).map((leaf) => {
    const { name, code, message } = (leaf ?? {}) as { name?: unknown; code?: unknown; message?: unknown };
    return `${String(name)}${code === undefined ? "" : `[${String(code)}]`}: ${String(message ?? leaf)}`;
  }).join("; ");
}

/** Collects unexpected errors; fails listing them. */
export class Unexpected {
  readonly #seen: string[] = [];

  /** Records `error` with `where`. */
  add(where: string, error: unknown): void {
    this.#seen.push(`${where}: ${describeError(error)}`);
  }

  /** Fails if anything was recorded. */
  assertNone(what: string): void {
    const first = [...new Set(this.#seen)].slice(0, 10);
    assert.equal(this.#seen.length, 0, `${what}: ${this.#seen.length} unexpected errors: ${first.join(" | ")}`);
  }
}

/**
 * A client with no deadline against a server with none: a plain echo of 64 KiB. The server serves every
 * connection it accepts: the backlog may still hold connections of cancelled clients.
 */
export async function normalClient(
  backend: AsyncBackend,
  listener: AsyncListenerSocketAdapter,
  tls: boolean,
): Promise<void> {
  const serve = async (accepted: AcceptedSocket) => {
    try {
      const stream = await accepted.connect();
      try {
        for (let chunk = await stream.recv(65536); chunk.length > 0; chunk = await stream.recv(65536)) {
          await stream.sendall(chunk);
        }
      } finally {
        await stream.aclose();
      }
    } catch (error) {
      if (!peerGone(error)) throw error; // a cancelled client's connection
    }
  };
  await backend.timeout(10_000, async () => {
    await backend.createTaskGroup(async (tg) => {
      let stop = (): void => {};
      tg.startSoon(() =>
        backend.moveOnAfter(Infinity, async (handle) => {
          stop = () => handle.cancel();
          await backend.createTaskGroup(async (servers) => {
            for (;;) servers.startSoon(serve, await listener.accept());
          });
        })
      );
      const port = portOf(listener);
      const client = tls
        ? await backend.createSslOverTcpConnection("127.0.0.1", port, CLIENT_TLS)
        : await backend.createTcpConnection("127.0.0.1", port);
      try {
        const data = pattern(65536, 7);
        await client.sendall(data);
        assert.deepEqual(await recvExactly(client, data.length), data);
      } finally {
        await client.aclose();
      }
      stop();
    });
  });
}

/** The process's resident set size, in MiB. */
export function rssMiB(): number {
  return process.memoryUsage().rss / 1048576;
}

/**
 * Runs `body` while sampling the RSS every 20 ms; returns its result and the peak RSS in MiB. With
 * `report`, calls it every 15 s (progress of long runs).
 */
export async function withRssPeak<T>(
  backend: AsyncBackend,
  body: () => Promise<T>,
  report?: () => void,
): Promise<{ result: T; peakMiB: number }> {
  let peak = rssMiB();
  let done = false;
  let result: T | undefined;
  await backend.createTaskGroup(async (tg) => {
    tg.startSoon(async () => {
      for (let next = backend.currentTime() + 15_000; !done;) {
        peak = Math.max(peak, rssMiB());
        if (report !== undefined && backend.currentTime() >= next) {
          report();
          next += 15_000;
        }
        await backend.sleep(20);
      }
    });
    try {
      result = await body();
    } finally {
      done = true;
    }
  });
  return { result: result as T, peakMiB: Math.max(peak, rssMiB()) };
}

/**
 * The soft limit on open descriptors, read from a child shell (`ulimit -n`);
 * `fallback` where there is no shell or no limit.
 */
export function descriptorLimit(fallback = 1024): number {
  try {
    const text = execFileSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).trim();
    if (text === "unlimited") return 1 << 20;
    const value = Number(text);
    return Number.isSafeInteger(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

/** Milliseconds since `start` (from `backend.currentTime()`), rounded. */
export function elapsed(backend: AsyncBackend, start: number): number {
  return Math.round(backend.currentTime() - start);
}

// ---- The synchronization chaos (`reliability_sync.ts`, `reliability_sync_more.ts`) ---------------------

/** A random deadline in ms: 10% already expired, a share `none` with none, the rest log-uniform in 0.01–3 ms. */
export function randomDeadline(random: Random, none = 0.35): number {
  const roll = random.next();
  if (roll < 0.1) return 0;
  if (roll < 0.1 + none) return Infinity;
  return random.logUniform(0.01, 3);
}

/** One to three checkpoints of random kinds (yields, zero and short sleeps), as a task holding something does. */
export async function randomCheckpoints(backend: AsyncBackend, random: Random): Promise<void> {
  for (let i = random.int(1, 3); i > 0; i--) {
    if (random.chance(0.5)) await backend.coroYield();
    else await backend.sleep(random.chance(0.5) ? 0 : random.logUniform(0.01, 1));
  }
}
