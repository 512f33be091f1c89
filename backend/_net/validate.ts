/**
 * Argument checks and defaults of the networking methods, with messages naming the argument.
 * They throw; async methods catch and reject.
 *
 * @module
 */

import type { SocketAddress, TcpConnectionOptions, TlsOptions } from "../abc/socket.ts";
import { assertDelay, describe } from "../_util/validate.ts";
import { assertKnownTlsOptionNames } from "./tls_option_names.ts";

/** Throws unless `value` is a port: an integer from 0 to 65535. */
export function assertPort(value: unknown, name = "port"): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`The '${name}' argument must be a number, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new RangeError(`The '${name}' argument must be an integer from 0 to 65535, got ${value}`);
  }
}

/** Throws unless `value` is a non-empty string (a host name or an IP address). */
export function assertHost(value: unknown, name = "host"): asserts value is string {
  if (typeof value !== "string") {
    throw new TypeError(`The '${name}' argument must be a string, got ${describe(value)}`);
  }
  if (value === "") throw new RangeError(`The '${name}' argument must not be an empty string`);
}

/**
 * Checks the `host` argument of a listener method: `null` (every interface), a
 * host, or a non-empty list of hosts. Returns the list (without duplicates), or `null`.
 */
export function listenHosts(value: unknown): string[] | null {
  if (value === null) return null;
  if (typeof value === "string") {
    assertHost(value);
    return [value];
  }
  if (!Array.isArray(value)) {
    throw new TypeError(`The 'host' argument must be a string, a list of strings or null, got ${describe(value)}`);
  }
  if (value.length === 0) throw new RangeError("The 'host' argument must not be an empty list");
  value.forEach((item, index) => assertHost(item, `host[${index}]`));
  return [...new Set(value as string[])];
}

/** Throws unless `value` is a backlog: a non-negative integer. */
export function assertBacklog(value: unknown): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`The 'backlog' argument must be a number, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`The 'backlog' argument must be a non-negative integer, got ${value}`);
  }
}

/** Throws unless `value` is a receive size: a positive integer. */
export function assertBufsize(value: unknown): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(`The 'bufsize' argument must be a number, got ${describe(value)}`);
  }
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`The 'bufsize' argument must be a positive integer, got ${value}`);
  }
}

/** Throws unless `value` is a `Uint8Array`. */
export function assertBytes(value: unknown, name = "data"): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`The '${name}' argument must be a Uint8Array, got ${describe(value)}`);
  }
}

/** Throws unless `value` is a non-empty `Uint8Array`, the `buffer` of `recvInto`. */
export function assertRecvBuffer(value: unknown): asserts value is Uint8Array {
  assertBytes(value, "buffer");
  if (value.length === 0) throw new RangeError("The 'buffer' argument must not be empty");
}

/** Throws unless `value` is a socket address `{ hostname, port }`. */
export function assertSocketAddress(value: unknown, name: string): asserts value is SocketAddress {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`The '${name}' argument must be an object { hostname, port }, got ${describe(value)}`);
  }
  const address = value as Partial<SocketAddress>;
  assertHost(address.hostname, `${name}.hostname`);
  assertPort(address.port, `${name}.port`);
}

/** Returns a boolean option: `false` when `undefined`; throws a `TypeError` naming it for anything but a boolean. */
export function booleanOption(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new TypeError(`The '${name}' option must be a boolean, got ${describe(value)}`);
  }
  return value;
}

/** Throws unless `value` is `undefined` or an object; returns it or `{}`. */
export function optionsObject<T extends object>(value: T | undefined, name = "options"): T {
  if (value === undefined) return {} as T;
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`The '${name}' argument must be an object, got ${describe(value)}`);
  }
  return value;
}

function assertStringList(value: unknown, name: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw new TypeError(`The '${name}' option must be a list of strings, got ${describe(value)}`);
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * Throws unless `pem` holds at least one PEM block whose label `accepts` and
 * whose body is base64 of a DER `SEQUENCE`: a syntax check written once, so
 * that every backend refuses a string that is no certificate or key when the
 * socket or listener is created, not at each handshake. (A runtime may check
 * more, such as a key that does not match its certificate.)
 */
function assertPem(pem: string, name: string, what: string, accepts: (label: string) => boolean): void {
  let found = false;
  for (const [, label, body] of pem.matchAll(PEM_BLOCK)) {
    // RFC 1421 headers (`Proc-Type: ...`) precede the base64 of legacy encrypted keys.
    const base64 = body.split("\n").filter((line) => !line.includes(":")).join("").replace(/\s+/g, "");
    let first = -1;
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
      try {
        first = atob(base64.slice(0, 4)).charCodeAt(0);
      } catch {
        first = -1;
      }
    }
    if (!accepts(label) || first !== 0x30) {
      throw new TypeError(`The '${name}' option must be ${what} in PEM format; its '${label}' block is not one`);
    }
    found = true;
  }
  if (!found) {
    const start = pem.length > 24 ? `${JSON.stringify(pem.slice(0, 24))}...` : JSON.stringify(pem);
    throw new TypeError(`The '${name}' option must be ${what} in PEM format (-----BEGIN ...), got ${start}`);
  }
}

const isCertificate = (label: string) => label === "CERTIFICATE" || label.endsWith(" CERTIFICATE");
const isPrivateKey = (label: string) => label.endsWith("PRIVATE KEY");

/**
 * Throws unless `value` is a TLS options object `{ caCerts?, cert?, key?, alpnProtocols? }`
 * whose certificates and key are PEM text; any other option name is refused
 * with what to use instead.
 */
export function assertTlsOptions(value: unknown, requireCertificate = false): asserts value is TlsOptions {
  if (typeof value !== "object" || value === null) {
    throw new TypeError(`The 'tls' argument must be an object, got ${describe(value)}`);
  }
  const tls = value as Record<string, unknown>;
  assertKnownTlsOptionNames(tls);
  assertStringList(tls.caCerts, "tls.caCerts");
  assertStringList(tls.alpnProtocols, "tls.alpnProtocols");
  for (const key of ["cert", "key"]) {
    if (tls[key] !== undefined && typeof tls[key] !== "string") {
      throw new TypeError(`The 'tls.${key}' option must be a PEM string, got ${describe(tls[key])}`);
    }
  }
  if (tls.caCerts !== undefined) {
    (tls.caCerts as string[]).forEach((pem, index) =>
      assertPem(pem, `tls.caCerts[${index}]`, "a certificate", isCertificate)
    );
  }
  if (tls.cert !== undefined) assertPem(tls.cert as string, "tls.cert", "a certificate chain", isCertificate);
  if (tls.key !== undefined) assertPem(tls.key as string, "tls.key", "a private key", isPrivateKey);
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new TypeError("The 'tls.cert' and 'tls.key' options must be given together");
  }
  if (requireCertificate && tls.cert === undefined) {
    throw new TypeError("The 'tls' argument of a server must have 'cert' and 'key'");
  }
}

/** Default RFC 8305 connection attempt delay, in ms. */
export const DEFAULT_HAPPY_EYEBALLS_DELAY = 250;
/** Default TLS handshake bound, in ms. */
export const DEFAULT_HANDSHAKE_TIMEOUT = 60_000;
/** Checks and defaults the options of `createTcpConnection`. */
export function checkConnectionOptions(options: TcpConnectionOptions | undefined): {
  delay: number;
  localAddress: SocketAddress | undefined;
} {
  const opts = optionsObject(options);
  const delay = opts.happyEyeballsDelay ?? DEFAULT_HAPPY_EYEBALLS_DELAY;
  assertDelay(delay, "happyEyeballsDelay");
  if (opts.localAddress !== undefined) assertSocketAddress(opts.localAddress, "localAddress");
  return { delay, localAddress: opts.localAddress };
}
