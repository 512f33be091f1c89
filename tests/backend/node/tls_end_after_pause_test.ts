/**
 * Tests of the Node backend's workarounds for Deno's `node:` modules (they
 * also run, and must pass, on Node): a TLS stream paused at the receive bound
 * still sees its peer's close.
 *
 * @module
 */

import assert from "node:assert/strict";
import { NodeBackend } from "../../../backend/node/mod.ts";
import { RECEIVE_BOUND } from "../../../backend/_net/push_stream.ts";
import { CLIENT_TLS, pattern, recvAll, SERVER_TLS, withServer } from "../../contract/net_util.ts";
import { test } from "../../harness.ts";

test("node backend: a TLS stream that filled its receive bound still sees the peer's close", async () => {
  const backend = new NodeBackend();
  await backend.bootstrap(async () => {
    const data = pattern(4 * RECEIVE_BOUND, 3);
    const sent = backend.createEvent();
    await withServer(backend, async (stream) => {
      await stream.sendall(data);
      sent.set();
    }, async (port) => {
      const stream = await backend.createSslOverTcpConnection("localhost", port, CLIENT_TLS);
      try {
        // Read nothing until the peer has sent everything (the adapter pauses at its bound), then read to the end.
        await sent.wait();
        const received = await backend.moveOnAfter(10_000, () => recvAll(stream));
        assert.ok(received !== undefined, "the end of the stream never came");
        assert.deepEqual(received, data);
      } finally {
        await stream.aclose();
      }
    }, SERVER_TLS);
  });
});
