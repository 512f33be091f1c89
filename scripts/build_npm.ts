/**
 * Builds the npm package into `npm/` with `tsc` (the `typescript` npm package):
 * ESM `.js` with `.d.ts`, relative `.ts` specifiers rewritten by
 * `rewriteRelativeImportExtensions`. The few files that differ on Node are
 * compiled from their `*.node.ts` siblings, real sources listed in
 * {@linkcode NODE_FLAVOURS}. Entry points are `deno.json`'s exports; Deno-only
 * sources (`deno/` folders, tests that use the Deno backend or API) are left
 * out. The test suite is compiled into `npm/tests/` and the Node benchmark into
 * `npm/scripts/bench/` (neither is packed); their npm dependencies are
 * installed into `npm/node_modules/` by `npm install` from the package's
 * pinned `devDependencies`.
 *
 * Usage: `deno task build:npm`
 *
 * @module
 */

import ts from "npm:typescript@5.9.3";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "npm");

/** The npm build's flavours: a file (key) compiled from its Node sibling (value), paths from the root. */
export const NODE_FLAVOURS: Readonly<Record<string, string>> = {
  "factory/builtin_backends.ts": "factory/builtin_backends.node.ts",
  "tests/harness.ts": "tests/harness.node.ts",
  "tests/backends.ts": "tests/backends.node.ts",
  "tests/backend/_net/_clock_hosts.ts": "tests/backend/_net/_clock_hosts.node.ts",
};

/** Type declarations of `node:*`: those of the oldest Node the package supports. */
const TYPES_NODE_VERSION = "20.19.25";
/** Which Node versions the package works on: `await using` (20.4) and `require()` of ESM (20.19, 22.12). */
const NODE_ENGINES = "^20.19.0 || >=22.12.0";
const REPOSITORY = "https://github.com/easynetwork/async-backend";
/** Folders of the library, compiled into the package. */
const LIBRARY_DIRS = ["backend", "factory", "tasks", "futures"];

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]);
}

const rel = (path: string): string => relative(ROOT, path).split("\\").join("/");

/** A TypeScript source of the build (not a declaration file, not a Node flavour: those are swapped in). */
const isSource = (path: string): boolean =>
  path.endsWith(".ts") && !path.endsWith(".d.ts") && !path.endsWith(".node.ts");

/** Deno-only: anything under a `deno/` folder (the Deno backend, its tests). */
const inDenoFolder = (path: string): boolean =>
  !rel(path).startsWith("../") && rel(path).split("/").slice(0, -1).includes("deno");

/** A test that needs Deno: it imports the Deno backend or uses Deno's API (and has no Node flavour). */
function isDenoOnlyTest(path: string): boolean {
  if (inDenoFolder(path) || /_deno_test\.ts$/.test(path)) return true;
  if (rel(path) in NODE_FLAVOURS) return false;
  const text = readFileSync(path, "utf8");
  const imports = ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName);
  return imports.some((specifier) => /(^|\/)backend\/deno\//.test(specifier)) || /\bDeno\.[A-Za-z]/.test(text);
}

/** `./x.ts` to `./x.js`; any other specifier as is. */
const toJs = (specifier: string): string =>
  /^\.\.?\/.*(?<!\.d)\.ts$/.test(specifier) ? specifier.slice(0, -3) + ".js" : specifier;

/**
 * The specifiers `rewriteRelativeImportExtensions` leaves as `.ts`: module URLs in the JavaScript
 * (`new URL("./x.ts", import.meta.url)`: worker entries, fixtures) and imports in the `.d.ts`.
 */
function rewriteSpecifiers(context: ts.TransformationContext) {
  const f = context.factory;
  const js = (node: ts.Expression) => ts.isStringLiteral(node) ? f.createStringLiteral(toJs(node.text)) : node;
  const visit = (node: ts.Node): ts.Node => {
    if (
      ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "URL" &&
      node.arguments?.length === 2 && ts.isPropertyAccessExpression(node.arguments[1]) &&
      ts.isMetaProperty(node.arguments[1].expression) && node.arguments[1].name.text === "url"
    ) {
      return f.updateNewExpression(node, node.expression, node.typeArguments, [
        js(node.arguments[0]),
        node.arguments[1],
      ]);
    }
    if (ts.isImportDeclaration(node)) {
      return f.updateImportDeclaration(
        node,
        node.modifiers,
        node.importClause,
        js(node.moduleSpecifier),
        node.attributes,
      );
    }
    if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined) {
      const { modifiers, isTypeOnly, exportClause, moduleSpecifier, attributes } = node;
      return f.updateExportDeclaration(node, modifiers, isTypeOnly, exportClause, js(moduleSpecifier), attributes);
    }
    if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      const argument = f.updateLiteralTypeNode(node.argument, js(node.argument.literal) as ts.StringLiteral);
      const { attributes, qualifier, typeArguments, isTypeOf } = node;
      const updated = f.updateImportTypeNode(node, argument, attributes, qualifier, typeArguments, isTypeOf);
      return ts.visitEachChild(updated, visit, context);
    }
    return ts.visitEachChild(node, visit, context);
  };
  return <T extends ts.Node>(file: T): T => ts.visitNode(file, visit) as T;
}

interface DenoConfig {
  name: string;
  version: string;
  license?: string;
  exports: Record<string, string>;
  imports?: Record<string, string>;
}

/** The published `package.json`; `devDependencies` are what the compiled tests and the type check need. */
function packageJson(config: DenoConfig, entryPoints: [string, string][]): Record<string, unknown> {
  const exports = Object.fromEntries(entryPoints.map(([subpath, source]) => {
    const js = source.replace(/\.ts$/, ".js");
    return [subpath, { types: js.replace(/\.js$/, ".d.ts"), default: js }];
  }));
  const files = [...new Set(entryPoints.map(([, source]) => source.replace(/^\.\//, "").split("/")[0]))]
    .flatMap((top) => top.endsWith(".ts") ? [top.replace(/\.ts$/, ".js"), top.replace(/\.ts$/, ".d.ts")] : [top + "/"]);
  // deno.json's `npm:` imports (the test suite's), at the same pinned versions.
  const devDependencies: Record<string, string> = { "@types/node": TYPES_NODE_VERSION };
  for (const specifier of Object.values(config.imports ?? {})) {
    const match = /^npm:(@?[^@]+)@(.+)$/.exec(specifier);
    if (match !== null) devDependencies[match[1]] = match[2];
  }
  return {
    name: config.name,
    version: config.version,
    description: "Structured concurrency and networking for Node: tasks, cancel scopes, timeouts, TCP, TLS, UDP " +
      "and worker threads behind one AsyncBackend API (also published on JSR for Deno).",
    license: config.license ?? "MIT",
    repository: { type: "git", url: `git+${REPOSITORY}.git` },
    homepage: `${REPOSITORY}#readme`,
    bugs: { url: `${REPOSITORY}/issues` },
    type: "module",
    sideEffects: false,
    engines: { node: NODE_ENGINES },
    exports,
    files: files.sort(),
    keywords: ["async", "structured-concurrency", "cancellation", "networking", "trio", "anyio"],
    devDependencies,
  };
}

/** Builds `npm/`; returns the number of files written. */
export function buildNpm(): number {
  const config = JSON.parse(readFileSync(join(ROOT, "deno.json"), "utf8")) as DenoConfig;
  const entryPoints = Object.entries(config.exports).filter(([, source]) => !inDenoFolder(join(ROOT, source)));
  for (const [file, flavour] of Object.entries(NODE_FLAVOURS)) {
    if (!existsSync(join(ROOT, file)) || !existsSync(join(ROOT, flavour))) throw new Error(`${file}/${flavour}?`);
  }

  // A fresh npm/ (node_modules kept), its package.json, and the pinned devDependencies.
  mkdirSync(OUT, { recursive: true });
  for (const name of readdirSync(OUT)) if (name !== "node_modules") rmSync(join(OUT, name), { recursive: true });
  writeFileSync(join(OUT, "package.json"), JSON.stringify(packageJson(config, entryPoints), null, 2) + "\n");
  const npm = spawnSync("npm", [
    "install",
    "--prefer-offline",
    "--no-package-lock",
    "--no-audit",
    "--no-fund",
    "--ignore-scripts",
  ], {
    cwd: OUT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (npm.status !== 0) throw new Error(`npm install in npm/ failed with exit code ${npm.status}`);

  const library = [join(ROOT, "mod.ts"), ...LIBRARY_DIRS.flatMap((dir) => walk(join(ROOT, dir)))]
    .filter((path) => isSource(path) && !inDenoFolder(path));
  const tests = walk(join(ROOT, "tests")).filter(isSource);
  const denoOnlyTests = tests.filter(isDenoOnlyTest);
  // The Node column of the benchmarks (`deno task bench:node`); worker modules (`*_work.ts`) are roots too.
  const benches = walk(join(ROOT, "scripts", "bench")).filter((path) =>
    /[\\/]((core|node|sync|channel|stream|diagnostics|memory|http|thread_pool)_bench|_http_load|\w+_work)\.ts$/.test(
      path,
    )
  );

  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    // The sources' own lib (they also type-check on Deno); the emitted .d.ts needs only es2022 and
    // @types/node, which scripts/test_npm.ts checks in a consumer project.
    lib: ["lib.es2024.d.ts", "lib.esnext.disposable.d.ts", "lib.dom.d.ts"],
    types: ["node"],
    typeRoots: [join(OUT, "node_modules", "@types")],
    // The test suite's packages, from npm/node_modules/ (the sources live outside npm/).
    paths: { "*": [join(OUT, "node_modules", "*")] },
    strict: true,
    noImplicitOverride: true,
    noImplicitReturns: true,
    noFallthroughCasesInSwitch: true,
    allowImportingTsExtensions: true,
    rewriteRelativeImportExtensions: true,
    skipLibCheck: true,
    declaration: true,
    rootDir: ROOT,
    outDir: OUT,
    newLine: ts.NewLineKind.LineFeed,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const flavour = NODE_FLAVOURS[rel(resolve(fileName))];
    return getSourceFile(
      flavour === undefined ? fileName : join(ROOT, flavour),
      languageVersion,
      onError,
      shouldCreate,
    );
  };
  const rootNames = [...library, ...tests.filter((path) => !denoOnlyTests.includes(path)), ...benches];
  const program = ts.createProgram({ rootNames, options, host });

  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) {
    throw new Error(
      `The npm build does not type-check:\n${ts.formatDiagnosticsWithColorAndContext(diagnostics, host)}`,
    );
  }
  // The program follows imports: a Deno-only module reached from what Node runs is a bug.
  const reached = program.getSourceFiles().map((file) => resolve(file.fileName)).filter(inDenoFolder);
  if (reached.length > 0) throw new Error(`The npm build reaches Deno-only modules:\n${reached.join("\n")}`);

  let written = 0;
  const result = program.emit(
    undefined,
    (fileName, text) => {
      mkdirSync(dirname(fileName), { recursive: true });
      writeFileSync(fileName, text);
      written++;
    },
    undefined,
    false,
    {
      before: [rewriteSpecifiers],
      afterDeclarations: [rewriteSpecifiers as ts.TransformerFactory<ts.SourceFile | ts.Bundle>],
    },
  );
  if (result.emitSkipped || result.diagnostics.length > 0) {
    throw new Error(`The npm build failed to emit:\n${ts.formatDiagnostics(result.diagnostics, host)}`);
  }

  // Test fixtures that are not TypeScript (certificates, keys); README (Node first) and LICENSE.
  for (const path of walk(join(ROOT, "tests")).filter((path) => !path.endsWith(".ts"))) {
    cpSync(path, join(OUT, rel(path)));
  }
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const nodeStart = readFileSync(join(ROOT, "scripts", "npm_readme_head.md"), "utf8");
  writeFileSync(join(OUT, "README.md"), nodeStart + "\n" + readme.slice(readme.indexOf("\n") + 1));
  cpSync(join(ROOT, "LICENSE"), join(OUT, "LICENSE"));
  if (denoOnlyTests.length > 0) {
    console.log(`Deno-only tests, not compiled for Node: ${denoOnlyTests.map(rel).join(", ")}`);
  }
  return written + 3;
}

if (import.meta.main) {
  const start = performance.now();
  const written = buildNpm();
  console.log(`npm/: ${written} files in ${Math.round(performance.now() - start)} ms`);
}
