/**
 * The worker's side of a threads portal: posts requests to the loop and blocks
 * on a shared counter (`Atomics.wait`) until the answer was posted, then reads
 * it synchronously from the channel.
 *
 * @module
 */

import type { AnyFunction, ThreadsPortal } from "../abc/threads.ts";
import { CancelledError, ClosedResourceError } from "../errors.ts";
import { threadState } from "./thread_state.ts";
import {
  cloneError,
  PORTAL_BROKEN,
  PORTAL_CLOSED,
  PORTAL_SEQ,
  type PortalReply,
  type PortalRequest,
  reviveError,
  type SerializedError,
  serializeError,
} from "./protocol.ts";

/** Reads one message from a port synchronously, `undefined` when none is queued. */
export type ReceiveMessageOnPort = (port: MessagePort) => { message: unknown } | undefined;

type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };

function knownError(name: string, message: string): Error | undefined {
  return name === "CancelledError" ? new CancelledError(message) : undefined;
}

function closedError(state?: Int32Array): Error {
  if (state !== undefined && Atomics.load(state, PORTAL_CLOSED) === PORTAL_BROKEN) {
    return new Error(
      "This threads portal's channel to the loop broke (a request could not be deserialized there): pass the " +
        "portal to runInThread() again to get a new one",
    );
  }
  return new ClosedResourceError("The runner that owns this threads portal is closed");
}

/**
 * A portal as a worker sees it. A call made while the worker runs a
 * `runInThread` call runs on the loop inside that call's caller's cancel
 * scope: when the caller is cancelled, a pending `runCoroutine()` or `call()`
 * throws (rejects with) the library's `CancelledError` here.
 */
export class WorkerPortal<F extends Record<string, AnyFunction>> implements ThreadsPortal<F> {
  readonly #port: MessagePort;
  readonly #state: Int32Array;
  readonly #receive: ReceiveMessageOnPort;
  #nextId = 1;
  #replies: Map<number, PortalReply> = new Map();
  #pending: Map<number, { resolve(value: unknown): void; reject(error: unknown): void }> = new Map();
  #pumping = false;

  /**
   * @param port The worker's end of the channel.
   * @param state The shared `[replies posted, closed]` counters.
   * @param receive The runtime's synchronous receive.
   */
  constructor(port: MessagePort, state: SharedArrayBuffer, receive: ReceiveMessageOnPort) {
    this.#port = port;
    this.#state = new Int32Array(state);
    this.#receive = receive;
  }

  /** Runs the loop function `name` (in the caller's scope), blocking this worker until it returned. */
  runSync<K extends keyof F & string>(name: K, ...args: Parameters<F[K]>): Awaited<ReturnType<F[K]>> {
    return this.#block(true, name, args) as Awaited<ReturnType<F[K]>>;
  }

  /**
   * Runs the async loop function `name` as a task of the runner, inside the
   * caller's scope, blocking this worker until it settled; throws
   * `CancelledError` when the caller was cancelled.
   */
  runCoroutine<K extends keyof F & string>(name: K, ...args: Parameters<F[K]>): Awaited<ReturnType<F[K]>> {
    return this.#block(false, name, args) as Awaited<ReturnType<F[K]>>;
  }

  /** Like {@linkcode WorkerPortal.runCoroutine}, without blocking this worker. */
  call<K extends keyof F & string>(name: K, ...args: Parameters<F[K]>): Promise<Awaited<ReturnType<F[K]>>> {
    return new Promise((resolve, reject) => {
      if (Atomics.load(this.#state, PORTAL_CLOSED) !== 0) throw closedError(this.#state);
      const id = this.#send(false, name, args, "call");
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      void this.#pump();
    });
  }

  /** Posts a request, tagged with the worker's running call; throws (nothing is pending) when `args` cannot be cloned. */
  #send(sync: boolean, name: string, args: unknown[], method: string): number {
    // Numbered only once posted: the loop names a request it cannot deserialize by counting them.
    const id = this.#nextId;
    const request: PortalRequest = [id, sync, name, args, threadState().callId];
    try {
      this.#port.postMessage(request);
    } catch (error) {
      throw cloneError(`The arguments of ThreadsPortal.${method}('${name}')`, "to the loop's thread", error);
    }
    this.#nextId++;
    return id;
  }

  #block(sync: boolean, name: string, args: unknown[]): unknown {
    const state = this.#state;
    if (Atomics.load(state, PORTAL_CLOSED) !== 0) throw closedError(this.#state);
    const id = this.#send(sync, name, args, sync ? "runSync" : "runCoroutine");
    for (;;) {
      const seen = Atomics.load(state, PORTAL_SEQ);
      const reply = this.#drain(id);
      if (reply !== undefined) return unwrap(reply);
      if (Atomics.load(state, PORTAL_CLOSED) !== 0) throw closedError(this.#state);
      Atomics.wait(state, PORTAL_SEQ, seen);
    }
  }

  /**
   * Reads every queued reply: settles pending `call()`s, returns the reply to
   * `wanted` (a blocking call), keeps replies to other blocking calls.
   */
  #drain(wanted: number): PortalReply | undefined {
    let found = this.#replies.get(wanted);
    if (found !== undefined) this.#replies.delete(wanted);
    for (let item = this.#read(wanted); item !== undefined; item = this.#read(wanted)) {
      const reply = item.message as PortalReply;
      const id = reply[0];
      if (id === wanted) {
        found = reply;
        continue;
      }
      const pending = this.#pending.get(id);
      if (pending === undefined) {
        this.#replies.set(id, reply);
        continue;
      }
      this.#pending.delete(id);
      try {
        pending.resolve(unwrap(reply));
      } catch (error) {
        pending.reject(error);
      }
    }
    return found;
  }

  /**
   * Reads one reply. One that cannot be deserialized here (the read throws, the
   * message is gone) becomes an error reply to the call it must have answered:
   * the only one waiting (a blocking call, or a single pending `call()`); when
   * it cannot be told which (a blocking call and pending `call()`s, or several
   * `call()`s), all of them get the error rather than one waiting forever.
   */
  #read(wanted: number): { message: unknown } | undefined {
    try {
      return this.#receive(this.#port);
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const failure = serializeError(
        new TypeError(`The result of a threads portal call could not be deserialized in the worker: ${reason}`),
      );
      const waiting = [...this.#pending.keys()];
      if (wanted !== 0) waiting.unshift(wanted);
      if (waiting.length === 0) return this.#read(wanted);
      for (const id of waiting.slice(1)) {
        this.#pending.get(id)!.reject(reviveError(failure, knownError));
        this.#pending.delete(id);
      }
      return { message: [waiting[0], false, failure] satisfies PortalReply };
    }
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    const state = this.#state;
    const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;
    try {
      while (this.#pending.size > 0) {
        const seen = Atomics.load(state, PORTAL_SEQ);
        this.#drain(0);
        if (this.#pending.size === 0) break;
        if (Atomics.load(state, PORTAL_CLOSED) !== 0) {
          for (const pending of this.#pending.values()) pending.reject(closedError(state));
          this.#pending.clear();
          break;
        }
        if (waitAsync !== undefined) {
          const result = waitAsync(state, PORTAL_SEQ, seen);
          if (result.async) await result.value;
        } else {
          await new Promise((resolve) => setTimeout(resolve, 1));
        }
      }
    } finally {
      this.#pumping = false;
    }
  }
}

function unwrap(reply: PortalReply): unknown {
  if (reply[1]) return reply[2];
  throw reviveError(reply[2] as SerializedError, knownError);
}
