/**
 * Deno-only networking tests: the --unstable-net requirement of UDP, and TLS
 * interop with an independent peer (`openssl s_server` / `s_client`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { DenoBackend } from "../../../backend/deno/mod.ts";
import { CLIENT_TLS, SERVER_TLS, text, utf8 } from "../../contract/net_util.ts";
import { test } from "../../harness.ts";

const FIXTURES = new URL("../../fixtures/tls/", import.meta.url);

function hasOpenssl(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

const opensslIgnore = hasOpenssl() ? false : "openssl is not on the PATH";

/** Reads from `reader` until `predicate(text so far)` holds; returns the text. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  predicate: (text: string) => boolean,
): Promise<string> {
  const decoder = new TextDecoder();
  let seen = "";
  while (!predicate(seen)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended before the expected output; got ${JSON.stringify(seen)}`);
    seen += decoder.decode(value, { stream: true });
  }
  return seen;
}

test("deno: udp without --unstable-net fails with a message naming the flag", async () => {
  const script = `
    import { DenoBackend } from ${JSON.stringify(new URL("../../../backend/deno/mod.ts", import.meta.url).href)};
    const backend = new DenoBackend();
    try {
      await backend.bootstrap(() => backend.createUdpEndpoint());
      console.log("no error");
    } catch (error) {
      console.log(String(error));
    }
  `;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", script],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(output.stdout);
  assert.match(out, /--unstable-net/, `stdout: ${out}\nstderr: ${new TextDecoder().decode(output.stderr)}`);
});

test("deno: tls client interoperates with openssl s_server", async () => {
  const server = new Deno.Command("openssl", {
    args: [
      "s_server",
      "-accept",
      "127.0.0.1:0",
      "-cert",
      new URL("server.pem", FIXTURES).pathname,
      "-key",
      new URL("server.key", FIXTURES).pathname,
      "-rev",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = server.stdout.getReader();
  try {
    const banner = await readUntil(reader, (seen) => /ACCEPT .*:(\d+)/.test(seen));
    const port = Number(/ACCEPT .*:(\d+)/.exec(banner)![1]);
    const backend = new DenoBackend();
    await backend.bootstrap(async () => {
      await backend.timeout(10_000, async () => {
        const stream = await backend.createSslOverTcpConnection("localhost", port, CLIENT_TLS);
        try {
          await stream.sendall(utf8("hello openssl\n"));
          let reply = "";
          while (!reply.includes("lssnepo olleh")) {
            const chunk = await stream.recv(1024);
            assert.ok(chunk.length > 0, `end of stream; got ${JSON.stringify(reply)}`);
            reply += text(chunk);
          }
        } finally {
          await stream.aclose();
        }
      });
    });
  } finally {
    server.kill();
    await reader.cancel();
    await server.status;
  }
}, { ignore: opensslIgnore });

test("deno: tls listener interoperates with openssl s_client", async () => {
  const backend = new DenoBackend();
  await backend.bootstrap(async () => {
    const [listener] = await backend.createSslOverTcpListeners("127.0.0.1", 0, 4, SERVER_TLS);
    try {
      const client = new Deno.Command("openssl", {
        args: [
          "s_client",
          "-connect",
          `127.0.0.1:${listener.getLocalAddress().port}`,
          "-CAfile",
          new URL("ca.pem", FIXTURES).pathname,
          "-servername",
          "localhost",
          "-verify_return_error",
          "-verify_hostname",
          "localhost",
          "-brief",
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const reader = client.stdout.getReader();
      const errors = client.stderr.getReader();
      const writer = client.stdin.getWriter();
      try {
        await backend.timeout(10_000, async () => {
          const stream = await (await listener.accept()).connect();
          try {
            await writer.write(utf8("ping from s_client\n"));
            let got = "";
            while (!got.includes("\n")) got += text(await stream.recv(1024));
            assert.equal(got, "ping from s_client\n");
            await stream.sendall(utf8("pong from deno\n"));
            await readUntil(reader, (seen) => seen.includes("pong from deno"));
          } finally {
            await stream.aclose();
          }
        });
        const verdict = await readUntil(errors, (seen) => /Verification|CONNECTION ESTABLISHED/.test(seen));
        assert.match(verdict, /CONNECTION ESTABLISHED|Verification: OK/);
      } finally {
        await writer.close().catch(() => {});
        client.kill();
        await reader.cancel();
        await errors.cancel();
        await client.status;
      }
    } finally {
      await listener.aclose();
    }
  });
}, { ignore: opensslIgnore });

test("deno: starttls refuses a stream holding bytes read ahead, and the stream keeps them", async () => {
  const backend = new DenoBackend();
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await backend.bootstrap(async () => {
    await backend.timeout(10_000, async () => {
      const accepted = listener.accept();
      const plain = await backend.createTcpConnection("127.0.0.1", listener.addr.port);
      const server = await accepted;
      try {
        // One write, so that all eight bytes are there for the client's first read.
        await server.write(utf8("GO\nEXTRA"));
        assert.equal(text(await plain.recv(2)), "GO");
        // The first read came back full, so this one asks for more than one byte and keeps the rest.
        assert.equal(text(await plain.recv(1)), "\n");
        await assert.rejects(
          backend.wrapSslOverTcpClientSocket(plain, CLIENT_TLS, { serverHostname: "localhost" }),
          (error: unknown) => error instanceof TypeError && /received bytes were not consumed/.test(error.message),
        );
        assert.equal(plain.isClosing(), false, "a refused upgrade leaves the stream open");
        let rest = "";
        while (rest.length < 5) rest += text(await plain.recv(10));
        assert.equal(rest, "EXTRA", "nothing is lost");
      } finally {
        server.close();
        await plain.aclose();
      }
    });
  });
});

test("deno backend: ASYNC_BACKEND_DEBUG=1 turns the debug mode of new runners on (read only with --allow-env)", async () => {
  const before = Deno.env.get("ASYNC_BACKEND_DEBUG");
  Deno.env.set("ASYNC_BACKEND_DEBUG", "1");
  try {
    const backend = new DenoBackend();
    const runner = backend.newRunner();
    await runner.run(() => backend.createMemoryChannel(0));
    await runner.close();
    assert.match(runner.leaks()[0]?.stack ?? "", /deno_backend_test\.ts/);
  } finally {
    if (before === undefined) Deno.env.delete("ASYNC_BACKEND_DEBUG");
    else Deno.env.set("ASYNC_BACKEND_DEBUG", before);
  }
});
