/**
 * Contract tests: the buffered reads of a stream (`receiveUntil`,
 * `receiveExactly`, and `recv`/`recvInto` answered from their buffer) in a
 * scope cancelled with `cancel(reason)` reject with a `CancelledError`
 * carrying the reason, whether the bytes are buffered, the call waits for
 * more, or the stream has ended; and the cancelled calls take no byte.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import type { AsyncStreamSocketAdapter } from "../../backend/abc/socket.ts";
import { IncompleteReadError } from "../../backend/errors.ts";
import type { BackendUnderTest } from "../backends.ts";
import { test } from "../harness.ts";
import { assertCancelled, yieldTimes } from "./core_util.ts";
import { CLIENT_TLS, netOptions, SERVER_TLS, text, utf8, withServer } from "./net_util.ts";

/** Runs `call` in a scope cancelled with `reason` (before, or after `turns` loop turns); returns its error. */
async function cancelledCall(
  backend: AsyncBackend,
  reason: string,
  call: () => Promise<unknown>,
  turns = 0,
): Promise<unknown> {
  const scope = backend.openCancelScope();
  if (turns === 0) scope.cancel(reason);
  let seen: unknown = "no error";
  await backend.createTaskGroup(async (tg) => {
    tg.startSoon(() =>
      scope.run(async () => {
        // A nested scope that is not cancelled itself: the reason is the one of the scope that catches.
        await backend.openCancelScope().run(async () => {
          try {
            await call();
          } catch (error) {
            seen = error;
            throw error;
          }
        });
      })
    );
    if (turns > 0) {
      await yieldTimes(backend, turns);
      scope.cancel(reason);
    }
  });
  assert.equal(scope.cancelledCaught, true, `${reason}: the scope caught no cancellation`);
  return seen;
}

/** Registers this area's tests for `backend`. */
export function register({ name, create }: BackendUnderTest): void {
  const options = netOptions(name);

  for (const kind of ["tcp", "tls"] as const) {
    test(`${name}: ${kind} cancel(reason): the buffered reads of a stream carry the reason`, async () => {
      const backend = create();
      await backend.bootstrap(async () => {
        let finish = (): void => {};
        const finished = new Promise<void>((resolve) => finish = resolve);
        const server = async (stream: AsyncStreamSocketAdapter) => {
          await stream.sendall(utf8("alpha\nbeta\ngamma"));
          await finished; // the client asks the server to end its side
        };
        await withServer(backend, server, async (port) => {
          const client = kind === "tcp"
            ? await backend.createTcpConnection("127.0.0.1", port)
            : await backend.createSslOverTcpConnection("localhost", port, CLIENT_TLS);
          try {
            // The first line fills the buffer with whatever arrived; the rest waits there (or comes later).
            assert.equal(text(await client.receiveUntil("\n")), "alpha");
            assert.equal(text(await client.receiveExactly(5)), "beta\n");
            // Answered from the buffer (when "gamma" is there) or by a read: either way a checkpoint.
            const buffered = [
              ["receiveUntil", () => client.receiveUntil("a")],
              ["receiveExactly", () => client.receiveExactly(1)],
              ["recv", () => client.recv(1)],
              ["recvInto", () => client.recvInto(new Uint8Array(1))],
            ] as const;
            for (const [what, call] of buffered) {
              assertCancelled(await cancelledCall(backend, `stop ${what}`, call), `stop ${what}`);
            }
            // Waiting for more: no newline comes, nor a sixth byte, until the scope is cancelled.
            for (
              const [what, call] of [["receiveUntil", () => client.receiveUntil("\n")], [
                "receiveExactly",
                () => client.receiveExactly(6),
              ]] as const
            ) {
              assertCancelled(await cancelledCall(backend, `stop waiting ${what}`, call, 5), `stop waiting ${what}`);
            }
            // Nothing was taken by the cancelled calls.
            assert.equal(text(await client.receiveExactly(5)), "gamma");
            finish();
            // The end of the stream, seen by a buffered read: the later ones are checkpoints all the same.
            await assert.rejects(client.receiveUntil("\n"), IncompleteReadError);
            for (
              const [what, call] of [["receiveUntil", () => client.receiveUntil("\n")], [
                "receiveExactly",
                () => client.receiveExactly(1),
              ]] as const
            ) {
              assertCancelled(await cancelledCall(backend, `stop at end ${what}`, call), `stop at end ${what}`);
            }
          } finally {
            finish();
            await client.aclose();
          }
        }, kind === "tls" ? SERVER_TLS : undefined);
      });
    }, options);
  }
}
