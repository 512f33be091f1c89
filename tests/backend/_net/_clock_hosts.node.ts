/**
 * The runtime hosts the Happy Eyeballs clock test runs on, in the npm build:
 * the Node host only.
 *
 * @module
 */

import type { RuntimeHost } from "../../../backend/lowlevel.ts";
import { nodeHost } from "../../../backend/node/_host.ts";

/** Each host with its backend's name. */
export const clockHosts: readonly (readonly [string, RuntimeHost])[] = [["node", nodeHost]];
