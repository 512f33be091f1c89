/**
 * Address choice, the same on every runtime: IP literals, the RFC 8305 order,
 * family matching between a local and a remote address, and the canonical form
 * used to compare peers.
 *
 * @module
 */

import type { SocketAddress } from "../abc/socket.ts";
import { suspend } from "../_core/checkpoint.ts";
import type { NetDriver } from "./driver.ts";

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:.]+(%[0-9a-zA-Z._-]+)?$/;

/** `true` for an IPv6 address literal. */
export function isIPv6(address: string): boolean {
  return address.includes(":");
}

/** Strips the brackets of an IPv6 literal. */
export function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** `true` when `host` is an IPv4 or IPv6 literal (brackets allowed around IPv6). */
export function isIPLiteral(host: string): boolean {
  const bare = unbracket(host);
  return IPV4.test(bare) || (isIPv6(bare) && IPV6.test(bare));
}

/** A {@linkcode SocketAddress} from a runtime's host and port, either possibly missing. */
export function socketAddress(hostname: string | undefined, port: number | undefined): SocketAddress {
  return { hostname: hostname ?? "", port: port ?? 0 };
}

/** The same address in a canonical form, to compare peers (IPv4-mapped IPv6 as IPv4). */
export function addressKey(address: SocketAddress): string {
  let host = unbracket(address.hostname).toLowerCase();
  if (host.startsWith("::ffff:") && IPV4.test(host.slice(7))) host = host.slice(7);
  return `${host}|${address.port}`;
}

/**
 * Orders addresses as RFC 8305 section 4 asks: alternate the address families,
 * starting with the family of the first address, keeping the order within each.
 *
 * @param addresses Resolved addresses, preferred first.
 */
export function interleaveAddresses(addresses: readonly string[]): string[] {
  if (addresses.length === 0) return [];
  const firstIsV6 = isIPv6(addresses[0]);
  const first = addresses.filter((address) => isIPv6(address) === firstIsV6);
  const second = addresses.filter((address) => isIPv6(address) !== firstIsV6);
  const result: string[] = [];
  for (let i = 0; i < Math.max(first.length, second.length); i++) {
    if (i < first.length) result.push(first[i]);
    if (i < second.length) result.push(second[i]);
  }
  return result;
}

/**
 * The addresses of `candidates` in the family of `local` (all of them when
 * `local` is `undefined`); throws a `RangeError` naming `what` when none is left.
 *
 * @param candidates Resolved remote addresses.
 * @param local The resolved local address, if any.
 * @param what What failed to match, for the message.
 */
export function sameFamily(candidates: readonly string[], local: string | undefined, what: string): string[] {
  if (local === undefined) return [...candidates];
  const matching = candidates.filter((address) => isIPv6(address) === isIPv6(local));
  if (matching.length === 0) throw new RangeError(what);
  return matching;
}

/** The wildcard address of the family of `address` (`"::"` or `"0.0.0.0"`). */
export function wildcardOf(address: string | undefined): string {
  return address !== undefined && isIPv6(address) ? "::" : "0.0.0.0";
}

/**
 * Resolves `host` with the driver, as a checkpoint (a cancelled lookup is
 * aborted where the runtime can, else forgotten); an IP literal resolves to
 * itself without a lookup.
 *
 * @param driver The runtime's driver.
 * @param host A host name or IP literal.
 */
export function resolveHost(driver: NetDriver<unknown>, host: string): Promise<string[]> {
  if (isIPLiteral(host)) return suspend<string[]>((resolve) => resolve([unbracket(host)]));
  return suspend<string[]>((resolve, reject) => {
    const controller = new AbortController();
    driver.resolve(host, controller.signal).then(resolve, reject);
    return () => controller.abort();
  }, "dns");
}
