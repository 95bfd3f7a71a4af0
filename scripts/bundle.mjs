#!/usr/bin/env node
/**
 * Start-up bundles, written over tsc's output by `npm run build` (see docs/benchmarks.md, "Cold starts").
 *
 * Loading `effect` as separate ES modules is what a plugin's and the CLI's start cost: the SDK entry
 * reached ~450 files (effect/Schema pulls effect's Arbitrary and with it all of fast-check), the CLI
 * ~980 (plus @effect/cli, yaml, grpc-js, protobufjs). One bundled file per entry parses in a fraction
 * of that time. tsc still writes every `.d.ts` (and its map) and the per-module files; only the entry
 * files below are replaced, so the package's exports, types and source maps stay where they were.
 *
 *   node scripts/bundle.mjs library    after `tsc -p tsconfig.build.json`: dist/sdk/index.js, dist/sdk/stdio.js
 *                                      (the SDK without the REST and gRPC servers), dist/cli/main.cjs
 *                                      (the CLI) and dist/cli/bin.js (src/cli/launcher.ts, which runs it)
 *   node scripts/bundle.mjs examples   after `tsc -p tsconfig.plugins.json`: the example plugins in build/
 */
import * as esbuild from "esbuild"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const at = (...parts) => path.join(root, ...parts)

/**
 * Shared by every bundle: ESM for Node 20+, linked source maps (stack traces under
 * `--enable-source-maps` point into src/*.ts, which the package ships, and into effect's own sources);
 * like tsc's maps they do not embed the sources, which would add ~15 MB to the package.
 */
const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  sourcesContent: false,
  legalComments: "none",
  logLevel: "warning"
}

/**
 * gRPC stays outside plugins: the SDK loads it with `import()` only when a plugin serves gRPC. The CLI
 * takes it in: its callers import it at start, and one file loads faster than grpc-js's ~100.
 */
const grpc = ["@grpc/grpc-js", "@grpc/proto-loader"]

/**
 * In the CLI's bundle gRPC's packages are bundled but evaluated on first use: `src/internal/grpcModules.ts`
 * loads them with `createRequire`, which esbuild cannot follow, so its `load` becomes plain `require`
 * calls here, which esbuild bundles as modules evaluated when first required.
 */
const lazyGrpc = {
  name: "lazy-grpc",
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]internal[\\/]grpcModules\.ts$/ }, async (args) => {
      const text = await fs.promises.readFile(args.path, "utf8")
      const line = "const load = createRequire(import.meta.url)"
      if (!text.includes(line)) throw new Error(`${args.path} no longer has the line \`${line}\` that the CLI bundle replaces`)
      const bundled = "const load = (id: string): unknown =>\n  id === \"@grpc/grpc-js\" ? require(\"@grpc/grpc-js\") : require(\"@grpc/proto-loader\")"
      return { contents: text.replace(line, bundled), loader: "ts" }
    })
  }
}

/**
 * In the CLI's bundle, our sources import from two barrels by the modules behind them: `import { Effect,
 * Layer } from "effect"` becomes `import * as Effect from "effect/Effect"; …` (effect's index re-exports
 * each module as a namespace), and `import { FileUnreadable } from "./PluginError.js"` an import from
 * `./VerifyErrors.js` (src/PluginError.ts re-exports the error modules). The CLI's handlers are evaluated
 * on first use (src/cli/handledBy.ts), so esbuild wraps every module in a function run when the module
 * is first needed, and running a barrel's runs all it re-exports: effect's index every effect module any
 * command uses (Stream, STM, Schedule, …), PluginError every error class; `goplugin md5` needs a few of
 * either. The imports stay on their lines, so that the source map's lines stay right.
 */
const flatImports = {
  name: "flat-imports",
  setup(build) {
    const effectIndex = fs.readFileSync(at("node_modules/effect/dist/esm/index.js"), "utf8")
    const effectModules = new Map(
      Array.from(effectIndex.matchAll(/^export \* as (\w+) from "\.\/(\w+)\.js"/gm), ([, name, file]) => [name, file])
    )
    const errorModuleOf = new Map()
    for (const [, module] of fs.readFileSync(at("src/PluginError.ts"), "utf8").matchAll(/^export \* from "\.\/(\w+)\.js"/gm)) {
      const text = fs.readFileSync(at("src", `${module}.ts`), "utf8")
      for (const [, name] of text.matchAll(/^export (?:class|const|function|type|interface) (\w+)/gm)) errorModuleOf.set(name, module)
    }
    const parts = (specifier) => {
      const typeOnly = specifier.startsWith("type ")
      const [name, local = name] = specifier.replace(/^type\s+/, "").split(/\s+as\s+/)
      return { type: typeOnly ? "type " : "", name, local }
    }
    const fromEffect = (specifier) => {
      const { type, name, local } = parts(specifier)
      const file = effectModules.get(name)
      return file === undefined
        ? `import ${type}{ ${name} as ${local} } from "effect/Function"`
        : `import ${type}* as ${local} from "effect/${file}"`
    }
    const fromErrors = (folder) => (specifier) => {
      const { type, name, local } = parts(specifier)
      const module = errorModuleOf.get(name)
      if (module === undefined) throw new Error(`src/PluginError.ts re-exports no ${name}`)
      return `import ${type}{ ${name} as ${local} } from "${folder}${module}.js"`
    }
    const rewrite = (names, one, whole) =>
      names.split(",").map((name) => name.trim()).filter((name) => name !== "").map(one).join("; ") +
      "\n".repeat(whole.split("\n").length - 1)
    build.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!args.path.startsWith(at("src") + path.sep)) return undefined
      const text = await fs.promises.readFile(args.path, "utf8")
      const contents = text
        .replace(/^import \{([^}]*)\} from "effect"$/gm, (whole, names) => rewrite(names, fromEffect, whole))
        .replace(/^import \{([^}]*)\} from "((?:\.\.?\/)+)PluginError\.js"$/gm, (whole, names, folder) =>
          path.resolve(path.dirname(args.path), folder, "PluginError.ts") === at("src/PluginError.ts")
            ? rewrite(names, fromErrors(folder), whole)
            : whole)
      return { contents, loader: "ts" }
    })
  }
}

const library = async () => {
  await esbuild.build({
    ...common,
    entryPoints: { "sdk/index": at("src/sdk/index.ts"), "sdk/stdio": at("src/sdk/stdio.ts") },
    outdir: at("dist"),
    external: grpc
  })
  // The CLI: CommonJS, so that src/cli/launcher.ts (installed as dist/cli/bin.js) can run it through
  // V8's code cache, which Node 20 offers for scripts (vm.Script) but not for ES modules.
  await esbuild.build({
    ...common,
    entryPoints: [at("src/cli/bin.ts")],
    outfile: at("dist/cli/main.cjs"),
    format: "cjs",
    plugins: [lazyGrpc, flatImports],
    define: { "import.meta.url": "__importMetaUrl" },
    banner: { js: "var __importMetaUrl = require(\"node:url\").pathToFileURL(__filename).href;" }
  })
  // The launcher reads the bundle as latin1, which is right for ASCII only (esbuild's default charset).
  if (/[^\x00-\x7f]/.test(fs.readFileSync(at("dist/cli/main.cjs"), "latin1"))) throw new Error("dist/cli/main.cjs is not ASCII")
  await esbuild.build({ ...common, entryPoints: [at("src/cli/launcher.ts")], outfile: at("dist/cli/bin.js") })
  fs.chmodSync(at("dist/cli/bin.js"), 0o755)
}

/**
 * Our own modules do nothing on load that a program needs unless it uses one of their exports, so a
 * bundle may leave out every module whose exports it does not use, as `"sideEffects": false` would let
 * it. That matters for the stdio example: its handlers (./handlers.ts, shared with the REST and gRPC
 * examples) import `CommandFailed` from `goplugin-effect/sdk`, whose index re-exports the REST and gRPC
 * servers; marked so, the stdio bundle keeps only what `goplugin-effect/sdk/stdio` needs.
 */
const sourcesWithoutSideEffects = {
  name: "sources-without-side-effects",
  setup(build) {
    const sources = at("src") + path.sep
    build.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === sourcesWithoutSideEffects || !args.importer.startsWith(root)) return undefined
      const { importer, kind, resolveDir, with: attributes } = args
      const resolved = await build.resolve(args.path, {
        importer,
        kind,
        resolveDir,
        with: attributes,
        pluginData: sourcesWithoutSideEffects
      })
      if (resolved.errors.length > 0 || !resolved.path.startsWith(sources)) return resolved
      return { ...resolved, sideEffects: false }
    })
  }
}

/**
 * The example plugins as one file each, the way docs/benchmarks.md recommends shipping a TypeScript
 * plugin; `goplugin-effect/sdk` (and `/sdk/stdio`) is taken from the sources so that `effect` is in the
 * file once. The REST and stdio examples, whose start is measured against Python's and a bare node
 * script's, also run through V8's code cache (`withCodeCache`); the gRPC example stays an ES module,
 * since it loads @grpc/grpc-js with `import()`.
 */
const examples = async () => {
  const plugins = ["grpc-plugin"]
  const sources = { "goplugin-effect/sdk": at("src/sdk/index.ts"), "goplugin-effect/sdk/stdio": at("src/sdk/stdio.ts") }
  // The REST plugin also as tsc writes it, for the bench's "not bundled" figure: a plugin that imports
  // the packaged SDK (itself one file) and, through ./handlers.js, `effect/Effect` from node_modules.
  await esbuild.build({
    ...common,
    bundle: false,
    entryPoints: [at("examples/rest-plugin.ts")],
    outfile: at("build/examples/rest-plugin.unbundled.js")
  })
  await esbuild.build({
    ...common,
    entryPoints: Object.fromEntries(plugins.map((name) => [name, at("examples", `${name}.ts`)])),
    outdir: at("build/examples"),
    external: grpc,
    alias: sources,
    plugins: [sourcesWithoutSideEffects]
  })
  for (const name of ["stdio-plugin", "rest-plugin"]) {
    await withCodeCache(name, { alias: sources, plugins: [sourcesWithoutSideEffects] })
  }
}

/**
 * A plugin as one CommonJS file, `<name>.cjs`, that runs its bundle through V8's code cache (see
 * scripts/cached-launcher.mjs): the plugin bundled as CommonJS, kept in a comment at the end of the
 * launcher, and that bundle's source map written beside it as `<name>.main.cjs.map`. The launcher is
 * CommonJS too: an ES module entry costs a start Node's ES module loader (~6 ms of a stdio call).
 */
const withCodeCache = async (name, options) => {
  const inner = `${name}.main.cjs`
  const built = await esbuild.build({
    ...common,
    ...options,
    entryPoints: [at("examples", `${name}.ts`)],
    outfile: at("build/examples", inner),
    format: "cjs",
    external: grpc,
    write: false,
    define: { "import.meta.url": "__importMetaUrl" },
    banner: { js: "var __importMetaUrl = require(\"node:url\").pathToFileURL(__filename).href;" }
  })
  const code = built.outputFiles.find((file) => file.path.endsWith(".cjs"))
  const map = built.outputFiles.find((file) => file.path.endsWith(".cjs.map"))
  fs.writeFileSync(map.path, map.contents)
  // The launcher turns the first line into a function header; the bundle's `#!` line becomes a comment.
  const source = code.text.replace(/^#!/, "//")
  const launcher = at("build/examples", `${name}.cjs`)
  await esbuild.build({
    ...common,
    entryPoints: [at("scripts/cached-launcher.mjs")],
    outfile: launcher,
    format: "cjs",
    define: {
      PLUGIN_FILE: JSON.stringify(inner),
      PLUGIN_BUILD: JSON.stringify(createHash("sha256").update(source).digest("hex").slice(0, 16)),
      "import.meta.url": "__importMetaUrl"
    },
    banner: { js: "var __importMetaUrl = require(\"node:url\").pathToFileURL(__filename).href;" }
  })
  // Before the launcher's own `//# sourceMappingURL=` line: Node takes the last one in a file as its map.
  const written = fs.readFileSync(launcher, "utf8")
  const mapLine = written.lastIndexOf("//# sourceMappingURL=")
  const whole = `${written.slice(0, mapLine)}\n/* goplugin-effect bundle\n${encodeBundle(source)}\n*/\n${written.slice(mapLine)}`
  // The launcher reads itself as latin1, which is right for ASCII only (esbuild's default charset).
  if (/[^\x00-\x7f]/.test(whole)) throw new Error(`${launcher} is not ASCII`)
  fs.writeFileSync(launcher, whole)
}

/** The bundle as it can sit in a block comment: `%` as `%25`, then `*` + `/` as `%2A/` (see the launcher). */
const encodeBundle = (source) => source.replaceAll("%", "%25").replaceAll("*/", "%2A/")

const targets = { library, examples }
const chosen = process.argv.slice(2)
if (chosen.length === 0 || chosen.some((name) => !(name in targets))) {
  console.error(`usage: node scripts/bundle.mjs ${Object.keys(targets).join("|")} …`)
  process.exit(2)
}
for (const name of chosen) await targets[name]()
