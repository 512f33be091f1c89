/**
 * Contracts for running code in worker threads and calling back into the loop.
 *
 * @module
 */

/** Any function type; the bound of function type parameters. */
// deno-lint-ignore no-explicit-any
export type AnyFunction = (...args: any[]) => any;

/** What to do when the caller of `runInThread` is cancelled. */
export interface RunInThreadOptions {
  /**
   * `"wait"` (default): wait for the function to finish, then reject with
   * `CancelledError`. `"abandon"`: reject at once and let the function finish
   * unobserved. `"terminate"`: reject at once and terminate the worker.
   */
  onCancel?: "wait" | "abandon" | "terminate";
}

/**
 * A reference to a function exported by a worker module: module URL and export
 * name. `F` is the function's type, so calls are typed.
 */
export interface ThreadFunction<F extends AnyFunction = AnyFunction> {
  /** The module's URL. */
  readonly moduleUrl: string;
  /** The export's name. */
  readonly exportName: string;
  /** Per-call options. */
  readonly options?: RunInThreadOptions;
  /** Phantom member carrying the function type; never set. */
  readonly __fn?: F;
}

/**
 * A portal to functions of the loop's thread, usable from worker threads: each
 * call blocks the worker until the loop has run the function.
 *
 * A call made by a worker while it runs a `runInThread()` job runs inside the
 * cancel scope of that job's caller (AnyIO's `from_thread`): cancelling the
 * caller cancels the pending call, which then throws `CancelledError` in the
 * worker, so the job can end and `runInThread()` settle promptly. A call made
 * outside any job runs under the runner. After the runner closes, calls throw.
 */
export interface ThreadsPortal<F extends Record<string, AnyFunction>> {
  /** Runs `functions[name](...args)` on the loop, blocking this worker; returns its result or throws its error. */
  runSync<K extends keyof F & string>(name: K, ...args: Parameters<F[K]>): Awaited<ReturnType<F[K]>>;
  /** Runs the async `functions[name](...args)` on the loop, blocking this worker until it settles. */
  runCoroutine<K extends keyof F & string>(name: K, ...args: Parameters<F[K]>): Awaited<ReturnType<F[K]>>;
  /** Like {@linkcode ThreadsPortal.runCoroutine}, without blocking the worker. */
  call<K extends keyof F & string>(name: K, ...args: Parameters<F[K]>): Promise<Awaited<ReturnType<F[K]>>>;
}

/** A promise-like that may be cancelled, such as an executor's future. */
export interface CancellableFuture<T> extends PromiseLike<T> {
  /** Requests cancellation of the underlying work. */
  cancel?(): unknown;
  /** `true` when the future was cancelled. */
  cancelled?(): boolean;
}
