/**
 * The listener adapter and its accepted sockets, written once over a runtime
 * listener that accepts on demand (Deno's `accept()`) or as connections come
 * (Node's `'connection'` events). Either way a cancelled `accept` loses no
 * connection: a pull-model accept stays in flight and its connection goes to
 * the next call; a push-model listener queues connections (paused) until a call
 * takes them.
 *
 * @module
 */

import {
  AcceptedSocket,
  AsyncListenerSocketAdapter,
  type AsyncStreamSocketAdapter,
  type SocketAddress,
  type TlsOptions,
} from "../abc/socket.ts";
import { ClosedResourceError } from "../errors.ts";
import { Fifo } from "../_util/fifo.ts";
import type { TimerHost } from "../_core/timers.ts";
import type { ListenerConn, NetDriver } from "./driver.ts";
import { checkpoint, describeAddress, ResourceGuard } from "./guard.ts";
import { PullOperation } from "./pull.ts";
import { PushQueue } from "./push.ts";
import { StreamSocket } from "./stream_socket.ts";
import { tlsStream } from "./tls.ts";

/** What a listener's accepted connections need: the driver, and the TLS settings of a TLS listener. */
export interface ListenerSetup<C> {
  /** The runtime's driver. */
  driver: NetDriver<C>;
  /** The clock of the handshake bound. */
  timers: TimerHost;
  /** The TLS settings of a TLS listener, `null` for TCP. */
  tls: { options: TlsOptions; handshakeTimeout: number } | null;
}

function alreadyTaken(): ClosedResourceError {
  return new ClosedResourceError("The accepted socket was already connected or closed");
}

/** A connection accepted by a listener; `connect()` runs the TLS handshake, if any. */
class ListenerAcceptedSocket<C> extends AcceptedSocket {
  #conn: C | null;
  #setup: ListenerSetup<C>;

  constructor(conn: C, setup: ListenerSetup<C>) {
    super();
    this.#conn = conn;
    this.#setup = setup;
  }

  /** The peer's address. */
  getRemoteAddress(): SocketAddress {
    if (this.#conn === null) throw alreadyTaken();
    return this.#setup.driver.remoteAddress(this.#conn);
  }

  /** Finishes the setup (the TLS handshake, bounded by `sslHandshakeTimeout`) and returns the stream. */
  async connect(): Promise<AsyncStreamSocketAdapter> {
    const conn = this.#conn;
    if (conn === null) throw alreadyTaken();
    this.#conn = null;
    const { driver, tls, timers } = this.#setup;
    try {
      await checkpoint();
    } catch (error) {
      driver.close(conn);
      throw error;
    }
    if (tls === null) return new StreamSocket(driver.stream(conn), driver.mapError);
    return await tlsStream(
      driver,
      timers,
      conn,
      tls.handshakeTimeout,
      (signal) => driver.acceptTls(conn, tls.options, signal),
    );
  }

  /** Closes the connection without setting it up. Idempotent. */
  aclose(): Promise<void> {
    const conn = this.#conn;
    this.#conn = null;
    if (conn !== null) this.#setup.driver.close(conn);
    return Promise.resolve();
  }

  /** Calls {@linkcode ListenerAcceptedSocket.aclose}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.aclose();
  }
}

/** A TCP or TLS listener. */
export class ListenerSocket<C> extends AsyncListenerSocketAdapter {
  #listener: ListenerConn<C>;
  #setup: ListenerSetup<C>;
  #state = new ResourceGuard("listener", () => `listener on ${describeAddress(() => this.getLocalAddress())}`);
  /** Pull model: the runtime accept, outliving a cancelled call. */
  #accepting: PullOperation<C, AcceptedSocket> | null = null;
  /** Push model: connections that came, waiting (paused) for a call. */
  #queue: Fifo<C> = new Fifo();
  #receiver: PushQueue<AcceptedSocket> | null = null;

  /**
   * @param listener The runtime listener, owned from now on.
   * @param setup The driver and TLS settings.
   */
  constructor(listener: ListenerConn<C>, setup: ListenerSetup<C>) {
    super();
    this.#listener = listener;
    this.#setup = setup;
    const driver = setup.driver;
    if (listener.kind === "pull") {
      this.#accepting = new PullOperation<C, AcceptedSocket>({
        start: () => listener.accept(),
        deliver: (conn) => new ListenerAcceptedSocket(conn, setup),
        mapError: (error) => this.#state.closing ? this.#state.closedError() : driver.mapError(error),
        // A connection accepted after close, or never taken: closed, not leaked.
        dispose: (conn) => driver.close(conn),
        kind: "accept",
      });
    } else {
      const receiver = this.#receiver = new PushQueue<AcceptedSocket>(
        () => {
          const conn = this.#queue.shift();
          if (conn !== undefined) receiver.resolve(new ListenerAcceptedSocket(conn, setup));
        },
        undefined,
        "accept",
      );
      listener.subscribe((conn) => {
        if (this.#state.closing) return driver.close(conn);
        this.#queue.push(conn);
        receiver.wake();
      });
    }
  }

  /** `true` once `aclose()` was called. */
  isClosing(): boolean {
    return this.#state.closing;
  }

  /** The bound address. */
  getLocalAddress(): SocketAddress {
    return { ...this.#listener.local };
  }

  /** The runtime listener (Deno's `Listener`, Node's `net.Server`). */
  socket(): unknown {
    return this.#listener.raw;
  }

  /** Waits for a connection. */
  accept(): Promise<AcceptedSocket> {
    try {
      this.#state.acquire("recv");
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#accepting !== null
      ? this.#accepting.wait(this.#state.releaseRecv)
      : this.#receiver!.receive(this.#state.releaseRecv);
  }

  /** Stops listening; wakes a pending `accept` with `ClosedResourceError`. Idempotent. */
  aclose(): Promise<void> {
    if (this.#state.close()) {
      const error = this.#state.closedError();
      this.#accepting?.close(error);
      this.#receiver?.reject(error);
      for (let conn = this.#queue.shift(); conn !== undefined; conn = this.#queue.shift()) {
        this.#setup.driver.close(conn);
      }
      try {
        this.#listener.close();
      } catch {
        // Already closed.
      }
    }
    return Promise.resolve();
  }
}
