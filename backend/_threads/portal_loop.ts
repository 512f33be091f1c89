/**
 * The loop's side of a threads portal: receives requests from workers, runs
 * the functions on the loop and answers through the portal's channel.
 *
 * A request made by a worker while it runs a `runInThread` call runs inside
 * the cancel scope of that call's caller (SPEC 2.1 rule 5, AnyIO's
 * `from_thread`): cancelling the caller cancels a pending `runCoroutine()` or
 * `call()`, which then throws `CancelledError` in the worker.
 *
 * @module
 */

import type { AnyFunction, ThreadsPortal } from "../abc/threads.ts";
import { CancelledError, ClosedResourceError } from "../errors.ts";
import { CallbackWaiter, CancelScope, currentScope, currentScopeVar } from "../_core/cancel_scope.ts";
import type { RunState } from "../_core/runner.ts";
import { describe } from "../_util/validate.ts";
import {
  cloneError,
  PORTAL_BROKEN,
  PORTAL_CLOSED,
  PORTAL_KEY,
  PORTAL_SEQ,
  type PortalCaller,
  type PortalDescriptor,
  type PortalReply,
  type PortalRequest,
  type PortalWorker,
  serializeError,
  TO_WORKER,
  type TransferItem,
  type WorkerTransferable,
} from "./protocol.ts";

let nextPortalId = 1;

/** One worker's channel to the portal. */
interface Channel {
  port: MessagePort;
  state: Int32Array;
  /** The worker at the other end: tells whose call it runs. */
  worker: PortalWorker;
  /** The id of the next request: the worker numbers them 1, 2, ... in the order it posts them. */
  next: number;
}

/** A portal over functions of the loop's thread (see `AsyncBackend.createThreadsPortal`). */
export class LoopPortal<F extends Record<string, AnyFunction>> implements ThreadsPortal<F>, WorkerTransferable {
  readonly #id = nextPortalId++;
  readonly #loop: RunState;
  readonly #functions: F;
  #channels: Map<PortalWorker, Channel> = new Map();
  /** Channels dropped after a request could not be deserialized; closed with the portal. */
  #broken: MessagePort[] = [];
  #closed = false;

  /**
   * @param loop The runner whose loop runs the functions; closing it closes the portal.
   * @param functions The functions callable through the portal.
   */
  constructor(loop: RunState, functions: F) {
    if (functions === null || typeof functions !== "object") {
      throw new TypeError(`The 'functions' argument must be an object of functions, got ${describe(functions)}`);
    }
    for (const [name, fn] of Object.entries(functions)) {
      if (typeof fn !== "function") {
        throw new TypeError(`The 'functions.${name}' value must be a function, got ${describe(fn)}`);
      }
    }
    this.#loop = loop;
    this.#functions = functions;
    loop.resource(this, () => this, (portal) => portal.close());
  }

  /** Throws: blocking the loop's own thread would deadlock. */
  runSync<K extends keyof F & string>(name: K, ..._args: Parameters<F[K]>): Awaited<ReturnType<F[K]>> {
    throw new Error(
      `ThreadsPortal.runSync('${name}') was called on the loop's own thread: it would block the loop it waits ` +
        `for (deadlock). Pass the portal to runInThread() and call it in the worker, or use call()`,
    );
  }

  /** Throws: blocking the loop's own thread would deadlock. */
  runCoroutine<K extends keyof F & string>(name: K, ..._args: Parameters<F[K]>): Awaited<ReturnType<F[K]>> {
    throw new Error(
      `ThreadsPortal.runCoroutine('${name}') was called on the loop's own thread: it would block the loop it ` +
        `waits for (deadlock). Pass the portal to runInThread() and call it in the worker, or use call()`,
    );
  }

  /** On the loop's thread: calls the function directly. */
  async call<K extends keyof F & string>(name: K, ...args: Parameters<F[K]>): Promise<Awaited<ReturnType<F[K]>>> {
    if (this.#closed) throw new ClosedResourceError("The runner that owns this threads portal is closed");
    return await this.#lookup(name)(...args);
  }

  /** Encodes the portal for `worker`: the channel travels the first time only. */
  [TO_WORKER](worker: PortalWorker): { value: unknown; transfer: TransferItem[]; rollback(): void } {
    const known = this.#channels.get(worker);
    if (known !== undefined || this.#closed) {
      const descriptor: PortalDescriptor = { [PORTAL_KEY]: this.#id };
      if (known === undefined) {
        // Closed: hand the worker a dead channel so its calls throw instead of blocking.
        const state = new Int32Array(new SharedArrayBuffer(8));
        state[PORTAL_CLOSED] = 1;
        const { port1, port2 } = new MessageChannel();
        port1.close();
        descriptor.port = port2;
        descriptor.state = state.buffer as SharedArrayBuffer;
        return { value: descriptor, transfer: [port2], rollback: () => port2.close() };
      }
      return { value: descriptor, transfer: [], rollback: () => {} };
    }
    const { port1, port2 } = new MessageChannel();
    const channel: Channel = { port: port1, state: new Int32Array(new SharedArrayBuffer(8)), worker, next: 1 };
    port1.onmessage = (event: MessageEvent<PortalRequest>) => this.#handle(channel, event.data);
    port1.onmessageerror = (event: MessageEvent) => this.#unreadable(channel, event.data);
    this.#channels.set(worker, channel);
    const descriptor: PortalDescriptor = {
      [PORTAL_KEY]: this.#id,
      port: port2,
      state: channel.state.buffer as SharedArrayBuffer,
    };
    return {
      value: descriptor,
      transfer: [port2],
      rollback: () => {
        this.#channels.delete(worker);
        port1.close();
        port2.close();
      },
    };
  }

  /** Wakes every blocked worker with "closed" and closes the channels. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const channel of this.#channels.values()) {
      Atomics.store(channel.state, PORTAL_CLOSED, 1);
      Atomics.add(channel.state, PORTAL_SEQ, 1);
      Atomics.notify(channel.state, PORTAL_SEQ);
      channel.port.close();
    }
    this.#channels.clear();
    for (const port of this.#broken.splice(0)) port.close();
  }

  #lookup(name: string): AnyFunction {
    const fn = Object.hasOwn(this.#functions, name) ? this.#functions[name] : undefined;
    if (typeof fn !== "function") throw new TypeError(`The threads portal has no function named '${name}'`);
    return fn;
  }

  /** The caller whose scope a request made during the worker's call `callId` runs in, if it is this runner's. */
  #callerOf(channel: Channel, callId: number): PortalCaller | undefined {
    if (callId === 0) return undefined;
    const caller = channel.worker.callerOf(callId);
    return caller !== undefined && caller.scope !== null && caller.scope.loop === this.#loop ? caller : undefined;
  }

  /**
   * A request that could not be deserialized here: it is the next one. Answers
   * it with the error (the worker waits for it), then drops the channel: after
   * a `messageerror`, Deno's ports deliver nothing more. The worker's later
   * calls through this channel throw; the next `runInThread` that passes the
   * portal to this worker sends a new one.
   */
  #unreadable(channel: Channel, error: unknown): void {
    const id = channel.next++;
    if (this.#closed) return;
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const failure = new TypeError(
      `The arguments of a threads portal call could not be deserialized on the loop's thread: ${reason}`,
    );
    this.#reply(channel, "?", [id, false, serializeError(failure)]);
    Atomics.store(channel.state, PORTAL_CLOSED, PORTAL_BROKEN);
    Atomics.add(channel.state, PORTAL_SEQ, 1);
    Atomics.notify(channel.state, PORTAL_SEQ);
    this.#channels.delete(channel.worker);
    channel.port.onmessage = null;
    channel.port.onmessageerror = null;
    this.#broken.push(channel.port);
  }

  #handle(channel: Channel, request: PortalRequest): void {
    const [id, sync, name, args, callId] = request;
    channel.next = id + 1;
    if (this.#closed) return;
    let fn: AnyFunction;
    try {
      fn = this.#lookup(name);
    } catch (error) {
      this.#reply(channel, name, [id, false, serializeError(error)]);
      return;
    }
    const caller = this.#callerOf(channel, callId);
    if (sync) {
      // Called at once, in the caller's scope (the runner's root scope without one): not in whatever
      // context the port's handler happens to inherit.
      let result: unknown;
      try {
        result = currentScopeVar.run(caller?.scope ?? this.#loop.root, () => fn(...args));
      } catch (error) {
        this.#reply(channel, name, [id, false, serializeError(error)]);
        return;
      }
      if (
        result !== null && typeof result === "object" && typeof (result as PromiseLike<unknown>).then === "function"
      ) {
        (result as PromiseLike<unknown>).then(
          (value) => this.#reply(channel, name, [id, true, value]),
          (error) => this.#reply(channel, name, [id, false, serializeError(error)]),
        );
      } else {
        this.#reply(channel, name, [id, true, result]);
      }
      return;
    }
    // A coroutine runs as a task of the runner (closing the runner cancels it), inside its caller's scope.
    const task = caller === undefined
      ? this.#loop.spawn(fn, args)
      : this.#loop.spawn(runInCallerScope, [caller, fn, args]);
    task.settled().then(() => {
      let reply: PortalReply;
      try {
        reply = [id, true, task.unwrap()];
      } catch (error) {
        const cause = error instanceof CancelledError
          ? new CancelledError(
            `The threads portal call '${name}' was cancelled: the caller of the worker's thread call was ` +
              `cancelled, or the runner closed`,
          )
          : error;
        reply = [id, false, serializeError(cause)];
      }
      this.#reply(channel, name, reply);
    });
  }

  #reply(channel: Channel, name: string, reply: PortalReply): void {
    if (Atomics.load(channel.state, PORTAL_CLOSED) !== 0) return;
    try {
      channel.port.postMessage(reply);
    } catch (error) {
      // The result cannot be cloned: send why instead (the worker must be woken either way).
      const failure = cloneError(`The result of the threads portal function '${name}'`, "back to the worker", error);
      channel.port.postMessage([reply[0], false, serializeError(failure)] satisfies PortalReply);
    }
    Atomics.add(channel.state, PORTAL_SEQ, 1);
    Atomics.notify(channel.state, PORTAL_SEQ);
  }
}

/**
 * Runs `fn(...args)` in a scope inside `caller`'s scope, as the body of a
 * portal task: cancelling the caller cancels it, and so does cancelling the
 * task itself (closing the runner), even once the caller's scopes are gone.
 */
async function runInCallerScope(caller: PortalCaller, fn: AnyFunction, args: unknown[]): Promise<unknown> {
  const own = currentScope()!;
  const scope = new CancelScope(caller.scope, own.task);
  // The caller was cancelled before the request came (it may have left, with onCancel "abandon"): level-triggered.
  if (caller.cancelled || own.isCancelled()) scope.cancel();
  const watcher = new CallbackWaiter(() => scope.cancel(), "portal");
  own.addWaiter(watcher);
  scope.enter();
  try {
    return await currentScopeVar.run(scope, () => fn(...args));
  } finally {
    scope.exit();
    own.removeWaiter(watcher);
  }
}
