/**
 * Push-model sockets (Node's `net.Socket` and `tls.TLSSocket`, also Deno's
 * `node:` sockets) on their way to a stream adapter: waiting for a connecting
 * socket, and a connected one as a {@linkcode StreamConn}.
 *
 * @module
 */

import type { SocketAddress } from "../abc/socket.ts";
import { socketAddress } from "./address.ts";
import type { AddressOf, EventSocket, StreamConn } from "./driver.ts";

/** Where a socket keeps its local address once {@linkcode pinAddresses} read it. */
const LOCAL: unique symbol = Symbol("localAddress");

type PinnedSocket = EventSocket & { [LOCAL]?: SocketAddress };

/**
 * Reads a socket's local address into the socket, once: Node forgets it with
 * the socket's handle (destroyed by a reset, an error or `close`), so the
 * stream adapter's I/O pins it before the socket reads (when it resumes it)
 * and again at close and detach. (The peer's address is read at once: the
 * system forgets it when the peer resets the connection, idle or not.)
 *
 * @param socket A connected socket.
 */
export function pinAddresses(socket: EventSocket): void {
  (socket as PinnedSocket)[LOCAL] ??= socketAddress(socket.localAddress, socket.localPort);
}

const localOf: AddressOf = (raw) => {
  pinAddresses(raw as EventSocket);
  return (raw as PinnedSocket)[LOCAL]!;
};

/**
 * A connected push-model socket as a {@linkcode StreamConn}: the peer's address
 * read now, the local one when first asked or pinned (see {@linkcode pinAddresses}).
 */
export function eventSocketStream(socket: EventSocket): StreamConn {
  return { kind: "push", socket, local: localOf, remote: socketAddress(socket.remoteAddress, socket.remotePort) };
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
