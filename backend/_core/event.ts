/**
 * A waitable flag.
 *
 * @module
 */

import type { Event } from "../abc/sync.ts";
import { suspend } from "./checkpoint.ts";

/** The event implementation shared by every backend. */
export class EventCore implements Event {
  #set = false;
  #waiters: Set<() => void> = new Set();

  wait(): Promise<void> {
    if (this.#set) return suspend<void>((resolve) => resolve());
    return suspend<void>((resolve) => {
      const waiter = () => resolve();
      this.#waiters.add(waiter);
      return () => this.#waiters.delete(waiter);
    });
  }

  set(): void {
    if (this.#set) return;
    this.#set = true;
    const waiters = this.#waiters;
    this.#waiters = new Set();
    for (const waiter of waiters) waiter();
  }

  isSet(): boolean {
    return this.#set;
  }
}
