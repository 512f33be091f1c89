// Every entry of the package loads with require() (Node 20.19+, 22.12+): no top-level await.
"use strict";
const assert = require("node:assert/strict");
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const manifest = JSON.parse(readFileSync(join(__dirname, "node_modules/@easynetwork/async-backend/package.json"), "utf8"));
for (const subpath of Object.keys(manifest.exports)) {
  const name = "@easynetwork/async-backend" + subpath.slice(1);
  const mod = require(name);
  assert.ok(Object.keys(mod).length > 0, `${name} exports nothing`);
  console.log(`require: ${name} ok (${Object.keys(mod).length} exports)`);
}
const { AsyncBackendFactory } = require("@easynetwork/async-backend");
const { NodeBackend } = require("@easynetwork/async-backend/backend/node");
assert.ok(AsyncBackendFactory.new() instanceof NodeBackend, "the default backend from require() is NodeBackend");
console.log("require: done");
