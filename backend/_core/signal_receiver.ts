/**
 * OS signals as a stream of names (Trio's `open_signal_receiver`): the runtime
 * calls a listener; the receiver keeps the signals nobody has received yet, one
 * of each name (a signal that comes again before it was received is merged
 * with the waiting one, so the backlog is bounded by the number of names), and
 * wakes one parked receiver per arrival.
 *
 * The runtimes' signal listeners keep no process alive, so a program whose
 * only work left is waiting for `SIGTERM` would end at once (Deno reports a
 * pending promise the loop cannot settle). A task waiting for a signal is
 * waiting for the outside world, like one waiting in `accept()`: while a
 * receive is parked, the receiver holds a timer that keeps the process alive.
 *
 * @module
 */

import type { SignalReceiver } from "../abc/signals.ts";
import { ClosedResourceError } from "../errors.ts";
import { describe } from "../_util/validate.ts";
import { coroYield } from "./checkpoint.ts";
import { type MacrotaskScheduler, MAX_TIMER_DELAY, type TimerHost } from "./timers.ts";
import { WaitQueue } from "./wait_queue.ts";
import { type LeakEntry, trackResource } from "./leaks.ts";

/** What a runtime gives for signals: adding and removing a listener. */
export interface SignalHost {
  /**
   * Calls `listener` whenever the process receives `signal`.
   *
   * @param signal A signal name (`"SIGINT"`).
   * @param listener The listener.
   * @throws {TypeError} (or another error) when the runtime cannot listen to `signal` here.
   */
  add(signal: string, listener: () => void): void;
  /**
   * Removes a listener added with {@linkcode SignalHost.add}.
   *
   * @param signal The signal name.
   * @param listener The listener.
   */
  remove(signal: string, listener: () => void): void;
}

const SIGNAL_NAME = /^SIG[A-Z0-9]+$/;

/** Checks the `signals` argument: a non-empty array of signal names; returns them without duplicates. */
function signalNames(signals: unknown): string[] {
  if (!Array.isArray(signals)) {
    throw new TypeError(`The 'signals' argument must be an array of signal names, got ${describe(signals)}`);
  }
  if (signals.length === 0) throw new RangeError("The 'signals' argument must not be an empty list");
  for (const name of signals) {
    if (typeof name !== "string" || !SIGNAL_NAME.test(name)) {
      throw new TypeError(`The 'signals' argument holds an invalid signal name: ${describe(name)}`);
    }
  }
  return [...new Set<string>(signals)];
}

/** The signal receiver shared by every backend. */
export class SignalReceiverCore implements SignalReceiver {
  readonly #host: SignalHost;
  readonly #timers: TimerHost;
  readonly #schedule: MacrotaskScheduler;
  readonly #listeners: [string, () => void][] = [];
  // Insertion-ordered, one entry per name: the coalescing backlog.
  readonly #pending = new Set<string>();
  readonly #waiters: WaitQueue = new WaitQueue("signal");
  #closed = false;
  #keepAlive: unknown = undefined;
  #leak: LeakEntry | null = null;

  /**
   * Adds a runtime listener for each of `signals`; on a failure, removes those
   * already added and throws a `TypeError` naming the signal.
   *
   * @param host The runtime's signal calls.
   * @param timers The runtime's timers, to keep the process alive while a receive waits.
   * @param schedule The backend's yield, for a receive that finds a waiting signal.
   * @param signals The signal names.
   */
  constructor(host: SignalHost, timers: TimerHost, schedule: MacrotaskScheduler, signals: readonly string[]) {
    this.#host = host;
    this.#timers = timers;
    this.#schedule = schedule;
    for (const name of signalNames(signals)) {
      const listener = () => this.#arrived(name);
      try {
        host.add(name, listener);
      } catch (error) {
        this.close();
        const why = error instanceof Error ? error.message : String(error);
        throw new TypeError(`The signal '${name}' cannot be received: ${why}`, { cause: error });
      }
      this.#listeners.push([name, listener]);
    }
    this.#leak = trackResource(
      "signal receiver",
      `signal receiver for ${this.#listeners.map(([name]) => name).join(", ")}`,
    );
  }

  get closed(): boolean {
    return this.#closed;
  }

  async receive(): Promise<string> {
    for (;;) {
      if (this.#closed) throw new ClosedResourceError("The signal receiver is closed");
      if (this.#pending.size === 0) await this.#park();
      else await coroYield(this.#schedule);
      if (this.#closed) throw new ClosedResourceError("The signal receiver is closed");
      // Another receiver may have taken it first: then wait again.
      for (const name of this.#pending) {
        this.#pending.delete(name);
        return name;
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#leak?.release();
    for (const [name, listener] of this.#listeners) this.#host.remove(name, listener);
    this.#listeners.length = 0;
    this.#pending.clear();
    this.#waiters.abortAll(new ClosedResourceError("The signal receiver was closed"));
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<string> {
    return { next: async () => ({ value: await this.receive(), done: false }) };
  }

  async #park(): Promise<void> {
    if (this.#keepAlive === undefined) this.#holdProcess();
    try {
      await this.#waiters.park();
    } finally {
      if (this.#waiters.size === 0 && this.#keepAlive !== undefined) {
        this.#timers.clearTimer(this.#keepAlive);
        this.#keepAlive = undefined;
      }
    }
  }

  #holdProcess = (): void => {
    this.#keepAlive = this.#timers.setTimer(this.#holdProcess, MAX_TIMER_DELAY);
  };

  #arrived(name: string): void {
    if (this.#closed) return;
    this.#pending.add(name);
    this.#waiters.unpark(1);
  }
}
