/**
 * Helpers shared by the networking contract tests (not an area: registers no test).
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type {
  AsyncListenerSocketAdapter,
  AsyncStreamSocketAdapter,
  SocketAddress,
  TlsOptions,
} from "../../backend/abc/socket.ts";
import type { TestOptions } from "../harness.ts";

/**
 * The backends whose networking is implemented. The others get the networking
 * tests registered as skipped, with the reason printed; add a backend's name here
 * when its networking lands.
 */
const NETWORKING_BACKENDS: ReadonlySet<string> = new Set(["deno", "node"]);

/** The `test()` options of a networking test for backend `name`. */
export function netOptions(name: string, extra?: string | false): TestOptions {
  if (!NETWORKING_BACKENDS.has(name)) return { ignore: `networking is not implemented on the ${name} backend yet` };
  if (typeof extra === "string") return { ignore: extra };
  return {};
}

function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url), "utf8");
}

/** The test CA (PEM). */
export const CA_PEM: string = fixture("ca.pem");
/** The server's TLS options: a certificate for localhost, 127.0.0.1 and ::1, signed by the test CA. */
export const SERVER_TLS: TlsOptions = { cert: fixture("server.pem"), key: fixture("server.key") };
/** The client's TLS options: trust the test CA. */
export const CLIENT_TLS: TlsOptions = { caCerts: [CA_PEM] };

/** `size` bytes of a recognisable pattern. */
export function pattern(size: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed + (i >>> 8)) & 0xff;
  return bytes;
}

/** Sends 64 KiB chunks until a send fails, and returns its error (`undefined` if 1000 sends all succeed). */
export async function sendUntilFailure(stream: AsyncStreamSocketAdapter): Promise<unknown> {
  const chunk = pattern(64 * 1024);
  for (let i = 0; i < 1000; i++) {
    try {
      await stream.sendall(chunk);
    } catch (error) {
      return error;
    }
  }
  return undefined;
}

/** Joins chunks. */
export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** UTF-8 bytes of `text`. */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Text of `bytes`. */
export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Receives until end of stream; returns every byte. */
export async function recvAll(stream: AsyncStreamSocketAdapter, bufsize = 65536): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const chunk = await stream.recv(bufsize);
    if (chunk.length === 0) return concat(chunks);
    chunks.push(chunk);
  }
}

/** Receives exactly `size` bytes (fails at an early end of stream). */
export async function recvExactly(stream: AsyncStreamSocketAdapter, size: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let got = 0;
  while (got < size) {
    const chunk = await stream.recv(size - got);
    assert.ok(chunk.length > 0, `end of stream after ${got} of ${size} bytes`);
    chunks.push(chunk);
    got += chunk.length;
  }
  return concat(chunks);
}

/** Echoes until end of stream, then closes the write side when it can. */
export async function echo(stream: AsyncStreamSocketAdapter): Promise<void> {
  for (;;) {
    const chunk = await stream.recv(65536);
    if (chunk.length === 0) break;
    await stream.sendall(chunk);
  }
  const halfCloseable = stream as Partial<{ sendEof(): Promise<void> }>;
  if (typeof halfCloseable.sendEof === "function") await halfCloseable.sendEof();
}

/** The port of a listener. */
export function portOf(listener: AsyncListenerSocketAdapter | { getLocalAddress(): SocketAddress }): number {
  return listener.getLocalAddress().port;
}

/**
 * Opens one loopback TCP (or TLS) listener, runs `handler` on the first accepted
 * connection (closed afterwards) while `body(port)` runs, and closes everything.
 * A failing body cancels the handler.
 */
export async function withServer(
  backend: AsyncBackend,
  handler: (stream: AsyncStreamSocketAdapter) => Promise<void>,
  body: (port: number) => Promise<void>,
  tls?: TlsOptions,
): Promise<void> {
  const listeners = tls === undefined
    ? await backend.createTcpListeners("127.0.0.1", 0, 16)
    : await backend.createSslOverTcpListeners("127.0.0.1", 0, 16, tls);
  assert.equal(listeners.length, 1);
  const [listener] = listeners;
  try {
    await backend.createTaskGroup(async (tg) => {
      tg.startSoon(async () => {
        const accepted = await listener.accept();
        const stream = await accepted.connect();
        try {
          await handler(stream);
        } finally {
          await stream.aclose();
        }
      });
      await body(portOf(listener));
    });
  } finally {
    await listener.aclose();
  }
}

/** Returns a validator for an error carrying the POSIX `code` (one of `codes`). */
export function withCode(...codes: string[]): (error: unknown) => true {
  return (error: unknown) => {
    const code = (error as { code?: unknown } | null)?.code;
    assert.ok(
      typeof code === "string" && codes.includes(code),
      `expected an error with code ${codes.join(" or ")}, got ${String(error)} (code ${String(code)})`,
    );
    return true;
  };
}

/** `true` when this machine can listen on ::1. */
export async function ipv6Loopback(backend: AsyncBackend): Promise<boolean> {
  try {
    const listeners = await backend.createTcpListeners("::1", 0, 1);
    for (const listener of listeners) await listener.aclose();
    return true;
  } catch {
    return false;
  }
}
