/**
 * The mock clock: virtual time for a runner, moved by hand (`jump`,
 * `advance`), at a rate, or by autojump when the runner is idle.
 *
 * @module
 */

import type { MockClockOptions, VirtualClock } from "../abc/clock.ts";
import { bindToContext } from "./context.ts";
import { clampDelay, type MacrotaskScheduler, type TimerHost, webTimers } from "./timers.ts";
import { assertDelay } from "../_util/validate.ts";

/** A timer of the mock clock. */
interface MockTimer {
  at: number;
  seq: number;
  callback: () => void;
  ref: boolean;
  pending: boolean;
}

/** What a runner gives the clock it runs on. */
interface Attachment {
  /** The runtime's timers: the real timer behind a running clock. */
  host: TimerHost;
  /** A full turn of the event loop. */
  turn: MacrotaskScheduler;
  /** The runner's activity count (see `ScopeRunState.activity`). */
  activity: () => number;
}

let attach: (clock: unknown, attachment: Attachment) => TimerHost;
let detach: (clock: MockClock) => void;

/**
 * A virtual clock for tests: a runner made with `newRunner({ clock })` (or
 * `bootstrap({ clock }, fn)`) reads it for `currentTime()` and arms every
 * timer of the library on it: sleeps, the deadlines of timeouts and cancel
 * scopes, the Happy Eyeballs stagger, the TLS handshake bound, the worker
 * pool's idle retirement. A 30-second timeout then takes no real time.
 *
 * Time moves only forward, in four ways: {@linkcode MockClock.jump} (at once,
 * firing what is due), {@linkcode MockClock.advance} (deadline by deadline,
 * letting the runner settle after each), {@linkcode MockClock.rate} (virtual
 * ms per real ms; `0`, the default, freezes the clock), and
 * {@linkcode MockClock.autojump}.
 *
 * **Idle**, for autojump and `advance`, means: one full turn of the event loop
 * (every due runtime timer and ready I/O callback ran) passed during which no
 * checkpoint of the runner started a wait or a yield and no timer was armed
 * or cleared on the clock. So a task that yields keeps the runner busy, and
 * tasks parked in library waits (sleeps, locks, events, channels, joins) leave
 * it idle. What idle cannot see: a task awaiting a promise of its own
 * (`fetch()`, a raw `Promise`) or I/O in flight (a socket read, a connect, a
 * worker thread's job) looks parked, so autojump may move time past a deadline
 * that real I/O would have beaten; keep autojump to tests whose waits are the
 * library's, or move time by hand.
 *
 * A clock serves one open runner at a time; it detaches when the runner
 * closes. Unreferenced timers (the pool's idle sweep) fire when time passes
 * them but never make autojump move.
 *
 * @example A 30-second timeout in no time
 * ```ts
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 * import { MockClock } from "@easynetwork/async-backend/testing";
 *
 * const backend = new DenoBackend();
 * const clock = new MockClock({ autojump: true });
 * const started = performance.now();
 * const result = await backend.bootstrap({ clock }, () =>
 *   backend.moveOnAfter(30_000, () => backend.sleepForever())
 * );
 * console.log(result, clock.now()); // undefined 30000
 * console.log(performance.now() - started < 1_000); // true
 * ```
 */
export class MockClock implements VirtualClock {
  #virtual: number;
  #real: number;
  #rate: number;
  #autojump: boolean;
  /** Pending timers, sorted by deadline, then by arming order. */
  #timers: MockTimer[] = [];
  #seq = 0;
  #refs = 0;
  /** Timers armed or cleared so far: activity the runner's count cannot see. */
  #ops = 0;
  #attached: Attachment | null = null;
  #realTimer: unknown = undefined;
  #watching = false;
  #timerHost: TimerHost = {
    now: () => this.now(),
    setTimer: (callback, ms) => this.#setTimer(callback, ms),
    clearTimer: (id) => this.#clearTimer(id as MockTimer | undefined),
    refTimer: (id, ref) => this.#refTimer(id as MockTimer | undefined, ref),
  };

  /**
   * Makes a clock, frozen at `options.start` unless `options.rate` is set.
   *
   * @param options The start time, the rate and autojump.
   * @throws {TypeError} when an option has the wrong type.
   * @throws {RangeError} when `start` is not finite or `rate` is negative or infinite.
   */
  constructor(options: MockClockOptions = {}) {
    if (options === null || typeof options !== "object") {
      throw new TypeError(
        `The 'options' argument must be an object, got ${options === null ? "null" : typeof options}`,
      );
    }
    const { start = 0, rate = 0, autojump = false } = options;
    if (typeof start !== "number") throw new TypeError(`The 'start' option must be a number, got ${typeof start}`);
    if (!Number.isFinite(start)) throw new RangeError(`The 'start' option must be finite, got ${start}`);
    assertRate(rate, "rate");
    assertBoolean(autojump, "autojump");
    this.#virtual = start;
    this.#real = performance.now();
    this.#rate = rate;
    this.#autojump = autojump;
  }

  /** The virtual time, in ms. */
  now(): number {
    return this.#rate === 0 ? this.#virtual : this.#virtual + (performance.now() - this.#real) * this.#rate;
  }

  /** Virtual ms per real ms: `0` freezes the clock, `1` is real time. */
  get rate(): number {
    return this.#rate;
  }

  set rate(value: number) {
    assertRate(value, "rate");
    this.#virtual = this.now();
    this.#real = performance.now();
    this.#rate = value;
    this.#armReal();
  }

  /** Whether the clock jumps to the next deadline whenever its runner is idle. */
  get autojump(): boolean {
    return this.#autojump;
  }

  set autojump(value: boolean) {
    assertBoolean(value, "autojump");
    this.#autojump = value;
    this.#watch();
  }

  /**
   * Moves time forward by `ms` at once: every timer due by then fires, in
   * deadline order, before `jump()` returns (the tasks it wakes run later).
   *
   * @param ms How far, in ms: a non-negative finite number.
   * @throws {TypeError} when `ms` is not a number.
   * @throws {RangeError} when `ms` is negative or infinite.
   */
  jump(ms: number): void {
    assertStep(ms);
    this.#virtual += ms;
    this.#fireDue();
  }

  /**
   * Waits until the runner is idle (see the class), then moves time forward
   * by `ms` step by step: to the deadline of each timer due within `ms`, in order, firing it and waiting until the runner is idle
   * (see the class) before the next step, so that timers armed by the tasks it
   * woke fire in their turn; then to the end. Not a checkpoint: it waits for
   * the runner, which a task yielding in a loop keeps from ever being idle.
   *
   * @param ms How far, in ms: a non-negative finite number.
   * @throws {TypeError} when `ms` is not a number.
   * @throws {RangeError} when `ms` is negative or infinite.
   */
  async advance(ms: number): Promise<void> {
    assertStep(ms);
    // Tasks about to arm timers (just started, just woken) do so first.
    await this.#settle();
    const target = this.now() + ms;
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.at > target) break;
      this.#moveTo(next.at);
      this.#fireDue();
      await this.#settle();
    }
    this.#moveTo(target);
    this.#fireDue();
    await this.#settle();
  }

  #moveTo(time: number): void {
    const now = this.now();
    if (time > now) this.#virtual += time - now;
  }

  #mark(): number {
    return this.#ops + (this.#attached?.activity() ?? 0);
  }

  /** Resolves once the runner is idle (at once when no runner is attached). */
  async #settle(): Promise<void> {
    for (;;) {
      const attached = this.#attached;
      if (attached === null) return;
      const mark = this.#mark();
      await new Promise<void>((resolve) => attached.turn(resolve));
      if (this.#mark() === mark) return;
    }
  }

  #setTimer(callback: () => void, ms: number): MockTimer {
    const timer: MockTimer = {
      at: this.now() + (ms > 0 ? ms : 0),
      seq: this.#seq++,
      callback: bindToContext(callback),
      ref: true,
      pending: true,
    };
    const timers = this.#timers;
    let lo = 0;
    let hi = timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (timers[mid].at <= timer.at) lo = mid + 1;
      else hi = mid;
    }
    timers.splice(lo, 0, timer);
    this.#refs++;
    this.#ops++;
    this.#armReal();
    this.#watch();
    return timer;
  }

  #clearTimer(timer: MockTimer | undefined): void {
    if (timer === undefined || !timer.pending) return;
    timer.pending = false;
    this.#timers.splice(this.#timers.indexOf(timer), 1);
    if (timer.ref) this.#refs--;
    this.#ops++;
    this.#armReal();
  }

  #refTimer(timer: MockTimer | undefined, ref: boolean): void {
    if (timer === undefined || !timer.pending || timer.ref === ref) return;
    timer.ref = ref;
    this.#refs += ref ? 1 : -1;
    this.#armReal();
    this.#watch();
  }

  /** Fires every timer due now, in deadline order (also those their callbacks arm). */
  #fireDue(): void {
    const timers = this.#timers;
    while (timers.length > 0 && timers[0].at <= this.now()) {
      const timer = timers.shift()!;
      timer.pending = false;
      if (timer.ref) this.#refs--;
      try {
        timer.callback();
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    this.#armReal();
  }

  /** Arms the one real timer: for a timer due now, or for the next one while time runs. */
  #armReal(): void {
    const host = this.#attached?.host ?? webTimers;
    if (this.#realTimer !== undefined) host.clearTimer(this.#realTimer);
    this.#realTimer = undefined;
    const first = this.#timers[0];
    if (first === undefined) return;
    const left = first.at - this.now();
    if (left > 0 && this.#rate === 0) return;
    this.#realTimer = host.setTimer(this.#onReal, left > 0 ? clampDelay(left / this.#rate) : 0);
    if (this.#refs === 0) host.refTimer(this.#realTimer, false);
  }

  #onReal = (): void => {
    this.#realTimer = undefined;
    this.#fireDue();
  };

  /** Runs the autojump loop while it has work: autojump on, a runner, a referenced timer. */
  #watch(): void {
    if (this.#watching || !this.#autojump || this.#attached === null || this.#refs === 0) return;
    this.#watching = true;
    let mark = this.#mark();
    const step = (): void => {
      const attached = this.#attached;
      if (!this.#autojump || attached === null || this.#refs === 0) {
        this.#watching = false;
        return;
      }
      const now = this.#mark();
      if (now === mark) {
        const next = this.#timers.find((timer) => timer.ref);
        if (next !== undefined) this.#moveTo(next.at);
        this.#fireDue();
      }
      mark = this.#mark();
      attached.turn(step);
    };
    this.#attached!.turn(step);
  }

  static {
    attach = (clock, attachment) => {
      if (!(clock instanceof MockClock)) {
        throw new TypeError(`The 'clock' option must be a MockClock, got ${describe(clock)}`);
      }
      if (clock.#attached !== null) throw new Error("The clock is already used by an open runner");
      clock.#attached = attachment;
      clock.#armReal();
      clock.#watch();
      return clock.#timerHost;
    };
    detach = (clock) => {
      if (clock.#realTimer !== undefined) clock.#attached?.host.clearTimer(clock.#realTimer);
      clock.#realTimer = undefined;
      clock.#attached = null;
    };
  }
}

/**
 * Makes `clock` the clock of a runner: returns the timers the runner must use.
 *
 * @param clock The `clock` option (checked).
 * @param host The runtime's timers.
 * @param turn A full turn of the event loop.
 * @param activity The runner's activity count.
 * @throws {TypeError} when `clock` is not a {@linkcode MockClock}.
 * @throws {Error} when the clock serves another open runner.
 */
export function attachClock(
  clock: unknown,
  host: TimerHost,
  turn: MacrotaskScheduler,
  activity: () => number,
): TimerHost {
  return attach(clock, { host, turn, activity });
}

/**
 * Frees `clock` for another runner; its pending timers stay.
 *
 * @param clock A clock given to {@linkcode attachClock}.
 */
export function detachClock(clock: MockClock): void {
  detach(clock);
}

function describe(value: unknown): string {
  return value === null ? "null" : typeof value === "object" ? "an object of another class" : typeof value;
}

function assertRate(value: unknown, name: string): asserts value is number {
  if (typeof value !== "number") throw new TypeError(`The '${name}' option must be a number, got ${typeof value}`);
  if (!(value >= 0 && value < Infinity)) {
    throw new RangeError(`The '${name}' option must be a non-negative finite number, got ${value}`);
  }
}

function assertBoolean(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== "boolean") throw new TypeError(`The '${name}' option must be a boolean, got ${typeof value}`);
}

function assertStep(ms: unknown): asserts ms is number {
  assertDelay(ms, "ms");
  if (ms === Infinity) throw new RangeError("The 'ms' argument must be finite, got Infinity");
}
