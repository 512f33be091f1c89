/**
 * A waitable flag.
 *
 * @module
 */

import type { Event, EventStatistics } from "../abc/sync.ts";
import { suspend } from "./checkpoint.ts";
import { WaitQueue } from "./wait_queue.ts";

/** The event implementation shared by every backend. */
export class EventCore implements Event {
  #set = false;
  #waiters: WaitQueue = new WaitQueue("event");

  wait(): Promise<void> {
    if (this.#set) return suspend<void>((resolve) => resolve());
    return this.#waiters.park();
  }

  set(): void {
    if (this.#set) return;
    this.#set = true;
    this.#waiters.unparkAll();
  }

  isSet(): boolean {
    return this.#set;
  }

  statistics(): EventStatistics {
    return Object.freeze({ tasksWaiting: this.#waiters.size });
  }
}
