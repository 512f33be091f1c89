/**
 * Builds the npm package into `npm/`: ESM `.js` with `.d.ts`, compiled by the
 * `typescript` npm package, with Node-flavoured entry points (no Deno backend,
 * no `Deno.` in anything Node loads), a generated `package.json`, README and
 * LICENSE. The contract suite and its harness are compiled too, into
 * `npm/tests/` (left out of the packed package), for the Node test run, and
 * the Node benchmark into `npm/scripts/bench/`.
 *
 * Usage: `deno task build:npm`
 *
 * @module
 */

import ts from "npm:typescript@5.9.3";
// Type declarations for `node:*`, fetched into Deno's npm cache by this import.
import nodeTypesPackage from "npm:@types/node@20.19.25/package.json" with { type: "json" };
// The test suite's npm dependencies (deno.json's imports), fetched into Deno's npm cache by
// this import: the compiled suite finds them in `npm/node_modules/`.
import fastCheckPackage from "fast-check/package.json" with { type: "json" };
import { dirname, join, relative, resolve, sep as SEPARATOR } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "npm");
/** Folders of the library, compiled into the package. */
const LIBRARY_DIRS = ["backend", "factory", "tasks", "futures"];
/** Sources the package leaves out: they use `Deno.*`. */
const DENO_ONLY = [join(ROOT, "backend", "deno") + SEPARATOR];

/** Node flavours of Deno-flavoured files, by path relative to the root. */
function nodeFlavours(): Map<string, string> {
  const flavours = new Map<string, string>();

  flavours.set(
    join("factory", "builtin_backends.ts"),
    `/**
 * The built-in backends of the npm package: \`"node"\` only. The Deno backend is
 * published on JSR.
 *
 * @module
 */

import type { AsyncBackend } from "../backend/abc/async_backend.ts";

/** The names of the built-in backends. */
export type BuiltinBackendName = "deno" | "node";

/** A backend class: \`new cls(options?)\` makes a backend. */
// deno-lint-ignore no-explicit-any
export type AsyncBackendClass = new (options?: any) => AsyncBackend;

/** How a built-in backend is found and loaded. */
export interface BuiltinBackend {
  /** \`null\` when the backend works on this runtime, else why it does not. */
  unavailableReason(): string | null;
  /** Imports the backend's module and returns its class. */
  load(): Promise<AsyncBackendClass>;
}

const NO_DENO = "The 'deno' backend is not part of the npm package (on Deno, use the JSR package)";

/** The built-in backends of this build. */
export const BUILTIN_BACKENDS: Readonly<Record<BuiltinBackendName, BuiltinBackend>> = {
  deno: {
    unavailableReason: () => NO_DENO,
    load: () => Promise.reject(new Error(NO_DENO)),
  },
  node: {
    unavailableReason: () => null,
    load: async () => (await import("../backend/node/mod.ts")).NodeBackend,
  },
};
`,
  );

  flavours.set(
    join("tests", "harness.ts"),
    `/**
 * The test registration of the Node test run: \`node:test\`.
 *
 * @module
 */

import { test as nodeTest } from "node:test";

/** Options of {@linkcode test}. */
export interface TestOptions {
  /** Skip the test; a string gives the reason, printed by the runner. */
  ignore?: boolean | string;
}

/** Registers a test. */
export function test(name: string, fn: () => Promise<void> | void, options: TestOptions = {}): void {
  nodeTest(name, { skip: options.ignore ?? false }, fn);
}
`,
  );

  flavours.set(
    join("tests", "backends.ts"),
    `/**
 * The backends the contract suite runs against on Node: the Node backend.
 *
 * @module
 */

import type { AsyncBackend } from "../backend/abc/async_backend.ts";
import { NodeBackend } from "../backend/node/mod.ts";

/** A backend under test. */
export interface BackendUnderTest {
  /** Short name, used as the test-name prefix. */
  readonly name: string;
  /** Makes a fresh backend. */
  create(): AsyncBackend;
}

/** Every backend available on this runtime. */
export const backends: readonly BackendUnderTest[] = [{ name: "node", create: () => new NodeBackend() }];
`,
  );
  return flavours;
}

/** Deno words to Node words, in the root entry point and in the package's doc comments. */
function toNodeWords(text: string): string {
  return text
    .replaceAll("async-backend/backend/deno", "async-backend/backend/node")
    .replaceAll("./backend/deno/mod.ts", "./backend/node/mod.ts")
    .replaceAll("DenoBackend", "NodeBackend");
}

function walk(dir: string, out: string[] = []): string[] {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return out;
    throw error;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) walk(path, out);
    else if (entry.isFile) out.push(path);
  }
  return out;
}

function isDenoOnly(path: string): boolean {
  return DENO_ONLY.some((prefix) => path.startsWith(prefix));
}

/** `./x.ts` to `./x.js` for relative specifiers. */
function toJsSpecifier(specifier: string): string {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) return specifier;
  if (specifier.endsWith(".d.ts") || !specifier.endsWith(".ts")) return specifier;
  return specifier.slice(0, -3) + ".js";
}

/**
 * Rewrites relative `.ts` specifiers to `.js`: imports, exports, `import()`,
 * `import("x").T` types, and the first argument of `new URL("./x.ts", import.meta.url)`
 * (worker entries and thread modules).
 */
function rewriteSpecifiers(context: ts.TransformationContext) {
  const f = context.factory;
  const literal = (node: ts.Expression): ts.Expression =>
    ts.isStringLiteral(node) && toJsSpecifier(node.text) !== node.text
      ? f.createStringLiteral(toJsSpecifier(node.text))
      : node;
  const visit = (node: ts.Node): ts.Node => {
    if (ts.isImportDeclaration(node)) {
      return f.updateImportDeclaration(
        node,
        node.modifiers,
        node.importClause,
        literal(node.moduleSpecifier),
        node.attributes,
      );
    }
    if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      return f.updateExportDeclaration(
        node,
        node.modifiers,
        node.isTypeOnly,
        node.exportClause,
        literal(node.moduleSpecifier),
        node.attributes,
      );
    }
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      const argument = f.updateLiteralTypeNode(node.argument, literal(node.argument.literal) as ts.StringLiteral);
      return ts.visitEachChild(
        f.updateImportTypeNode(node, argument, node.attributes, node.qualifier, node.typeArguments, node.isTypeOf),
        visit,
        context,
      );
    }
    if (
      ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length > 0
    ) {
      const [first, ...rest] = node.arguments;
      return ts.visitEachChild(
        f.updateCallExpression(node, node.expression, node.typeArguments, [literal(first), ...rest]),
        visit,
        context,
      );
    }
    if (
      ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "URL" &&
      node.arguments !== undefined && node.arguments.length === 2 && isImportMetaUrl(node.arguments[1])
    ) {
      const [first, base] = node.arguments;
      return f.updateNewExpression(node, node.expression, node.typeArguments, [literal(first), base]);
    }
    return ts.visitEachChild(node, visit, context);
  };
  return <T extends ts.Node>(node: T): T => ts.visitNode(node, visit) as T;
}

/** `import.meta.url`? */
function isImportMetaUrl(node: ts.Node): boolean {
  return ts.isPropertyAccessExpression(node) && ts.isMetaProperty(node.expression) && node.name.text === "url";
}

/** Drops comments from the JavaScript output: the `.d.ts` files carry the docs. */
function stripComments(context: ts.TransformationContext) {
  const visit = (node: ts.Node): ts.Node => {
    ts.setEmitFlags(node, ts.EmitFlags.NoComments);
    return ts.visitEachChild(node, visit, context);
  };
  return <T extends ts.Node>(node: T): T => ts.visitNode(node, visit) as T;
}

/** Where Deno's npm cache keeps a package version, found from TypeScript's own location. */
function npmCacheDir(name: string, version?: string): string {
  // .../registry.npmjs.org/typescript/<version>/lib/lib.d.ts
  const registry = resolve(dirname(ts.getDefaultLibFilePath({})), "..", "..", "..");
  const base = join(registry, ...name.split("/"));
  if (version !== undefined) return join(base, version);
  const versions = [...Deno.readDirSync(base)].filter((entry) => entry.isDirectory).map((entry) => entry.name);
  if (versions.length === 0) throw new Error(`${name} is not in Deno's npm cache`);
  return join(base, versions.sort(compareVersions).at(-1)!);
}

/**
 * The npm packages the compiled test suite imports, with their dependencies, as
 * `deno.lock` pins them: name to version.
 */
function testDependencies(): Map<string, string> {
  const lock = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.lock"))) as {
    npm?: Record<string, { dependencies?: string[] }>;
  };
  const packages = lock.npm ?? {};
  const found = new Map<string, string>();
  const visit = (name: string, version?: string) => {
    if (found.has(name)) return;
    const key = version !== undefined
      ? `${name}@${version}`
      : Object.keys(packages).find((k) => k.startsWith(`${name}@`) && !k.slice(name.length + 1).includes("@"));
    if (key === undefined || packages[key] === undefined) throw new Error(`deno.lock has no entry for ${name}`);
    found.set(name, key.slice(name.length + 1).split("_")[0]);
    for (const dependency of packages[key].dependencies ?? []) {
      const at = dependency.lastIndexOf("@");
      if (at > 0) visit(dependency.slice(0, at), dependency.slice(at + 1));
      else visit(dependency);
    }
  };
  visit("fast-check", fastCheckPackage.version);
  return found;
}

function copyDir(from: string, to: string): number {
  let copied = 0;
  for (const path of walk(from)) {
    const target = join(to, relative(from, path));
    Deno.mkdirSync(dirname(target), { recursive: true });
    Deno.copyFileSync(path, target);
    copied++;
  }
  return copied;
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map(Number);
  const pb = b.split(/[.-]/).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

interface DenoConfig {
  name: string;
  version: string;
  license?: string;
  exports: Record<string, string>;
}

function packageJson(config: DenoConfig, entryPoints: Map<string, string>): Record<string, unknown> {
  const exports: Record<string, { types: string; default: string }> = {};
  for (const [subpath, source] of entryPoints) {
    const js = "./" + source.replace(/^\.\//, "").replace(/\.ts$/, ".js");
    exports[subpath] = { types: js.replace(/\.js$/, ".d.ts"), default: js };
  }
  const files = [...new Set([...entryPoints.values()].map((source) => source.replace(/^\.\//, "").split("/")[0]))]
    .flatMap((top) => top.endsWith(".ts") ? [top.replace(/\.ts$/, ".js"), top.replace(/\.ts$/, ".d.ts")] : [top + "/"])
    .sort();
  return {
    name: config.name,
    version: config.version,
    description: "Structured concurrency and networking for Node: tasks, cancel scopes, timeouts, TCP, TLS, UDP " +
      "and worker threads behind one AsyncBackend API (also published on JSR for Deno).",
    license: config.license ?? "MIT",
    type: "module",
    sideEffects: false,
    engines: { node: ">=20" },
    main: exports["."]?.default,
    types: exports["."]?.types,
    exports,
    files,
    keywords: ["async", "structured-concurrency", "cancellation", "networking", "trio", "anyio"],
  };
}

/** Builds `npm/`; returns the number of files written. */
export function buildNpm(): number {
  const config = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))) as DenoConfig;
  const flavours = new Map([...nodeFlavours()].map(([path, text]) => [join(ROOT, path), text]));

  // Entry points: every deno.json export with no Deno-only module, plus the Node backend.
  const entryPoints = new Map<string, string>();
  for (const [subpath, source] of Object.entries(config.exports)) {
    if (!isDenoOnly(join(ROOT, source))) entryPoints.set(subpath, source);
  }
  if (!entryPoints.has("./backend/node")) entryPoints.set("./backend/node", "./backend/node/mod.ts");

  const library = [join(ROOT, "mod.ts"), ...LIBRARY_DIRS.flatMap((dir) => walk(join(ROOT, dir)))]
    .filter((path) => path.endsWith(".ts") && !isDenoOnly(path));
  // Test files that use Deno's API or the Deno backend stay Deno-only; harness and backends have Node flavours.
  const skippedTests: string[] = [];
  const tests = walk(join(ROOT, "tests")).filter((path) => {
    if (!path.endsWith(".ts")) return false;
    if (flavours.has(path)) return true;
    const text = Deno.readTextFileSync(path);
    if (/\bDeno\./.test(text) || /\b(?:from|import)\s*\(?\s*["'][^"'\n]*\/backend\/deno\//.test(text)) {
      skippedTests.push(relative(ROOT, path));
      return false;
    }
    return true;
  });

  // The Node column of the benchmarks, for `deno task bench:node`.
  // Worker modules (`*_work.ts`) are named by URL, not imported: they are roots too.
  const benches = walk(join(ROOT, "scripts", "bench"))
    .filter((path) => /[\\/](?:core|node)_bench\.ts$/.test(path) || path.endsWith("_work.ts"));

  const nodeTypes = npmCacheDir("@types/node", nodeTypesPackage.version);
  const testDeps = testDependencies();
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2024.d.ts", "lib.esnext.disposable.d.ts", "lib.dom.d.ts"],
    types: [],
    strict: true,
    noImplicitOverride: true,
    noImplicitReturns: true,
    noFallthroughCasesInSwitch: true,
    allowImportingTsExtensions: true,
    rewriteRelativeImportExtensions: true,
    allowSyntheticDefaultImports: true,
    skipLibCheck: true,
    declaration: true,
    rootDir: ROOT,
    outDir: OUT,
    newLine: ts.NewLineKind.LineFeed,
    paths: {
      "undici-types": [join(npmCacheDir("undici-types"), "index.d.ts")],
      // The test suite's fast-check (its own imports of pure-rand stay unresolved: skipLibCheck).
      "fast-check": [join(npmCacheDir("fast-check", testDeps.get("fast-check")), "lib", "fast-check.d.ts")],
    },
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const flavour = flavours.get(resolve(fileName));
    if (flavour !== undefined) return ts.createSourceFile(fileName, flavour, languageVersion, true);
    return getSourceFile(fileName, languageVersion, onError, shouldCreate);
  };
  const program = ts.createProgram({
    rootNames: [join(nodeTypes, "index.d.ts"), ...library, ...tests, ...benches],
    options,
    host,
  });

  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) {
    const text = ts.formatDiagnosticsWithColorAndContext(diagnostics, host);
    throw new Error(`The npm build does not type-check:\n${text}`);
  }

  // The program follows imports: a Deno-only module reached from the library is a bug.
  const reached = program.getSourceFiles().map((file) => resolve(file.fileName)).filter(isDenoOnly);
  if (reached.length > 0) throw new Error(`The npm build reaches Deno-only modules:\n${reached.join("\n")}`);

  try {
    Deno.removeSync(OUT, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  let written = 0;
  const writeFile = (fileName: string, text: string) => {
    const path = resolve(fileName);
    const isPackageFile = !path.startsWith(join(OUT, "tests") + SEPARATOR) &&
      !path.startsWith(join(OUT, "scripts") + SEPARATOR);
    const output = isPackageFile ? toNodeWords(text) : text;
    if (fileName.endsWith(".js") && /\bDeno\./.test(output) && isPackageFile) {
      throw new Error(`${relative(ROOT, fileName)} mentions Deno's API: it must not be in the npm package`);
    }
    Deno.mkdirSync(dirname(fileName), { recursive: true });
    Deno.writeTextFileSync(fileName, output);
    written++;
  };
  const result = program.emit(undefined, writeFile, undefined, false, {
    before: [stripComments],
    after: [rewriteSpecifiers],
    afterDeclarations: [rewriteSpecifiers as unknown as ts.TransformerFactory<ts.SourceFile | ts.Bundle>],
  });
  if (result.emitSkipped || result.diagnostics.length > 0) {
    throw new Error(`The npm build failed to emit:\n${ts.formatDiagnostics(result.diagnostics, host)}`);
  }

  // The test suite's npm dependencies, where Node resolves them from `npm/tests/` (never packed:
  // `files` in package.json leaves node_modules out).
  for (const [name, version] of testDeps) {
    written += copyDir(npmCacheDir(name, version), join(OUT, "node_modules", ...name.split("/")));
  }

  // Test fixtures that are not TypeScript (certificates, keys).
  for (const path of walk(join(ROOT, "tests", "fixtures"))) {
    if (path.endsWith(".ts")) continue;
    const target = join(OUT, relative(ROOT, path));
    Deno.mkdirSync(dirname(target), { recursive: true });
    Deno.copyFileSync(path, target);
    written++;
  }

  const pkg = packageJson(config, entryPoints);
  Deno.writeTextFileSync(join(OUT, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
  Deno.copyFileSync(join(ROOT, "README.md"), join(OUT, "README.md"));
  Deno.copyFileSync(join(ROOT, "LICENSE"), join(OUT, "LICENSE"));
  written += 3;
  if (skippedTests.length > 0) console.log(`Deno-only test files, not compiled for Node: ${skippedTests.join(", ")}`);
  return written;
}

if (import.meta.main) {
  const start = performance.now();
  const written = buildNpm();
  console.log(`npm/: ${written} files in ${Math.round(performance.now() - start)} ms (${pathToFileURL(OUT).href})`);
}
