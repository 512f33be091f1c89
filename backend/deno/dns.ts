/**
 * Deno name resolution (`Deno.resolveDns`) and error codes.
 *
 * @module
 */

import { lookupError, withPosixCode } from "../_net/errors.ts";

/**
 * Resolves `host` to its IPv6 and IPv4 addresses (AAAA and A at once).
 *
 * @param host A host name.
 * @param signal Aborts both lookups.
 */
export async function resolve(host: string, signal: AbortSignal): Promise<string[]> {
  const options = { signal };
  const [v6, v4] = await Promise.allSettled([
    Deno.resolveDns(host, "AAAA", options),
    Deno.resolveDns(host, "A", options),
  ]);
  const addresses = [...(v6.status === "fulfilled" ? v6.value : []), ...(v4.status === "fulfilled" ? v4.value : [])];
  if (addresses.length === 0) throw lookupError(host, v4.status === "rejected" ? v4.reason : undefined);
  return addresses;
}

/** Gives a Deno error its POSIX `code` (the class is kept). */
export function mapError(error: unknown): unknown {
  return withPosixCode(error);
}
