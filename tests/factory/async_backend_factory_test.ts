/**
 * Tests of `AsyncBackendFactory`, on Deno (source) and on Node (npm build).
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import type { AsyncBackend } from "../../backend/abc/async_backend.ts";
import { BaseAsyncBackend } from "../../backend/base_backend.ts";
import { NodeBackend } from "../../backend/node/mod.ts";
import { AsyncBackendFactory } from "../../factory/mod.ts";
import { test } from "../harness.ts";

const onDeno = "Deno" in globalThis;
/** Does this build have the Deno backend? (The npm build has none.) */
const hasDeno = AsyncBackendFactory.getAvailableBackends().has("deno");
const own = onDeno && hasDeno ? "deno" : "node";

/** A fake backend for `extend`: a subclass of the built-in that takes options. */
class FakeNodeBackend extends NodeBackend {
  readonly options: unknown;
  constructor(options?: unknown) {
    super();
    this.options = options;
  }
}

/** A backend class that is not a subclass of `NodeBackend`. */
abstract class UnrelatedBackend extends BaseAsyncBackend {}

function reset(): void {
  AsyncBackendFactory.removeAllExtensions();
  AsyncBackendFactory.setDefaultBackend(null);
}

/** Runs `fn` with no extension, the runtime's default, and the Node backend loaded. */
async function withCleanFactory(fn: () => Promise<void> | void): Promise<void> {
  reset();
  await AsyncBackendFactory.load("node");
  try {
    await fn();
  } finally {
    reset();
  }
}

test("factory: the default backend follows the runtime", () =>
  withCleanFactory(async () => {
    const cls = AsyncBackendFactory.getDefaultBackend();
    assert.equal(cls.name, own === "deno" ? "DenoBackend" : "NodeBackend");
    const backend = AsyncBackendFactory.new();
    assert.ok(backend instanceof cls);
    assert.equal(await backend.bootstrap(async () => 40 + 2), 42);
  }));

test("factory: getAvailableBackends lists the built-ins that work here", () => {
  const available = AsyncBackendFactory.getAvailableBackends();
  assert.deepEqual([...available].sort(), hasDeno ? ["deno", "node"] : ["node"]);
  if (!onDeno) assert.ok(!available.has("deno"), "the Deno backend must not be available off Deno");
});

test("factory: unknown names throw and unavailable built-ins say why", () =>
  withCleanFactory(async () => {
    // deno-lint-ignore no-explicit-any
    const factory = AsyncBackendFactory as any;
    assert.throws(() => factory.new("trio"), { name: "RangeError", message: /'name'.*"deno", "node".*"trio"/ });
    assert.throws(() => factory.new(42), { name: "TypeError", message: /'name'/ });
    assert.throws(() => factory.extend("asyncio", null), { name: "RangeError", message: /'name'/ });
    assert.throws(() => factory.setDefaultBackend("asyncio"), { name: "RangeError", message: /'backend'/ });
    await assert.rejects(factory.load("trio"), { name: "RangeError", message: /'name'/ });
    if (!hasDeno) {
      assert.throws(() => AsyncBackendFactory.new("deno"), /'deno' backend/);
      await assert.rejects(AsyncBackendFactory.load("deno"), /'deno' backend/);
    }
  }));

test("factory: extend accepts only a subclass of the built-in", () =>
  withCleanFactory(() => {
    // deno-lint-ignore no-explicit-any
    const factory = AsyncBackendFactory as any;
    AsyncBackendFactory.extend("node", FakeNodeBackend);
    const backend = AsyncBackendFactory.new("node", { verbose: true });
    assert.ok(backend instanceof FakeNodeBackend);
    assert.deepEqual((backend as FakeNodeBackend).options, { verbose: true });
    assert.ok(AsyncBackendFactory.ensure("node") instanceof FakeNodeBackend);

    assert.throws(() => factory.extend("node", UnrelatedBackend), { name: "TypeError", message: /'cls'.*NodeBackend/ });
    assert.throws(() => factory.extend("node", class {}), { name: "TypeError", message: /'cls'/ });
    assert.throws(() => factory.extend("node", {}), { name: "TypeError", message: /'cls'/ });
    // A failed extend keeps the previous extension.
    assert.ok(AsyncBackendFactory.new("node") instanceof FakeNodeBackend);

    AsyncBackendFactory.extend("node", NodeBackend); // the built-in itself removes the extension
    assert.equal(AsyncBackendFactory.new("node").constructor, NodeBackend);
    AsyncBackendFactory.extend("node", FakeNodeBackend);
    AsyncBackendFactory.extend("node", null);
    assert.equal(AsyncBackendFactory.new("node").constructor, NodeBackend);
    AsyncBackendFactory.extend("node", FakeNodeBackend);
    AsyncBackendFactory.removeAllExtensions();
    assert.equal(AsyncBackendFactory.new("node").constructor, NodeBackend);
  }));

test("factory: setDefaultBackend takes a name, a class or null", () =>
  withCleanFactory(() => {
    // deno-lint-ignore no-explicit-any
    const factory = AsyncBackendFactory as any;
    const ownClass = AsyncBackendFactory.getDefaultBackend();

    AsyncBackendFactory.setDefaultBackend(FakeNodeBackend);
    assert.equal(AsyncBackendFactory.getDefaultBackend(), FakeNodeBackend);
    assert.ok(AsyncBackendFactory.new() instanceof FakeNodeBackend);

    AsyncBackendFactory.setDefaultBackend("node");
    assert.equal(AsyncBackendFactory.getDefaultBackend(), NodeBackend);
    // A name is resolved at each use, so a later extension applies.
    AsyncBackendFactory.extend("node", FakeNodeBackend);
    assert.equal(AsyncBackendFactory.getDefaultBackend(), FakeNodeBackend);

    assert.throws(() => factory.setDefaultBackend(class {}), { name: "TypeError", message: /'backend'/ });
    assert.throws(() => factory.setDefaultBackend(7), { name: "TypeError", message: /'backend'/ });
    assert.equal(AsyncBackendFactory.getDefaultBackend(), FakeNodeBackend, "a failed call changes nothing");

    AsyncBackendFactory.setDefaultBackend(null);
    AsyncBackendFactory.removeAllExtensions();
    assert.equal(AsyncBackendFactory.getDefaultBackend(), ownClass);
  }));

test("factory: new and ensure validate their options", () =>
  withCleanFactory(() => {
    // deno-lint-ignore no-explicit-any
    const factory = AsyncBackendFactory as any;
    const backend: AsyncBackend = new NodeBackend();
    assert.equal(AsyncBackendFactory.ensure(backend), backend);
    assert.throws(() => AsyncBackendFactory.ensure(backend, {}), { name: "TypeError", message: /'options'/ });
    assert.ok(AsyncBackendFactory.ensure(undefined) instanceof AsyncBackendFactory.getDefaultBackend());
    assert.ok(AsyncBackendFactory.ensure("node") instanceof NodeBackend);
    assert.throws(() => factory.ensure(42), { name: "TypeError", message: /'backend'/ });

    assert.ok(AsyncBackendFactory.new("node", {}) instanceof NodeBackend);
    assert.throws(() => AsyncBackendFactory.new("node", { x: 1 }), {
      name: "TypeError",
      message: /'options'.*NodeBackend/,
    });
    assert.throws(() => factory.new("node", "fast"), { name: "TypeError", message: /'options'/ });
  }));

test("factory: other built-ins load on demand", () =>
  withCleanFactory(async () => {
    AsyncBackendFactory.invalidateBackendsCache();
    // The runtime's own backend stays available synchronously.
    assert.ok(AsyncBackendFactory.new() instanceof AsyncBackendFactory.getDefaultBackend());
    if (own === "deno") {
      assert.throws(() => AsyncBackendFactory.new("node"), /'node' backend is not loaded yet/);
      assert.throws(() => AsyncBackendFactory.extend("node", FakeNodeBackend), /not loaded yet/);
      assert.throws(() => AsyncBackendFactory.setDefaultBackend("node"), /not loaded yet/);
      assert.equal(await AsyncBackendFactory.load("node"), NodeBackend);
      assert.ok(AsyncBackendFactory.new("node") instanceof NodeBackend);
      AsyncBackendFactory.invalidateBackendsCache();
      assert.throws(() => AsyncBackendFactory.new("node"), /not loaded yet/);
    }
    const all = await AsyncBackendFactory.getAllBackends();
    assert.deepEqual([...all.keys()].sort(), [...AsyncBackendFactory.getAvailableBackends()].sort());
    assert.equal(all.get("node"), NodeBackend);
    assert.ok(AsyncBackendFactory.new("node") instanceof NodeBackend);
    AsyncBackendFactory.extend("node", FakeNodeBackend);
    assert.equal((await AsyncBackendFactory.getAllBackends()).get("node"), FakeNodeBackend);
    assert.equal(await AsyncBackendFactory.load("node"), FakeNodeBackend);
  }));

/** The modules `deno info` says a module loads at run time, dynamic imports excluded. */
async function staticRuntimeGraph(file: string): Promise<string[]> {
  const child = spawn(process.execPath, ["info", "--json", file], { stdio: ["ignore", "pipe", "inherit"] });
  let json = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => json += chunk);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", resolve);
  });
  assert.equal(code, 0);
  type Dependency = { code?: { specifier: string }; isDynamic?: boolean };
  const info = JSON.parse(json) as { roots: string[]; modules: { specifier: string; dependencies?: Dependency[] }[] };
  const bySpecifier = new Map(info.modules.map((module) => [module.specifier, module]));
  const seen = new Set<string>();
  const stack = [...info.roots];
  while (stack.length > 0) {
    const specifier = stack.pop()!;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dependency of bySpecifier.get(specifier)?.dependencies ?? []) {
      if (dependency.code !== undefined && !dependency.isDynamic) stack.push(dependency.code.specifier);
    }
  }
  return [...seen];
}

test("factory: importing the factory on Deno does not load the Node backend", async () => {
  const graph = await staticRuntimeGraph(fileURLToPath(new URL("../../factory/mod.ts", import.meta.url)));
  assert.ok(graph.some((specifier) => specifier.endsWith("/factory/async_backend_factory.ts")), graph.join("\n"));
  const nodeModules = graph.filter((specifier) => specifier.includes("/backend/node/"));
  assert.deepEqual(nodeModules, [], "the factory statically imports the Node backend");
  // The runtime's own backend is a static import: no top-level await, so that the npm
  // flavour (NodeBackend, static) loads with require().
  assert.ok(graph.some((specifier) => specifier.endsWith("/backend/deno/mod.ts")), "DenoBackend is not static");
}, { ignore: onDeno ? false : "deno info exists on Deno only; the npm build has no Deno backend at all" });
