/**
 * Deno UDP (`Deno.listenDatagram`, which needs `--unstable-net`). Deno has no
 * UDP `connect`: the shared adapter filters a remote peer's datagrams.
 *
 * @module
 */

import type { SocketAddress } from "../abc/socket.ts";
import { unbracket } from "../_net/address.ts";
import type { Datagram, DatagramConn } from "../_net/driver.ts";
import { describe } from "../_util/validate.ts";
import { toSocketAddress } from "./tcp.ts";

/** Throws unless Deno's UDP API is there (it needs `--unstable-net`). */
export function requireUdp(method: string): void {
  if (typeof (Deno as { listenDatagram?: unknown }).listenDatagram !== "function") {
    throw new Error(
      `${method}() needs Deno's UDP API, which is unstable: run Deno with the --unstable-net flag ` +
        `(or add "unstable": ["net"] to deno.json)`,
    );
  }
}

function toDatagram([data, addr]: [Uint8Array, Deno.Addr]): Datagram {
  return [data, toSocketAddress(addr)];
}

function datagramConn(conn: Deno.DatagramConn): DatagramConn {
  return {
    kind: "pull",
    receive: () => conn.receive().then(toDatagram),
    send: (data, target, done) =>
      void conn.send(data, { transport: "udp", hostname: unbracket(target.hostname), port: target.port }).then(
        () => done(null),
        done,
      ),
    close: () => conn.close(),
    raw: conn,
    local: toSocketAddress(conn.addr),
    remote: null,
  };
}

/** Binds a UDP socket to `local` (the adapter keeps to `remote`). */
export function openUdp(local: SocketAddress, _remote: SocketAddress | null, reusePort: boolean): DatagramConn {
  return datagramConn(Deno.listenDatagram({
    transport: "udp",
    hostname: local.hostname,
    port: local.port,
    reuseAddress: reusePort,
  }));
}

/** `value` as a UDP `Deno.DatagramConn`. */
export function wrapUdp(value: unknown): DatagramConn {
  const candidate = value as Partial<Deno.DatagramConn> | null;
  if (
    typeof candidate !== "object" || candidate === null || typeof candidate.receive !== "function" ||
    typeof candidate.send !== "function" || candidate.addr?.transport !== "udp"
  ) {
    throw new TypeError(`The 'sock' argument must be a UDP Deno.DatagramConn, got ${describe(value)}`);
  }
  return datagramConn(candidate as Deno.DatagramConn);
}
