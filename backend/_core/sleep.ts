/**
 * The sleeping checkpoints, now in `timeouts.ts`; re-exported here so that
 * existing imports keep working (import them from `timeouts.ts`).
 *
 * @module
 */

export { sleep, sleepForever, sleepUntil } from "./timeouts.ts";
