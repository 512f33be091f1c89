/**
 * What a runtime gives the core ({@linkcode RuntimeHost}: timers, yields, and
 * optionally networking, workers, signals and diagnostics channels), and the
 * one event-loop yield each host shares between its backends.
 *
 * @module
 */

import { LoopYield, type MacrotaskScheduler } from "./_core/checkpoint.ts";
import type { TimerHost } from "./_core/timers.ts";
import type { SignalHost } from "./_core/signal_receiver.ts";
import type { DiagnosticsChannels } from "./_core/instruments.ts";
import type { NetDriver } from "./_net/driver.ts";
import type { ThreadHost } from "./_threads/run_in_thread.ts";

/** What a runtime gives the core. */
export interface RuntimeHost {
  /** Timers and the monotonic clock. */
  readonly timers: TimerHost;
  /**
   * The runtime's cheapest macrotask yield. It need not let the loop poll I/O
   * or run timers (a `MessageChannel` round on Node does neither) when
   * `yieldTurn` is given.
   */
  readonly yieldMacrotask: MacrotaskScheduler;
  /**
   * A full turn of the event loop: the callback runs after every timer due and
   * every I/O callback ready when it was scheduled. When given, a checkpoint
   * yields with `yieldMacrotask` and takes a full turn at least once a
   * millisecond; without it, `yieldMacrotask` must be a full turn itself.
   */
  readonly yieldTurn?: MacrotaskScheduler;
  /**
   * How many `yieldMacrotask` rounds in a row make a full turn of the loop by
   * themselves, where the loop polls I/O every so many rounds (Deno: 64); while
   * yields come that fast, no `yieldTurn` is needed. Default: never.
   */
  readonly yieldMacrotasksPerTurn?: number;
  /**
   * The runtime's networking calls, under the shared adapters and pipelines.
   * Without it, every networking method rejects.
   *
   * @ignore
   */
  // deno-lint-ignore no-explicit-any
  readonly net?: NetDriver<any>;
  /**
   * The runtime's workers, for `runInThread`. Without it, `runInThread` rejects.
   *
   * @ignore
   */
  readonly threads?: ThreadHost;
  /** The runtime's OS signal listeners, for `openSignalReceiver`. Without it, `openSignalReceiver` throws. */
  readonly signals?: SignalHost;
  /** The runtime's `node:diagnostics_channel` channels, where runners publish their events. */
  readonly diagnostics?: DiagnosticsChannels;
  /**
   * Reads an environment variable (`ASYNC_BACKEND_DEBUG`); `undefined` when it
   * is unset or may not be read. Without it, no variable is read.
   */
  readonly env?: (name: string) => string | undefined;
}

/** One yield per host, shared by its backends: one queue keeps every task's yields in order. */
const hostYields = new WeakMap<RuntimeHost, MacrotaskScheduler>();

export function hostYield(host: RuntimeHost): MacrotaskScheduler {
  let schedule = hostYields.get(host);
  if (schedule === undefined) {
    schedule = host.yieldTurn === undefined
      ? host.yieldMacrotask
      : new LoopYield(host.yieldMacrotask, host.yieldTurn, host.timers.now, host.yieldMacrotasksPerTurn).schedule;
    hostYields.set(host, schedule);
  }
  return schedule;
}

/** The rejection of a networking call on a host without a driver. */
export function noNetworking(): Promise<never> {
  return Promise.reject(new TypeError("This backend has no networking driver ('net' in its RuntimeHost)"));
}
