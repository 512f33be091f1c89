/**
 * Instruments: the hooks a runner calls as its tasks start and end and its
 * scopes are cancelled, and their publication on `node:diagnostics_channel`.
 *
 * ## Zero cost when nobody listens
 *
 * A runner's `instruments` field is `null` until an instrument is added or the
 * runtime supplies diagnostics channels; each event site reads it once and
 * does nothing more when it is `null`. With channels and no instrument, an
 * event costs the channel's `hasSubscribers` check.
 *
 * @module
 */

import { DIAGNOSTICS_CHANNELS, type Instrument, type ScopeCancellation } from "../abc/diagnostics.ts";
import type { Task } from "../abc/tasks.ts";

/** A `node:diagnostics_channel` channel, as the core uses it (supplied by the runtime host). */
export interface DiagnosticsChannel {
  /** `true` while someone subscribes. */
  readonly hasSubscribers: boolean;
  /** Sends `message` to the subscribers. */
  publish(message: unknown): void;
}

/** The channels a runtime supplies, one per event (see `DIAGNOSTICS_CHANNELS`). */
export interface DiagnosticsChannels {
  /** `{ task }` when a task starts. */
  readonly taskSpawned: DiagnosticsChannel;
  /** `{ task }` when a task ends. */
  readonly taskExited: DiagnosticsChannel;
  /** A `ScopeCancellation` when a scope is cancelled. */
  readonly scopeCancelled: DiagnosticsChannel;
}

/**
 * The channels of every event (`DIAGNOSTICS_CHANNELS`), from the runtime's `diagnostics_channel.channel`.
 *
 * @param channel Returns the channel of a name.
 */
export function diagnosticsChannels(channel: (name: string) => DiagnosticsChannel): DiagnosticsChannels {
  return {
    taskSpawned: channel(DIAGNOSTICS_CHANNELS.taskSpawned),
    taskExited: channel(DIAGNOSTICS_CHANNELS.taskExited),
    scopeCancelled: channel(DIAGNOSTICS_CHANNELS.scopeCancelled),
  };
}

/** The instruments of one runner, and the runtime's channels. */
export class Instruments {
  #list: Instrument[] = [];
  readonly #channels: DiagnosticsChannels | null;
  // One field per channel: the hot path reads one field and one getter.
  readonly #spawned: DiagnosticsChannel | null;
  readonly #exited: DiagnosticsChannel | null;
  readonly #cancelled: DiagnosticsChannel | null;

  /** @param channels The runtime's diagnostics channels, if it has them. */
  constructor(channels: DiagnosticsChannels | null) {
    this.#channels = channels;
    this.#spawned = channels?.taskSpawned ?? null;
    this.#exited = channels?.taskExited ?? null;
    this.#cancelled = channels?.scopeCancelled ?? null;
  }

  /** `true` when nothing listens: no instrument and no channels. */
  get empty(): boolean {
    return this.#list.length === 0 && this.#channels === null;
  }

  /** Adds `instrument` (once). */
  add(instrument: Instrument): void {
    if (typeof instrument !== "object" || instrument === null) {
      throw new TypeError(`The 'instrument' argument must be an object, got ${String(instrument)}`);
    }
    if (!this.#list.includes(instrument)) this.#list = [...this.#list, instrument];
  }

  /** Removes `instrument`; `false` when it was not there. */
  remove(instrument: Instrument): boolean {
    if (!this.#list.includes(instrument)) return false;
    this.#list = this.#list.filter((other) => other !== instrument);
    return true;
  }

  /** Calls every `taskSpawned` hook and publishes the event. */
  taskSpawned(task: Task<unknown>): void {
    const channel = this.#spawned;
    if (channel !== null && channel.hasSubscribers) channel.publish({ task });
    // A copy-on-write list: a hook that adds or removes an instrument does not disturb this loop.
    const list = this.#list;
    for (let i = 0; i < list.length; i++) {
      const instrument = list[i];
      if (instrument.taskSpawned !== undefined) this.#call(instrument, () => instrument.taskSpawned!(task));
    }
  }

  /** Calls every `taskExited` hook and publishes the event. */
  taskExited(task: Task<unknown>): void {
    const channel = this.#exited;
    if (channel !== null && channel.hasSubscribers) channel.publish({ task });
    const list = this.#list;
    for (let i = 0; i < list.length; i++) {
      const instrument = list[i];
      if (instrument.taskExited !== undefined) this.#call(instrument, () => instrument.taskExited!(task));
    }
  }

  /** Calls every `scopeCancelled` hook and publishes the event; `describe` makes the message once. */
  scopeCancelled(describe: () => ScopeCancellation): void {
    let cancellation: ScopeCancellation | undefined;
    const channel = this.#cancelled;
    if (channel !== null && channel.hasSubscribers) channel.publish(cancellation = describe());
    for (const instrument of this.#list) {
      if (instrument.scopeCancelled !== undefined) {
        this.#call(instrument, () => instrument.scopeCancelled!(cancellation ??= describe()));
      }
    }
  }

  /** Runs a hook; one that throws removes its instrument, and its error is reported unhandled (Trio's rule). */
  #call(instrument: Instrument, hook: () => void): void {
    try {
      hook();
    } catch (error) {
      this.remove(instrument);
      void Promise.reject(error);
    }
  }
}
