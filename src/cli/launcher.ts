#!/usr/bin/env node
/**
 * The `goplugin` executable as installed (`dist/cli/bin.js`): it runs the CLI of `src/cli/bin.ts`,
 * which the build bundles into one CommonJS file (`dist/cli/main.cjs`), through V8's code cache.
 *
 * Why: compiling the CLI's code (effect, @effect/cli, grpc-js: ~2.8 MB) was the largest single part of
 * its start. V8 can save the compiled code of a script and reuse it on the next start, which is what
 * Node's own compile cache does from Node 22.1 (`module.enableCompileCache`); Node 20 has no such
 * switch for files, so the CLI keeps its own cache through `vm.Script`'s `cachedData`, on every Node
 * version alike. The cache lives in `$XDG_CACHE_HOME/goplugin-effect` (default `~/.cache/goplugin-effect`,
 * a folder only its owner may open), one file per Node version and CLI build (a new build replaces the
 * previous one's); V8 checks that a cache matches the source and the engine and ignores it otherwise,
 * and the next run rewrites it. Set `NODE_DISABLE_COMPILE_CACHE=1` to run without it. Any failure to
 * read or write the cache only costs speed.
 *
 * @since 0.2.0
 */
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import * as vm from "node:vm"
import { fileURLToPath } from "node:url"

const main = fileURLToPath(new URL("./main.cjs", import.meta.url))

/** The cache file for this Node version and this build of the CLI, or undefined when caching is off. */
const cacheFileFor = (stat: fs.Stats): string | undefined => {
  if (process.env["NODE_DISABLE_COMPILE_CACHE"] !== undefined) return undefined
  const home = os.homedir()
  const base = process.env["XDG_CACHE_HOME"] || (home === "" ? undefined : path.join(home, ".cache"))
  if (base === undefined) return undefined
  const dir = path.join(base, "goplugin-effect")
  const key = `${process.version}-${process.arch}-${stat.size}-${Math.trunc(stat.mtimeMs)}`
  return path.join(dir, `cli-${key}.v8cache`)
}

/** The saved code cache, when there is one that this user owns. */
const readCache = (file: string | undefined): Buffer | undefined => {
  if (file === undefined) return undefined
  try {
    const stat = fs.lstatSync(file)
    const uid = process.getuid?.()
    if (!stat.isFile() || (uid !== undefined && stat.uid !== uid)) return undefined
    return fs.readFileSync(file)
  } catch {
    return undefined
  }
}

/**
 * Saves the code cache through a temporary file, so that a concurrent run never reads half of one, and
 * removes the caches of earlier builds for the same Node version.
 */
const writeCache = (file: string, script: vm.Script): void => {
  try {
    const dir = path.dirname(file)
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    const temporary = `${file}.${process.pid}.tmp`
    fs.writeFileSync(temporary, script.createCachedData(), { mode: 0o600 })
    fs.renameSync(temporary, file)
    const sameNode = `cli-${process.version}-${process.arch}-`
    for (const name of fs.readdirSync(dir)) {
      if (name.startsWith(sameNode) && name.endsWith(".v8cache") && name !== path.basename(file)) {
        fs.rmSync(path.join(dir, name), { force: true })
      }
    }
  } catch {
    // A read-only or full disk: the next start compiles again.
  }
}

const stat = fs.statSync(main)
const cacheFile = cacheFileFor(stat)
const cachedData = readCache(cacheFile)
// The CommonJS wrapper, on the first line so that line numbers (stack traces, source maps) stay right;
// the bundle's own `#!` line becomes a comment.
const source = fs.readFileSync(main, "utf8").replace(/^#!/, "//")
const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
  filename: main,
  ...(cachedData === undefined ? {} : { cachedData })
})
// A script restored from the code cache cannot run `import()` itself: lend it this module's (dynamicImport.ts).
;(globalThis as Record<symbol, unknown>)[Symbol.for("goplugin-effect/cli/import")] = (specifier: string) => import(specifier)
if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
  // After the command ran, so that the functions it compiled on the way are in the cache too.
  process.once("exit", () => writeCache(cacheFile, script))
}
const module = { exports: {} }
const run = script.runInThisContext() as (...args: ReadonlyArray<unknown>) => void
run.call(module.exports, module.exports, createRequire(main), module, main, path.dirname(main))
