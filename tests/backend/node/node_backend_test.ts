/**
 * Tests of the Node backend's runtime host: its macrotask yield and timers must
 * keep a process alive exactly while something waits on them.
 *
 * Runs on Node (compiled) and on Deno (through its `node:` modules).
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { join } from "node:path";
import process from "node:process";
import { NodeBackend } from "../../../backend/node/mod.ts";
import { RECEIVE_BOUND } from "../../../backend/_net/push_stream.ts";
import { test } from "../../harness.ts";

const moduleUrl = new URL("../../../backend/node/mod.ts", import.meta.url).href;

/** Runs `source` as an ES module in a child process of this runtime; resolves its exit code and output. */
async function runScript(source: string, limitMs: number): Promise<{ code: number | null; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), "node-backend-test-"));
  try {
    const file = join(dir, "main.mjs");
    await writeFile(file, source);
    const args = "deno" in process.versions ? ["run", "-A", "--quiet", file] : [file];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => output += chunk);
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => output += chunk);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const code = await new Promise<number | null>((resolve, reject) => {
      timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`The child process did not exit within ${limitMs} ms; output: ${output}`));
      }, limitMs);
      child.on("error", reject);
      child.on("close", (exitCode) => resolve(exitCode));
    }).finally(() => clearTimeout(timer));
    return { code, output };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("node backend: coroYield lets timers run between yields", async () => {
  const backend = new NodeBackend();
  await backend.bootstrap(async () => {
    let fired = false;
    setTimeout(() => fired = true, 1);
    const start = backend.currentTime();
    while (!fired) {
      await backend.coroYield();
      assert.ok(backend.currentTime() - start < 5_000, "a timer never ran between yields");
    }
  });
});

test("node backend: pending yields keep the process alive, an idle backend does not", async () => {
  const source = `
    import { NodeBackend } from ${JSON.stringify(moduleUrl)};
    const backend = new NodeBackend();
    const result = await backend.bootstrap(async () => {
      for (let i = 0; i < 100; i++) await backend.coroYield();
      await backend.sleep(5);
      return await backend.moveOnAfter(5, () => backend.sleepForever());
    });
    await backend.bootstrap(() => backend.cancelShieldedCoroYield());
    console.log("finished", result);
  `;
  const { code, output } = await runScript(source, 30_000);
  assert.equal(code, 0, output);
  assert.match(output, /^finished undefined$/m);
});

test("node backend: a task waiting for a signal keeps the process alive until it comes", async () => {
  // Node's signal listeners keep no process alive, and the timer that sends the
  // signal is unreferenced: only the receiver's own timer holds the process.
  const source = `
    import process from "node:process";
    import { setTimeout } from "node:timers";
    import { NodeBackend } from ${JSON.stringify(moduleUrl)};
    const backend = new NodeBackend();
    const name = await backend.bootstrap(async () => {
      const signals = backend.openSignalReceiver(["SIGUSR2"]);
      try {
        setTimeout(() => process.kill(process.pid, "SIGUSR2"), 50).unref();
        return await signals.receive();
      } finally {
        signals.close();
      }
    });
    console.log("received", name);
  `;
  const { code, output } = await runScript(source, 30_000);
  assert.equal(code, 0, output);
  assert.match(output, /^received SIGUSR2$/m);
});

/** A raw `node:net` server on loopback; `onConnection` gets each socket. */
async function rawServer(onConnection: (socket: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer({ allowHalfOpen: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function pattern(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >>> 10)) & 0xff;
  return bytes;
}

/** Yields until `condition()` holds, for at most `limitMs`. */
async function yieldUntil(backend: NodeBackend, condition: () => boolean, what: string, limitMs = 10_000) {
  const start = backend.currentTime();
  while (!condition()) {
    if (backend.currentTime() - start > limitMs) throw new Error(`Timed out waiting for ${what}`);
    await backend.sleep(1);
  }
}

test("node backend: a slow reader pauses the socket at the bound, recv resumes it, no byte lost", async () => {
  const data = pattern(4 * RECEIVE_BOUND);
  const peers: Socket[] = [];
  const server = await rawServer((socket) => {
    peers.push(socket);
    socket.end(data);
  });
  const backend = new NodeBackend();
  try {
    await backend.bootstrap(async () => {
      const stream = await backend.createTcpConnection("127.0.0.1", server.port);
      try {
        const raw = stream.socket() as Socket;
        await yieldUntil(backend, () => raw.isPaused(), "the socket to pause at the receive bound");
        // Paused: the peer cannot have pushed everything into our buffer. (Bun 1.4
        // reads ahead of pause() on its own, so only Node and Deno bound it.)
        if (!("bun" in process.versions)) {
          assert.ok(raw.bytesRead < data.length, `read ${raw.bytesRead} of ${data.length} bytes while paused`);
        }
        const received: Uint8Array[] = [];
        let total = 0;
        for (;;) {
          const chunk = await stream.recv(65536);
          if (chunk.length === 0) break;
          received.push(chunk);
          total += chunk.length;
        }
        assert.equal(total, data.length);
        const all = new Uint8Array(total);
        let offset = 0;
        for (const chunk of received) {
          all.set(chunk, offset);
          offset += chunk.length;
        }
        assert.deepEqual(all, data);
      } finally {
        await stream.aclose();
      }
    });
  } finally {
    for (const peer of peers) peer.destroy();
    await server.close();
  }
});

test("node backend: sendall waits while the peer does not read (drain)", async () => {
  const size = 32 * 1024 * 1024;
  let peer: Socket | undefined;
  let received = 0;
  const server = await rawServer((socket) => {
    peer = socket;
    socket.pause();
    socket.on("data", (chunk: Uint8Array) => received += chunk.length);
  });
  const backend = new NodeBackend();
  try {
    await backend.bootstrap(async () => {
      const stream = await backend.createTcpConnection("127.0.0.1", server.port);
      try {
        await backend.createTaskGroup(async (tg) => {
          const sending = tg.startSoon(() => stream.sendall(pattern(size)));
          await yieldUntil(backend, () => peer !== undefined, "the peer to connect");
          // Give the kernel buffers time to fill: the send cannot finish while nobody reads.
          await backend.sleep(100);
          assert.equal(sending.done(), false, "sendall resolved before the peer read 32 MiB");
          peer!.resume();
          await sending.join();
          await stream.sendEof();
          await yieldUntil(backend, () => received === size, "the peer to receive every byte");
        });
      } finally {
        await stream.aclose();
      }
    });
  } finally {
    peer?.destroy();
    await server.close();
  }
});

test("node backend: ASYNC_BACKEND_DEBUG=1 in process.env turns the debug mode of new runners on", async () => {
  const before = process.env.ASYNC_BACKEND_DEBUG;
  process.env.ASYNC_BACKEND_DEBUG = "1";
  try {
    const backend = new NodeBackend();
    const runner = backend.newRunner();
    await runner.run(() => backend.createMemoryChannel(0));
    await runner.close();
    assert.match(runner.leaks()[0]?.stack ?? "", /node_backend_test\.[jt]s/);
  } finally {
    if (before === undefined) delete process.env.ASYNC_BACKEND_DEBUG;
    else process.env.ASYNC_BACKEND_DEBUG = before;
  }
});
