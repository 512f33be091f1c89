/**
 * The runtime hosts the Happy Eyeballs clock test runs on: on Deno both the
 * Deno and the Node host; the npm build swaps in `_clock_hosts.node.ts` (the
 * Node host only).
 *
 * @module
 */

import type { RuntimeHost } from "../../../backend/lowlevel.ts";
import { denoHost } from "../../../backend/deno/_host.ts";
import { nodeHost } from "../../../backend/node/_host.ts";

/** Each host with its backend's name. */
export const clockHosts: readonly (readonly [string, RuntimeHost])[] = [["deno", denoHost], ["node", nodeHost]];
