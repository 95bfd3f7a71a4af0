#!/usr/bin/env node
/**
 * Start-up bundles, written over tsc's output by `npm run build` (see docs/benchmarks.md, "Start-up").
 *
 * Loading `effect` as separate ES modules is what a plugin's and the CLI's start cost: the SDK entry
 * reached ~450 files (effect/Schema pulls effect's Arbitrary and with it all of fast-check), the CLI
 * ~980 (plus @effect/cli, yaml, grpc-js, protobufjs). One bundled file per entry parses in a fraction
 * of that time. tsc still writes every `.d.ts` (and its map) and the per-module files; only the entry
 * files below are replaced, so the package's exports, types and source maps stay where they were.
 *
 *   node scripts/bundle.mjs library    after `tsc -p tsconfig.build.json`: dist/sdk/index.js, dist/cli
 *   node scripts/bundle.mjs examples   after `tsc -p tsconfig.plugins.json`: the example plugins in build/
 */
import * as esbuild from "esbuild"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const at = (...parts) => path.join(root, ...parts)

/**
 * Shared by every bundle: ESM for Node 20+, source maps with their sources inlined (they then work
 * from an installed package, where node_modules/effect is not at the path the build saw). Bundled
 * CommonJS (grpc-js and protobufjs in the CLI) calls `require`, so every bundle gets a real one.
 */
const common = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  sourcesContent: true,
  legalComments: "none",
  logLevel: "warning",
  banner: {
    js: "import { createRequire as __gopluginRequire } from \"node:module\"; const require = __gopluginRequire(import.meta.url);"
  }
}

/**
 * The `goplugin` executable: turns on Node's compile cache where there is one (Node ≥ 22.1; Node 20 has
 * none and skips it), then loads the bundled CLI. The cache must be on before the bundle is compiled,
 * hence the dynamic import. Commands are registered in src/cli/bin.ts as before.
 */
const cliLauncher = `#!/usr/bin/env node
// The goplugin executable; the CLI itself is ./main.js (bundled from src/cli/bin.ts by scripts/bundle.mjs).
import * as module from "node:module"
try {
  module.enableCompileCache?.()
} catch {
  // No cache (read-only or missing cache folder): the CLI only starts slower.
}
await import("./main.js")
`

/**
 * gRPC stays outside plugins: the SDK loads it with `import()` only when a plugin serves gRPC. The CLI
 * takes it in: its callers import it at start, and one file loads faster than grpc-js's ~100.
 */
const grpc = ["@grpc/grpc-js", "@grpc/proto-loader"]

const library = async () => {
  await esbuild.build({ ...common, entryPoints: { "sdk/index": at("src/sdk/index.ts") }, outdir: at("dist"), external: grpc })
  await esbuild.build({ ...common, entryPoints: { "cli/main": at("src/cli/bin.ts") }, outdir: at("dist") })
  fs.writeFileSync(at("dist/cli/bin.js"), cliLauncher)
  fs.chmodSync(at("dist/cli/bin.js"), 0o755)
  fs.rmSync(at("dist/cli/bin.js.map"), { force: true })
}

/**
 * The example plugins as one file each, the way docs/benchmarks.md recommends shipping a TypeScript
 * plugin; `goplugin-effect/sdk` is taken from the sources so that `effect` is in the file once.
 */
const examples = async () => {
  const plugins = ["rest-plugin", "grpc-plugin", "stdio-plugin"]
  await esbuild.build({
    ...common,
    entryPoints: Object.fromEntries(plugins.map((name) => [name, at("examples", `${name}.ts`)])),
    outdir: at("build/examples"),
    external: grpc,
    alias: { "goplugin-effect/sdk": at("src/sdk/index.ts") }
  })
}

const targets = { library, examples }
const chosen = process.argv.slice(2)
if (chosen.length === 0 || chosen.some((name) => !(name in targets))) {
  console.error(`usage: node scripts/bundle.mjs ${Object.keys(targets).join("|")} …`)
  process.exit(2)
}
for (const name of chosen) await targets[name]()
