/**
 * Deno networking helpers: name resolution, addresses, errors, the unstable flag.
 *
 * @module
 */

import type { SocketAddress } from "../abc/socket.ts";
import { suspend } from "../_core/checkpoint.ts";
import { isIPv6 } from "../_net/happy_eyeballs.ts";
import { lookupError, withPosixCode } from "../_net/errors.ts";

/** A Deno stream connection as the adapters use it (`Deno.TcpConn`, `Deno.TlsConn` or a shim). */
export interface ByteConn {
  /** Reads into `p`; `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some of `p`; resolves the count. */
  write(p: Uint8Array): Promise<number>;
  /** Closes the write side. */
  closeWrite(): Promise<void>;
  /** Closes the connection. */
  close(): void;
  /** The local address. */
  readonly localAddr: Deno.Addr;
  /** The peer's address. */
  readonly remoteAddr: Deno.Addr;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** `true` when `host` is an IPv4 or IPv6 literal (brackets allowed around IPv6). */
export function isIPLiteral(host: string): boolean {
  return IPV4.test(host) || (isIPv6(host) && /^\[?[0-9a-fA-F:.%a-zA-Z0-9]+\]?$/.test(host));
}

/** Strips the brackets of an IPv6 literal. */
export function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** Converts a Deno address to a {@linkcode SocketAddress}. */
export function toSocketAddress(addr: Deno.Addr): SocketAddress {
  if (addr.transport === "tcp" || addr.transport === "udp") return { hostname: addr.hostname, port: addr.port };
  return { hostname: "path" in addr ? String(addr.path) : "", port: 0 };
}

/** The same address in a canonical form, to compare peers. */
export function addressKey(address: SocketAddress): string {
  let host = unbracket(address.hostname).toLowerCase();
  if (host.startsWith("::ffff:") && IPV4.test(host.slice(7))) host = host.slice(7);
  return `${host}|${address.port}`;
}

/** Gives a Deno error its POSIX `code` (the class is kept). */
export function denoError<E>(error: E): E {
  return withPosixCode(error);
}

/**
 * Resolves `host` to its IPv6 and IPv4 addresses (`Deno.resolveDns`, AAAA and A
 * at once); an IP literal resolves to itself. A checkpoint; rejects with an
 * `ENOTFOUND` error when there is no address.
 *
 * @param host A host name or IP literal.
 */
export function resolveHost(host: string): Promise<string[]> {
  if (isIPLiteral(host)) return suspend<string[]>((resolve) => resolve([unbracket(host)]));
  return suspend<string[]>((resolve, reject) => {
    const controller = new AbortController();
    const options = { signal: controller.signal };
    const lookups = [Deno.resolveDns(host, "AAAA", options), Deno.resolveDns(host, "A", options)];
    Promise.allSettled(lookups).then(([v6, v4]) => {
      if (controller.signal.aborted) return;
      const addresses = [
        ...(v6.status === "fulfilled" ? v6.value : []),
        ...(v4.status === "fulfilled" ? v4.value : []),
      ];
      if (addresses.length > 0) resolve(addresses);
      else reject(lookupError(host, v4.status === "rejected" ? v4.reason : undefined));
    });
    return () => controller.abort();
  });
}

/** Throws unless Deno's UDP API is there (it needs `--unstable-net`). */
export function requireUnstableNet(method: string): void {
  if (typeof (Deno as { listenDatagram?: unknown }).listenDatagram !== "function") {
    throw new Error(
      `${method}() needs Deno's UDP API, which is unstable: run Deno with the --unstable-net flag ` +
        `(or add "unstable": ["net"] to deno.json)`,
    );
  }
}
