/**
 * V8's code cache kept in files, for the launchers that compile a bundle through `vm.Script` with
 * `cachedData`: the CLI's (src/cli/launcher.ts) and the example plugins' (scripts/cached-launcher.mjs).
 * Node 22.1+ keeps such a cache itself for files (`module.enableCompileCache`); Node 20 has no such
 * switch, so the launchers do it on every Node version alike.
 *
 * The caches live in `$XDG_CACHE_HOME/goplugin-effect` (default `~/.cache/goplugin-effect`, a folder only
 * its owner may open). V8 checks that a cache matches the source and the engine and ignores it
 * otherwise; the launcher then writes it again. `NODE_DISABLE_COMPILE_CACHE=1` turns caching off.
 * Failing to read or write a cache only costs speed.
 *
 * @internal
 */
import type * as NodeFs from "node:fs"
import { createRequire } from "node:module"
import type * as NodeOs from "node:os"
import type * as NodePath from "node:path"
import type * as NodeVm from "node:vm"

// Built-ins through `require`: importing node:fs as an ES module first copies all of its exports, which
// loads its streams (~9 ms of a stdio plugin's start).
const require = createRequire(import.meta.url)
const fs: typeof NodeFs = require("node:fs")
const os: typeof NodeOs = require("node:os")
const path: typeof NodePath = require("node:path")
const vm: typeof NodeVm = require("node:vm")

/** The folder of the caches, or undefined when caching is off or there is no home folder to put it in. */
export const cacheFolder = (): string | undefined => {
  if (process.env["NODE_DISABLE_COMPILE_CACHE"] !== undefined) return undefined
  const home = os.homedir()
  const base = process.env["XDG_CACHE_HOME"] || (home === "" ? undefined : path.join(home, ".cache"))
  return base === undefined ? undefined : path.join(base, "goplugin-effect")
}

/**
 * A short hash of an install's path (FNV-1a, 32 bits), part of its caches' names: two installs of the
 * same build (a global CLI and a project's, two checkouts) keep their own caches, rather than each
 * start of one deleting the other's as an earlier build.
 */
export const installTag = (file: string): string => {
  let hash = 0x811c9dc5
  for (let i = 0; i < file.length; i++) hash = Math.imul(hash ^ file.charCodeAt(i), 0x01000193)
  return (hash >>> 0).toString(16).padStart(8, "0")
}

/** The saved code cache, when there is one that this user owns. */
export const readCache = (file: string | undefined): Buffer | undefined => {
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
 * Saves the code cache of `script` through a temporary file, so that a concurrent start never reads half
 * of one, and removes the other caches whose names start with `samePrefix` (earlier builds of the same
 * program for the same Node version).
 */
export const writeCache = (file: string, script: NodeVm.Script, samePrefix: string): void => {
  try {
    const dir = path.dirname(file)
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    const temporary = `${file}.${process.pid}.tmp`
    fs.writeFileSync(temporary, script.createCachedData(), { mode: 0o600 })
    fs.renameSync(temporary, file)
    for (const name of fs.readdirSync(dir)) {
      if (name.startsWith(samePrefix) && name.endsWith(".v8cache") && name !== path.basename(file)) {
        fs.rmSync(path.join(dir, name), { force: true })
      }
    }
  } catch {
    // A read-only or full disk: the next start compiles again.
  }
}

/**
 * Runs `source` as the CommonJS module `filename` through its code cache. The cache is named
 * `<name>-<install tag>-<Node version>-<arch>-<build>.v8cache`: a new build replaces the caches of the
 * earlier ones of this install and Node version, and leaves every other alone. The module wrapper goes
 * on the source's first line, so that line numbers (stack traces, source maps) stay right. A missing or
 * rejected cache is written at exit, so that the functions compiled while the program ran are in it too.
 */
export const runCached = (filename: string, source: string, name: string, build: string): void => {
  const samePrefix = `${name}-${installTag(filename)}-${process.version}-${process.arch}-`
  const folder = cacheFolder()
  const cacheFile = folder === undefined ? undefined : path.join(folder, `${samePrefix}${build}.v8cache`)
  const cachedData = readCache(cacheFile)
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename,
    ...(cachedData === undefined ? {} : { cachedData })
  })
  if (cacheFile !== undefined && (cachedData === undefined || script.cachedDataRejected === true)) {
    process.once("exit", () => writeCache(cacheFile, script, samePrefix))
  }
  const module = { exports: {} }
  const run = script.runInThisContext() as (...args: ReadonlyArray<unknown>) => void
  run.call(module.exports, module.exports, createRequire(filename), module, filename, path.dirname(filename))
}
