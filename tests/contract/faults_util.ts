/**
 * Helpers shared by the peer-fault tests (not an area: registers no test): a raw
 * `node:net` peer that both runtimes provide, so a fault (a reset, garbage,
 * silence) comes from outside the library under test.
 *
 * @module
 */

import assert from "node:assert/strict";
import net from "node:net";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";

/** A raw `node:net` server: its port, its sockets, and `close()`. */
export interface RawServer {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a raw `node:net` server on 127.0.0.1 that calls `onConnection` for each
 * connection; `close()` destroys every socket it accepted.
 */
export function rawServer(onConnection: (socket: net.Socket) => void): Promise<RawServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    onConnection(socket);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Connects a raw `node:net` client to 127.0.0.1:`port`; resolves once connected. */
export function rawClient(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.on("error", () => {});
      resolve(socket);
    });
  });
}

/** Destroys a raw socket and waits for its `close` event. */
export function destroyed(socket: net.Socket): Promise<void> {
  if (socket.destroyed && socket.closed) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once("close", () => resolve());
    socket.destroy();
  });
}

/**
 * Runs `fn` under a `bound` ms deadline: a hang fails the test with `what`
 * instead of hanging the suite.
 */
export async function bounded<T>(backend: AsyncBackend, bound: number, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await backend.timeout(bound, fn);
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") assert.fail(`hung for ${bound} ms: ${what}`);
    throw error;
  }
}

/** Runs `fn`, returns what it threw (fails if it did not throw). */
export async function caught(fn: () => Promise<unknown>, what: string): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  assert.fail(`expected a failure: ${what}`);
}

/** The POSIX `code` of an error, if any. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}
