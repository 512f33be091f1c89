/**
 * Listeners written once: check the arguments, resolve every host, bind one
 * listener per address (port 0 on several addresses binds them all to one
 * port, picking again when the first pick is taken on another address). The
 * driver binds one listener; a cancelled call closes what it bound.
 *
 * @module
 */

import type { TcpListenerOptions, TlsListenerOptions, TlsOptions } from "../abc/socket.ts";
import { suspend } from "../_core/checkpoint.ts";
import type { TimerHost } from "../_core/timers.ts";
import { resolveHost } from "./address.ts";
import type { ListenerConn, NetDriver } from "./driver.ts";
import { type ListenerSetup, ListenerSocket } from "./listener_socket.ts";
import { handshakeTimeout } from "./tls.ts";
import { assertBacklog, assertPort, assertTlsOptions, booleanOption, listenHosts, optionsObject } from "./validate.ts";

/** How many times a port-0 bind on several addresses picks a port again. */
const PORT_ZERO_ATTEMPTS = 20;

async function addressesToBind<C>(driver: NetDriver<C>, hosts: string[] | null): Promise<string[]> {
  // Every interface: "::" is dual-stack (IPV6_V6ONLY off), one listener serves IPv4 and IPv6.
  if (hosts === null) return [await driver.anyAddress()];
  const all: string[] = [];
  for (const host of hosts) all.push(...await resolveHost(driver, host));
  return [...new Set(all)];
}

function closeAll<C>(listeners: readonly ListenerConn<C>[]): void {
  for (const listener of listeners) {
    try {
      listener.close();
    } catch {
      // Already closed.
    }
  }
}

/** Binds one listener per address; port 0 on several addresses binds them all to one port. */
async function bindAll<C>(
  driver: NetDriver<C>,
  addresses: readonly string[],
  port: number,
  bind: (hostname: string, port: number) => Promise<ListenerConn<C>>,
): Promise<ListenerConn<C>[]> {
  for (let attempt = 0;; attempt++) {
    const listeners: ListenerConn<C>[] = [];
    let bound = port;
    try {
      for (const hostname of addresses) {
        const listener = await bind(hostname, bound);
        listeners.push(listener);
        if (bound === 0) bound = listener.local.port;
      }
      return listeners;
    } catch (error) {
      closeAll(listeners);
      // The port picked for the first address may be taken on another: pick again.
      const inUse = (error as { code?: unknown } | null)?.code === "EADDRINUSE";
      if (port === 0 && listeners.length > 0 && inUse && attempt < PORT_ZERO_ATTEMPTS) continue;
      throw driver.mapError(error);
    }
  }
}

/** Resolves and binds as a checkpoint: a cancelled call closes what it bound. */
async function bindListeners<C>(
  setup: ListenerSetup<C>,
  host: string | readonly string[] | null,
  port: number,
  backlog: number,
  reusePort: boolean,
): Promise<ListenerSocket<C>[]> {
  const { driver } = setup;
  const addresses = await addressesToBind(driver, listenHosts(host));
  const tls = setup.tls?.options ?? null;
  const listeners = await suspend<ListenerConn<C>[]>((resolve, reject) => {
    let cancelled = false;
    bindAll(driver, addresses, port, (hostname, port) => driver.listen(hostname, port, backlog, reusePort, tls))
      .then((listeners) => {
        if (cancelled) closeAll(listeners);
        else resolve(listeners);
      }, reject);
    return () => void (cancelled = true);
  }, "listen");
  return listeners.map((listener) => new ListenerSocket(listener, setup));
}

/** See `AsyncBackend.createTcpListeners`. */
export async function createTcpListeners<C>(
  driver: NetDriver<C>,
  timers: TimerHost,
  host: string | readonly string[] | null,
  port: number,
  backlog: number,
  options?: TcpListenerOptions,
): Promise<ListenerSocket<C>[]> {
  listenHosts(host);
  assertPort(port);
  assertBacklog(backlog);
  const reusePort = booleanOption(optionsObject(options).reusePort, "reusePort");
  return await bindListeners({ driver, timers, tls: null }, host, port, backlog, reusePort);
}

/** See `AsyncBackend.createSslOverTcpListeners`. */
export async function createSslOverTcpListeners<C>(
  driver: NetDriver<C>,
  timers: TimerHost,
  host: string | readonly string[] | null,
  port: number,
  backlog: number,
  tls: TlsOptions,
  options?: TlsListenerOptions,
): Promise<ListenerSocket<C>[]> {
  listenHosts(host);
  assertPort(port);
  assertBacklog(backlog);
  assertTlsOptions(tls, true);
  const opts = optionsObject(options);
  const ms = handshakeTimeout(opts);
  const setup: ListenerSetup<C> = { driver, timers, tls: { options: { ...tls }, handshakeTimeout: ms } };
  const reusePort = booleanOption(opts.reusePort, "reusePort");
  return await bindListeners(setup, host, port, backlog, reusePort);
}
