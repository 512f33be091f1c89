/**
 * The names a TLS options object may use, and what to write instead of the
 * names of other APIs (Node's `tls.connect`, older Deno versions), so that a
 * misspelled or foreign option is refused with a hint rather than ignored: an
 * ignored `ca` or `rejectUnauthorized` would silently change what is trusted.
 *
 * @module
 */

/** The options of `TlsOptions`. */
export const TLS_OPTION_NAMES: readonly string[] = ["caCerts", "cert", "key", "alpnProtocols"];

const USE_SERVER_HOSTNAME = "use the 'serverHostname' option of the call (its last argument)";
const ALWAYS_VERIFIED = "certificates are always verified, host name included; trust a CA with 'caCerts'";
const PEM_ONLY = "give the certificate chain and key as PEM text in 'cert' and 'key'";
const RUNTIME_DEFAULTS = "not supported: every backend uses its runtime's defaults";

/** Other APIs' names, and what to use instead. */
const HINTS: Readonly<Record<string, string>> = {
  ca: "use 'caCerts' (a list of PEM certificates, added to the system's roots)",
  caCert: "use 'caCerts' (a list of PEM certificates, added to the system's roots)",
  caFile: "use 'caCerts' with the file's text",
  certFile: "use 'cert' with the file's text",
  keyFile: "use 'key' with the file's text",
  certChain: "use 'cert'",
  privateKey: "use 'key'",
  ALPNProtocols: "use 'alpnProtocols'",
  alpn: "use 'alpnProtocols'",
  servername: USE_SERVER_HOSTNAME,
  serverName: USE_SERVER_HOSTNAME,
  serverHostname: USE_SERVER_HOSTNAME,
  hostname: USE_SERVER_HOSTNAME,
  host: USE_SERVER_HOSTNAME,
  rejectUnauthorized: ALWAYS_VERIFIED,
  checkServerIdentity: ALWAYS_VERIFIED,
  insecure: ALWAYS_VERIFIED,
  pfx: PEM_ONLY,
  passphrase: PEM_ONLY,
  secureContext: PEM_ONLY,
  sslHandshakeTimeout: "use the 'sslHandshakeTimeout' option of the call (its last argument)",
  minVersion: RUNTIME_DEFAULTS,
  maxVersion: RUNTIME_DEFAULTS,
  ciphers: RUNTIME_DEFAULTS,
  secureProtocol: RUNTIME_DEFAULTS,
  requestCert: "not supported: servers do not ask for client certificates",
};

/**
 * Throws a `TypeError` naming the first option of `tls` that is not one of
 * {@linkcode TLS_OPTION_NAMES} (an option set to `undefined` counts as absent),
 * with what to use instead.
 *
 * @param tls The TLS options object.
 */
export function assertKnownTlsOptionNames(tls: Record<string, unknown>): void {
  for (const name of Object.keys(tls)) {
    if (TLS_OPTION_NAMES.includes(name) || tls[name] === undefined) continue;
    const hint = Object.hasOwn(HINTS, name) ? HINTS[name] : `TLS options are ${TLS_OPTION_NAMES.join(", ")}`;
    throw new TypeError(`The 'tls.${name}' option is unknown: ${hint}`);
  }
}
