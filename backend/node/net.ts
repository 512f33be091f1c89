/**
 * Node networking helpers: name resolution, addresses, errors.
 *
 * @module
 */

import { lookup } from "node:dns";
import { isIP } from "node:net";
import type { SocketAddress } from "../abc/socket.ts";
import { suspend } from "../_core/checkpoint.ts";
import { lookupError, withPosixCode } from "../_net/errors.ts";

/** `true` when `host` is an IPv4 or IPv6 literal (brackets allowed around IPv6). */
export function isIPLiteral(host: string): boolean {
  return isIP(unbracket(host)) !== 0;
}

/** Strips the brackets of an IPv6 literal. */
export function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** The same address in a canonical form, to compare peers. */
export function addressKey(address: SocketAddress): string {
  let host = unbracket(address.hostname).toLowerCase();
  if (host.startsWith("::ffff:") && isIP(host.slice(7)) === 4) host = host.slice(7);
  return `${host}|${address.port}`;
}

/** Builds a {@linkcode SocketAddress} from Node's `address`/`port` pair. */
export function toSocketAddress(hostname: string | undefined, port: number | undefined): SocketAddress {
  return { hostname: hostname ?? "", port: port ?? 0 };
}

/** Gives a Node error its POSIX `code` when it has none (Node's system errors already carry one). */
export function nodeError<E>(error: E): E {
  return withPosixCode(error);
}

/**
 * Resolves `host` to its addresses (`dns.lookup`, every family, in the
 * resolver's order); an IP literal resolves to itself. A checkpoint; rejects
 * with an `ENOTFOUND` error when there is no address.
 *
 * @param host A host name or IP literal.
 */
export function resolveHost(host: string): Promise<string[]> {
  if (isIPLiteral(host)) return suspend<string[]>((resolve) => resolve([unbracket(host)]));
  return suspend<string[]>((resolve, reject) => {
    let active = true;
    lookup(host, { all: true, verbatim: true }, (error, addresses) => {
      if (!active) return;
      active = false;
      if (error !== null || addresses.length === 0) reject(lookupError(host, error ?? undefined));
      else resolve([...new Set(addresses.map((entry) => entry.address))]);
    });
    // dns.lookup runs on the thread pool and cannot be aborted: a cancelled wait forgets it.
    return () => void (active = false);
  });
}
