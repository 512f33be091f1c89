/**
 * Push-model sockets (Node's `net.Socket` and `tls.TLSSocket`, also Deno's
 * `node:` sockets) on their way to a stream adapter: waiting for a connecting
 * socket, and a connected one as a {@linkcode StreamConn}.
 *
 * @module
 */

import { socketAddress } from "./address.ts";
import type { EventSocket, StreamConn } from "./driver.ts";

/** A connected push-model socket as a {@linkcode StreamConn}, its addresses read from the socket. */
export function eventSocketStream(socket: EventSocket): StreamConn {
  return {
    kind: "push",
    socket,
    local: socketAddress(socket.localAddress, socket.localPort),
    remote: socketAddress(socket.remoteAddress, socket.remotePort),
  };
}

/**
 * Waits for a connecting socket's `'connect'` (the socket is paused, so no byte
 * is read before an adapter takes it); destroys it on error or when `signal`
 * aborts.
 *
 * @param socket A socket that is connecting.
 * @param signal Aborts the attempt.
 * @param mapError Gives the socket's error its POSIX `code`.
 */
export function whenConnected<S extends EventSocket>(
  socket: S,
  signal: AbortSignal,
  mapError: (error: unknown) => unknown,
): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    socket.pause();
    const onAbort = () => {
      socket.destroy();
      reject(new DOMException("The connection attempt was aborted", "AbortError"));
    };
    const onError = (error: unknown) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(mapError(error));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      signal.removeEventListener("abort", onAbort);
      socket.off("error", onError);
      resolve(socket);
    });
    socket.once("error", onError);
  });
}
