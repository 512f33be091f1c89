/**
 * The runtime-neutral machinery shared by every backend: task context, cancel
 * scopes, deadlines, tasks, task groups, runners and synchronization primitives.
 *
 * Backends build on {@linkcode CoreBackend}; applications use a backend instead.
 *
 * @module
 */

export { CancelScope, currentScope } from "./cancel_scope.ts";
export { type Cleanup, type MacrotaskScheduler, suspend, throwIfCancelled } from "./checkpoint.ts";
export { CoreBackend, type RuntimeHost } from "./core_backend.ts";
export { DeadlineQueue, type TimerHost } from "./deadline_queue.ts";
export { assertDelay, assertFunction, describe } from "./validate.ts";
