/**
 * Deno TCP: `Deno.connect`, `Deno.listen`, and the connections the driver
 * hands to the shared adapters. Binding a local address before connecting has
 * no Deno API: that one case goes through `node:net` (`_node_compat.ts`,
 * loaded on first use).
 *
 * @module
 */

import type { SocketAddress } from "../abc/socket.ts";
import { type CancelScope, currentScopeVar } from "../_core/cancel_scope.ts";
import { socketAddress } from "../_net/address.ts";
import type { EventSocket, ListenerConn, StreamConn } from "../_net/driver.ts";
import { eventSocketStream } from "../_net/push_connect.ts";
import { describe } from "../_util/validate.ts";
import { mapError } from "./dns.ts";

type NodeCompat = typeof import("./_node_compat.ts");
const NO_SCOPE = undefined as unknown as CancelScope;
let nodeCompat: Promise<NodeCompat> | undefined;

/**
 * Loads Deno's `node:` fallback (`_node_compat.ts`) on first use, so that a
 * program that never binds before connecting nor upgrades a server connection
 * never loads Deno's Node-compat network stack.
 *
 * The import runs outside any task's context: a module's evaluation, and the
 * Node-compat machinery it starts, keep the async context of whoever imported
 * it, and callbacks from that machinery would later run in a finished task's
 * cancel scope (seen as a portal call after its runner closed finding a
 * cancelled root scope as its `currentScope()`).
 */
export function loadNodeCompat(): Promise<NodeCompat> {
  return nodeCompat ??= currentScopeVar.run(NO_SCOPE, () => import("./_node_compat.ts"));
}

/** A Deno connection, or a `node:net` socket of the bind-before-connect fallback. */
export type DenoConn = Deno.Conn | EventSocket;

/** `true` for a Deno connection (not a `node:` socket). */
export function isDenoConn(conn: DenoConn): conn is Deno.Conn {
  return "remoteAddr" in conn;
}

/** A Deno address as a {@linkcode SocketAddress}. */
export function toSocketAddress(addr: Deno.Addr): SocketAddress {
  if (addr.transport === "tcp" || addr.transport === "udp") return socketAddress(addr.hostname, addr.port);
  return socketAddress("path" in addr ? String(addr.path ?? "") : "", 0);
}

/** One connection attempt to an IP address (from `local` through `node:net`). */
export function connect(
  address: string,
  port: number,
  local: SocketAddress | undefined,
  signal: AbortSignal,
): Promise<DenoConn> {
  if (local !== undefined) {
    return loadNodeCompat().then((compat) => compat.connectFromLocalAddress(address, port, local, signal));
  }
  return connectUnsignalled(address, port, signal);
}

/**
 * How long a cancelled `Deno.connect` may stay in flight before it is aborted
 * after all (a connect to a host that never answers would otherwise hold its
 * socket, and keep the process alive, until the kernel gives up: minutes).
 */
const LATE_ABORT_MS = 2_000;

/**
 * `Deno.connect` without its `signal`: Deno 2.9's `Deno.connect({ signal })`
 * aborted just as the connection completes leaks it (the connection is made,
 * the promise rejects, nobody can close it). So the attempt is not aborted: a
 * cancelled call rejects at once, and the connection it makes anyway is closed
 * when it arrives. Only a connect still pending {@linkcode LATE_ABORT_MS} after
 * the cancellation (a silent host) is aborted, far from the moment it completes.
 */
function connectUnsignalled(hostname: string, port: number, signal: AbortSignal): Promise<Deno.Conn> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<Deno.Conn>((resolve, reject) => {
    const late = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      reject(signal.reason);
      timer = setTimeout(() => late.abort(), LATE_ABORT_MS);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    Deno.connect({ hostname, port, signal: late.signal }).then((conn) => {
      signal.removeEventListener("abort", onAbort);
      clearTimeout(timer);
      if (signal.aborted) close(conn);
      else resolve(conn);
    }, (error) => {
      signal.removeEventListener("abort", onAbort);
      clearTimeout(timer);
      reject(mapError(error));
    });
  });
}

/** Closes a connection. */
export function close(conn: DenoConn): void {
  if (!isDenoConn(conn)) return void conn.destroy();
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** The peer's address. */
export function remoteAddress(conn: DenoConn): SocketAddress {
  return isDenoConn(conn) ? toSocketAddress(conn.remoteAddr) : socketAddress(conn.remoteAddress, conn.remotePort);
}

/** The local address of a Deno connection (the adapter's `socket()`), read when first asked. */
const localOf = (conn: unknown): SocketAddress => toSocketAddress((conn as Deno.Conn).localAddr);
/** The peer's address of a Deno connection (the adapter's `socket()`), read when first asked. */
const remoteOf = (conn: unknown): SocketAddress => toSocketAddress((conn as Deno.Conn).remoteAddr);

/**
 * A connection as a stream (addresses given when the connection lost them: `Deno.startTls` drops the port).
 * A Deno connection keeps its addresses for good, so the adapter reads them when first asked: an idle
 * connection holds no address object of its own.
 */
export function stream(conn: DenoConn, addresses?: { local: Deno.Addr; remote: Deno.Addr }): StreamConn {
  if (!isDenoConn(conn)) return eventSocketStream(conn);
  if (addresses === undefined) return { kind: "pull", conn, local: localOf, remote: remoteOf };
  return { kind: "pull", conn, local: toSocketAddress(addresses.local), remote: toSocketAddress(addresses.remote) };
}

/** `true` for a plain (not TLS) `Deno.TcpConn`. */
export function isPlainTcp(conn: unknown): conn is Deno.TcpConn {
  const candidate = conn as Partial<Deno.TcpConn> | null;
  return typeof candidate === "object" && candidate !== null && typeof candidate.read === "function" &&
    typeof candidate.closeWrite === "function" && candidate.remoteAddr?.transport === "tcp" &&
    (candidate as { handshake?: unknown }).handshake === undefined;
}

/** `value` as a connected `Deno.TcpConn`. */
export function tcpConn(value: unknown): DenoConn {
  if (!isPlainTcp(value)) {
    throw new TypeError(`The 'conn' argument must be a connected Deno.TcpConn, got ${describe(value)}`);
  }
  return value;
}

/** A `Deno.Listener` for the listener adapter. */
export function listenerConn(listener: Deno.Listener): ListenerConn<DenoConn> {
  return {
    kind: "pull",
    accept: () => listener.accept(),
    close: () => listener.close(),
    raw: listener,
    local: toSocketAddress(listener.addr),
  };
}

/** Binds a TCP listener. */
export function listen(hostname: string, port: number, backlog: number, reusePort: boolean): ListenerConn<DenoConn> {
  return listenerConn(Deno.listen({ hostname, port, tcpBacklog: backlog, reusePort }));
}

let ipv6: boolean | undefined;

/** `"::"` when IPv6 works (dual-stack: Deno cannot set IPV6_V6ONLY), else `"0.0.0.0"`. */
export function anyAddress(): string {
  if (ipv6 === undefined) {
    try {
      Deno.listen({ hostname: "::", port: 0 }).close();
      ipv6 = true;
    } catch {
      ipv6 = false;
    }
  }
  return ipv6 ? "::" : "0.0.0.0";
}
