/**
 * The Node backend.
 *
 * @module
 */

import process from "node:process";
import { clearTimeout, setImmediate, setTimeout } from "node:timers";
import type {
  AsyncDatagramSocketAdapter,
  AsyncHalfCloseableStreamSocketAdapter,
  AsyncListenerSocketAdapter,
  AsyncStreamSocketAdapter,
  TcpConnectionOptions,
  TcpListenerOptions,
  TlsConnectionOptions,
  TlsListenerOptions,
  TlsOptions,
  TlsServerWrapOptions,
  TlsWrapOptions,
  UdpEndpointOptions,
} from "../abc/socket.ts";
import type { AnyFunction, ThreadFunction, ThreadsPortal } from "../abc/threads.ts";
import { chainMacrotasks, DENO_TURN_IMMEDIATES, type MacrotaskScheduler } from "../_core/checkpoint.ts";
import { BaseAsyncBackend, type RuntimeHost } from "../base_backend.ts";
import * as connect from "./connect.ts";
import * as datagram from "./udp.ts";
import * as listener from "./listener_socket.ts";
import * as starttls from "./starttls_server.ts";
import * as threads from "./threads.ts";

type NodeTimeout = ReturnType<typeof setTimeout>;

/**
 * One `MessageChannel` round per batch of yields: Node's cheapest macrotask
 * (about 1.3 µs, against about 1.7 µs for `setImmediate`), but not a turn of the
 * loop: Node runs the messages posted while it delivers messages in the same
 * round, up to 1,000, without running timers or polling I/O in between. The
 * backend's yield takes a full turn (`setImmediate`) at least once a
 * millisecond. One channel per thread, shared by every backend. The port is
 * referenced only while a yield is pending, so an idle channel keeps no process
 * (nor worker) alive.
 */
class ChannelYield {
  #queue: (() => void)[] = [];
  #channel: MessageChannel | null = null;

  schedule: MacrotaskScheduler = (callback) => {
    const queue = this.#queue;
    queue.push(callback);
    if (queue.length !== 1) return;
    const channel = this.#channel ??= this.#open();
    // Node's MessagePort has ref()/unref(); the DOM typings do not know them.
    (channel.port1 as unknown as { ref(): void }).ref();
    channel.port2.postMessage(null);
  };

  #open(): MessageChannel {
    const channel = new MessageChannel();
    channel.port1.onmessage = this.#drain;
    (channel.port1 as unknown as { unref(): void }).unref();
    return channel;
  }

  #drain = (): void => {
    const batch = this.#queue;
    this.#queue = [];
    (this.#channel!.port1 as unknown as { unref(): void }).unref();
    // Callbacks only resolve promises; a throwing one must not starve the rest.
    for (const callback of batch) {
      try {
        callback();
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  };
}

const versions: Record<string, string | undefined> = process.versions;
const immediate: MacrotaskScheduler = (callback) => void setImmediate(callback);

/**
 * The yields (why, with the figures: common/checkpoint.ts).
 *
 * - Node: a channel round, and for a full turn two `setImmediate` rounds: the
 *   first ends the loop iteration under way (it may have been scheduled from the
 *   poll phase, where channel messages and I/O callbacks run), the second runs
 *   after the next iteration's timers and I/O poll.
 * - Deno (running this backend through its `node:` modules): `setImmediate`, and
 *   for a full turn a chain of them, as the Deno backend does. A `MessageChannel`
 *   is no use there: a long-lived `MessagePort` is a resource with a pending
 *   receive op, which Deno's `--sanitize-ops --sanitize-resources` report as a
 *   leak in whichever test first yields.
 * - Bun: `setImmediate` alone, as before (not measured).
 */
const yields: Pick<RuntimeHost, "yieldMacrotask" | "yieldTurn" | "yieldMacrotasksPerTurn"> = versions.deno !== undefined
  ? {
    yieldMacrotask: immediate,
    yieldTurn: chainMacrotasks(immediate, DENO_TURN_IMMEDIATES),
    yieldMacrotasksPerTurn: DENO_TURN_IMMEDIATES,
  }
  : versions.bun !== undefined
  ? { yieldMacrotask: immediate }
  : { yieldMacrotask: new ChannelYield().schedule, yieldTurn: chainMacrotasks(immediate, 2) };

const nodeHost: RuntimeHost = {
  timers: {
    now: () => performance.now(),
    setTimer: (callback, ms) => setTimeout(callback, ms),
    clearTimer: (id) => clearTimeout(id as NodeTimeout),
    refTimer: (id, ref) => ref ? (id as NodeTimeout).ref() : (id as NodeTimeout).unref(),
  },
  ...yields,
};

/**
 * The backend for Node (20 and later): the shared cancellation core on Node's
 * timers, with `node:net`, `node:tls` and `node:dgram` for networking and
 * `node:worker_threads` for threads. It also runs on Deno and Bun, through their
 * `node:` modules.
 *
 * @example Run a task group with a timeout
 * ```ts
 * import { NodeBackend } from "@easynetwork/async-backend/backend/node";
 *
 * const backend = new NodeBackend();
 * const result = await backend.bootstrap(async () => {
 *   return await backend.moveOnAfter(50, async () => {
 *     await backend.createTaskGroup(async (tg) => {
 *       tg.startSoon(() => backend.sleep(10));
 *     });
 *     return "done";
 *   });
 * });
 * console.log(result); // "done"
 * ```
 */
export class NodeBackend extends BaseAsyncBackend {
  /** Creates the backend. It holds no resource until a runner is started. */
  constructor() {
    super(nodeHost);
  }

  /** Opens a TCP connection, racing every resolved address (RFC 8305, the shared Happy Eyeballs). */
  createTcpConnection(
    host: string,
    port: number,
    options?: TcpConnectionOptions,
  ): Promise<AsyncHalfCloseableStreamSocketAdapter> {
    return connect.createTcpConnection(host, port, options);
  }

  /** Opens a TLS connection over TCP (`node:tls` after the Happy Eyeballs race). */
  createSslOverTcpConnection(
    host: string,
    port: number,
    tls: TlsOptions,
    options?: TlsConnectionOptions,
  ): Promise<AsyncStreamSocketAdapter> {
    return connect.createSslOverTcpConnection(host, port, tls, options);
  }

  /** Takes ownership of a connected `net.Socket`. */
  wrapTcpClientSocket(conn: unknown): Promise<AsyncHalfCloseableStreamSocketAdapter> {
    return connect.wrapTcpClientSocket(conn);
  }

  /** Upgrades a connected `net.Socket` (or a plain stream adapter of this backend) to TLS as a client. */
  wrapSslOverTcpClientSocket(
    conn: unknown,
    tls: TlsOptions,
    options: TlsWrapOptions,
  ): Promise<AsyncStreamSocketAdapter> {
    return connect.wrapSslOverTcpClientSocket(conn, tls, options);
  }

  /**
   * Upgrades an accepted plain connection to TLS as the server (server-side
   * STARTTLS). `conn` is a `net.Socket` or a plain stream adapter of this
   * backend; bytes it received but nobody consumed are handed to TLS.
   */
  wrapSslOverTcpServerSocket(
    conn: unknown,
    tls: TlsOptions,
    options?: TlsServerWrapOptions,
  ): Promise<AsyncStreamSocketAdapter> {
    return starttls.wrapSslOverTcpServerSocket(conn, tls, options);
  }

  /** Opens one TCP listener per bound address; `host` `null` means every interface. */
  createTcpListeners(
    host: string | readonly string[] | null,
    port: number,
    backlog: number,
    options?: TcpListenerOptions,
  ): Promise<AsyncListenerSocketAdapter[]> {
    return listener.createTcpListeners(host, port, backlog, options);
  }

  /** Opens TLS listeners; the handshake happens in `AcceptedSocket.connect()`. */
  createSslOverTcpListeners(
    host: string | readonly string[] | null,
    port: number,
    backlog: number,
    tls: TlsOptions,
    options?: TlsListenerOptions,
  ): Promise<AsyncListenerSocketAdapter[]> {
    return listener.createSslOverTcpListeners(host, port, backlog, tls, options);
  }

  /** Opens a UDP endpoint (`node:dgram`; connected to `remoteAddress` when given). */
  createUdpEndpoint(options?: UdpEndpointOptions): Promise<AsyncDatagramSocketAdapter> {
    return datagram.createUdpEndpoint(options);
  }

  /** Takes ownership of a bound `dgram.Socket`. */
  wrapUdpSocket(sock: unknown): Promise<AsyncDatagramSocketAdapter> {
    return datagram.wrapUdpSocket(sock);
  }

  /**
   * Runs `fn(...args)` in a worker thread of the runner's pool (see `threadModule`).
   * Rejects with a `TypeError` for a plain function: workers cannot receive closures.
   */
  runInThread<F extends AnyFunction>(
    fn: ThreadFunction<F>,
    ...args: Parameters<F>
  ): Promise<Awaited<ReturnType<F>>> {
    return threads.runInThread(fn, args);
  }

  /** Creates a portal over loop functions, to pass to `runInThread` as an argument. */
  createThreadsPortal<F extends Record<string, AnyFunction>>(functions: F): ThreadsPortal<F> {
    return threads.createThreadsPortal(functions);
  }
}

threads.registerThreadHost(NodeBackend);
