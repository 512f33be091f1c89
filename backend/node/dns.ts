/**
 * Node name resolution (`dns.lookup`) and error codes.
 *
 * @module
 */

import { lookup } from "node:dns";
import { lookupError, withPosixCode } from "../_net/errors.ts";

/**
 * Resolves `host` to its addresses (every family, in the resolver's order).
 * `dns.lookup` runs on the thread pool and cannot be aborted: an aborted lookup
 * is forgotten.
 *
 * @param host A host name.
 * @param _signal Unused (see above).
 */
export function resolve(host: string, _signal: AbortSignal): Promise<string[]> {
  return new Promise<string[]>((resolve, reject) => {
    lookup(host, { all: true, verbatim: true }, (error, addresses) => {
      if (error !== null || addresses.length === 0) reject(lookupError(host, error ?? undefined));
      else resolve([...new Set(addresses.map((entry) => entry.address))]);
    });
  });
}

/** Gives a Node error its POSIX `code` when it has none (Node's system errors already carry one). */
export function mapError(error: unknown): unknown {
  return withPosixCode(error);
}
