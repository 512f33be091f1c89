/**
 * TLS written once: option checks and defaults, and the handshake bound, a
 * deadline scope of the core (as `timeout()` makes) around the driver's
 * handshake, so it follows the runner's clock like every other deadline. The
 * driver only starts TLS on a connection and runs the handshake until it ends,
 * fails, or its signal aborts (then it closes everything).
 *
 * @module
 */

import { suspend } from "../_core/checkpoint.ts";
import type { TimerHost } from "../_core/timers.ts";
import { timeout } from "../_core/timeouts.ts";
import type { NetDriver, StreamConn } from "./driver.ts";
import { handshakeTimeoutError } from "./errors.ts";
import type { StreamSocket } from "./stream_socket.ts";
import { TlsStreamSocket } from "./tls_session.ts";
import { DEFAULT_HANDSHAKE_TIMEOUT } from "./validate.ts";
import { assertDelay } from "../_util/validate.ts";

export { assertTlsOptions } from "./validate.ts";

/** Checks and defaults `sslHandshakeTimeout`, in ms. */
export function handshakeTimeout(options: { sslHandshakeTimeout?: number }): number {
  const ms = options.sslHandshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  assertDelay(ms, "sslHandshakeTimeout");
  return ms;
}

/**
 * Runs a handshake as a checkpoint bounded by `ms`: rejects with an `ETIMEDOUT`
 * error when the deadline passes first. On failure, timeout or cancellation the
 * connection is closed (by the driver once `start` ran, else by `abandon`).
 *
 * @param timers The runner's clock.
 * @param ms The bound, in ms (`Infinity`: none).
 * @param start Starts the handshake; gives up and closes everything when `signal` aborts.
 * @param abandon Closes the connection when `start` never ran.
 */
export async function boundedHandshake(
  timers: TimerHost,
  ms: number,
  start: (signal: AbortSignal) => Promise<StreamConn>,
  abandon: () => void,
): Promise<StreamConn> {
  let started = false;
  const run = () =>
    suspend<StreamConn>((resolve, reject) => {
      started = true;
      const controller = new AbortController();
      start(controller.signal).then(resolve, reject);
      return () => controller.abort();
    }, "tls handshake");
  try {
    if (ms === Infinity) return await run();
    return await timeout(timers, ms, run);
  } catch (error) {
    if (!started) abandon();
    if (error instanceof DOMException && error.name === "TimeoutError") throw handshakeTimeoutError(ms);
    throw error;
  }
}

/**
 * A TLS stream over `conn` (owned from now on): runs `start` (the driver's
 * client, server or accepted-connection handshake) bounded by `ms`.
 *
 * @param driver The runtime's driver.
 * @param timers The runner's clock.
 * @param conn The plain connection, closed on failure, timeout or cancellation.
 * @param ms The handshake bound, in ms.
 * @param start The driver's handshake over `conn`.
 */
export async function tlsStream<C>(
  driver: NetDriver<C>,
  timers: TimerHost,
  conn: C,
  ms: number,
  start: (signal: AbortSignal) => Promise<StreamConn>,
): Promise<StreamSocket> {
  const secure = await boundedHandshake(timers, ms, start, () => driver.close(conn));
  return new TlsStreamSocket(secure, driver.mapError);
}
