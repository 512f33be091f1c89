// Type-checks the package's declarations as a Node user's project would: lib es2022 and @types/node, no DOM.
import { AsyncBackendFactory, threadModule } from "@easynetwork/async-backend";
import type { AsyncBackend } from "@easynetwork/async-backend/backend";
import { NodeBackend } from "@easynetwork/async-backend/backend/node";
import * as lowlevel from "@easynetwork/async-backend/lowlevel";
import { threadSignal } from "@easynetwork/async-backend/worker";
import * as testing from "@easynetwork/async-backend/testing";
import * as factory from "@easynetwork/async-backend/factory";
import * as tasks from "@easynetwork/async-backend/tasks";
import * as futures from "@easynetwork/async-backend/futures";

const backend: AsyncBackend = AsyncBackendFactory.new();
const node: NodeBackend = new NodeBackend();
const work = threadModule<{ fib(n: number): number }>(new URL("./work.mjs", import.meta.url));
const answer: Promise<number> = backend.bootstrap(() => backend.runInThread(work.fib, 20));
const signal: () => AbortSignal = threadSignal;
export { answer, factory, futures, lowlevel, node, signal, tasks, testing };
