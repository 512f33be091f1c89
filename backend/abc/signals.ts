/**
 * Receiving operating-system signals.
 *
 * @module
 */

/**
 * Receives the OS signals it was opened for (`AsyncBackend.openSignalReceiver`),
 * by name (`"SIGTERM"`), while it is open.
 *
 * A signal that arrives while no task is receiving waits in the receiver; a
 * signal that arrives again before it was received is delivered once (as
 * Trio's `open_signal_receiver` does), so at most one of each name waits.
 * Receiving is a checkpoint, even when a signal is waiting.
 *
 * While the receiver is open, the runtime's default action for its signals
 * (ending the process on `SIGINT` or `SIGTERM`) does not happen. Close it, or
 * declare it with `using`, to give them back: leaving a `for await` loop early
 * does not close it. Signals still waiting when it closes are dropped. While a
 * task waits in it, the receiver keeps the process alive (the runtimes' own
 * signal listeners do not).
 *
 * @example Receive one signal
 * ```ts
 * import process from "node:process";
 * import { DenoBackend } from "@easynetwork/async-backend/backend/deno";
 *
 * const backend = new DenoBackend();
 * await backend.bootstrap(async () => {
 *   using signals = backend.openSignalReceiver(["SIGUSR2"]);
 *   process.kill(process.pid, "SIGUSR2");
 *   console.log(await signals.receive()); // "SIGUSR2"
 * });
 * ```
 */
export interface SignalReceiver extends AsyncIterable<string>, Disposable {
  /**
   * Waits for the next signal and returns its name: the oldest waiting one, if
   * any, after a yield. A checkpoint: a cancelled receive takes no signal.
   *
   * @throws {ClosedResourceError} when the receiver is closed, also while waiting.
   */
  receive(): Promise<string>;
  /**
   * Removes the runtime listeners and wakes waiting receives with
   * `ClosedResourceError`. Idempotent.
   */
  close(): void;
  /** `true` once {@linkcode SignalReceiver.close} was called. */
  readonly closed: boolean;
  /** Yields each signal as {@linkcode SignalReceiver.receive} returns it; each step is a checkpoint. */
  [Symbol.asyncIterator](): AsyncIterator<string>;
}
