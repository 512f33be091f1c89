// Imports the installed package by name and uses it as a Node user would.
import assert from "node:assert/strict";
import { threadModule } from "@easynetwork/async-backend";
import { NodeBackend } from "@easynetwork/async-backend/backend/node";
import { AsyncBackendFactory } from "@easynetwork/async-backend/factory";

const backend = AsyncBackendFactory.new();
assert.ok(backend instanceof NodeBackend, "the default backend on Node is NodeBackend");

await backend.bootstrap(async () => {
  // A timeout.
  const start = backend.currentTime();
  await assert.rejects(backend.timeout(20, () => backend.sleepForever()), { name: "TimeoutError" });
  assert.ok(backend.currentTime() - start >= 19, "the timeout fired early");
  console.log("smoke: timeout ok");

  // A TCP echo over loopback.
  const [listener] = await backend.createTcpListeners("127.0.0.1", 0, 16);
  try {
    await backend.createTaskGroup(async (tg) => {
      tg.startSoon(async () => {
        const server = await (await listener.accept()).connect();
        try {
          for (;;) {
            const data = await server.recv(65536);
            if (data.length === 0) break;
            await server.sendall(data);
          }
        } finally {
          await server.aclose();
        }
      });
      const client = await backend.createTcpConnection("127.0.0.1", listener.getLocalAddress().port);
      try {
        await client.sendall(new TextEncoder().encode("hello, npm"));
        await client.sendEof();
        let text = "";
        for (;;) {
          const data = await client.recv(65536);
          if (data.length === 0) break;
          text += new TextDecoder().decode(data);
        }
        assert.equal(text, "hello, npm");
      } finally {
        await client.aclose();
      }
    });
  } finally {
    await listener.aclose();
  }
  console.log("smoke: tcp echo ok");

  // A function run in a worker thread (a plain .mjs worker module of the user's).
  const work = threadModule(new URL("./work.mjs", import.meta.url));
  assert.equal(await backend.runInThread(work.fib, 20), 6765);
  console.log("smoke: runInThread ok");
});
console.log("smoke: done");
