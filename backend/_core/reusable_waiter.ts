/**
 * A reusable checkpoint for operations that run one at a time (a socket's
 * receive, its send): the hot path of the adapters.
 *
 * @module
 */

import type { CancelledError } from "../errors.ts";
import { type CancelScope, currentScope, Waiter } from "./cancel_scope.ts";

/**
 * The waiting side of one-at-a-time operations, reused from call to call: each
 * call costs its promise and nothing else (no waiter, closure or node per call,
 * unlike `suspend`). The owner starts the runtime operation after
 * {@linkcode ReusableWaiter.begin} and settles the call with
 * {@linkcode ReusableWaiter.resolve} or {@linkcode ReusableWaiter.reject}; a cancellation of
 * the caller's scope settles it with `CancelledError` after calling the owner's
 * `onAbort`. Settling an idle slot does nothing, so late results of an
 * operation whose call already left cannot reach the next call, provided the
 * owner routes each result to the call it belongs to.
 */
export class ReusableWaiter<T> extends Waiter {
  #resolve: ((value: T) => void) | null = null;
  #reject: ((error: unknown) => void) | null = null;
  #scope: CancelScope | null = null;
  #onSettled: (() => void) | undefined = undefined;
  #onAbort: () => void;
  #kind: string;
  readonly #executor = (resolve: (value: T) => void, reject: (error: unknown) => void): void => {
    this.#resolve = resolve;
    this.#reject = reject;
  };

  /**
   * @param onAbort Called when a call is cancelled while waiting, before it rejects.
   * @param kind What a call waits for, as the task tree shows it (`"recv"`, `"send"`, `"accept"`).
   */
  constructor(onAbort: () => void, kind = "recv") {
    super();
    this.#onAbort = onAbort;
    this.#kind = kind;
  }

  override get waitKind(): string {
    return this.#kind;
  }

  /** `true` while a call waits. */
  get waiting(): boolean {
    return this.#resolve !== null;
  }

  /**
   * Begins a call (a checkpoint): a promise rejected at once, with `onSettled`
   * called, when the caller's scope is cancelled (check {@linkcode waiting}
   * before starting anything), else a pending one.
   *
   * @param onSettled Called once when this call ends, however it ends (the
   *   refusal in a cancelled scope included): gives a busy slot back.
   */
  begin(onSettled?: () => void): Promise<T> {
    const scope = currentScope();
    if (scope !== undefined && scope.isCancelled()) {
      onSettled?.();
      return Promise.reject(scope.cancelledError());
    }
    this.#onSettled = onSettled;
    const promise = new Promise<T>(this.#executor);
    if (scope !== undefined) {
      this.#scope = scope;
      scope.addWaiter(this);
    }
    return promise;
  }

  /** Resolves the waiting call; does nothing when none waits. */
  resolve(value: T): void {
    const resolve = this.#resolve;
    if (resolve === null) return;
    this.#end();
    resolve(value);
  }

  /** Rejects the waiting call; does nothing when none waits. */
  reject(error: unknown): void {
    const reject = this.#reject;
    if (reject === null) return;
    this.#end();
    reject(error);
  }

  /** The scope was cancelled: the owner's `onAbort`, then `CancelledError`. */
  abort(error: CancelledError): void {
    const reject = this.#reject;
    if (reject === null) return;
    this.#end();
    let failure: unknown = error;
    try {
      this.#onAbort();
    } catch (abortError) {
      failure = abortError;
    }
    reject(failure);
  }

  #end(): void {
    this.#scope?.removeWaiter(this);
    this.#scope = null;
    this.#resolve = null;
    this.#reject = null;
    const onSettled = this.#onSettled;
    this.#onSettled = undefined;
    onSettled?.();
  }
}
