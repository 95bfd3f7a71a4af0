#!/usr/bin/env node
/**
 * The launcher a plugin bundle is wrapped in by `node scripts/bundle.mjs examples` (the REST and stdio
 * examples: build/examples/rest-plugin.cjs, stdio-plugin.cjs), built as CommonJS so that the plugin's
 * start skips Node's ES module loader. The plugin's own code, bundled as CommonJS, is inside this file, in
 * a comment near its end, so the host's checksum of the one file still covers everything that runs.
 * A comment rather than a string literal: V8 skips a comment at a glance, but takes ~20 ms to read a
 * 0.5 MB string literal. Inside the comment, `%` is written `%25` and `*` + `/` is written `%2A/`
 * (`encodeBundle` in scripts/bundle.mjs); `PLUGIN_FILE` and `PLUGIN_BUILD` are filled in by esbuild's
 * `define`.
 *
 * Why: a stdio plugin starts once per call, a REST plugin's start is what its host waits for, and most
 * of a start is V8 compiling `effect` (parsing the bundle, then each function on its first call). V8 can save that compiled code and reuse it on the
 * next start; Node 22.1+ does so for files with `module.enableCompileCache()`, Node 20 has no such switch,
 * so this launcher keeps the cache itself through `vm.Script`'s `cachedData`, on every Node version
 * alike, as the CLI's launcher (src/cli/launcher.ts) does, with the same helpers (src/internal/codeCache.ts:
 * `~/.cache/goplugin-effect`, `NODE_DISABLE_COMPILE_CACHE=1` turns it off). One cache per plugin (name
 * and folder), Node version and build.
 *
 * Stack traces name `<plugin>.main.cjs` beside this file; its source map (`<plugin>.main.cjs.map`, written
 * there by the build) maps them back to the TypeScript sources under `--enable-source-maps`, which runs
 * the bundle without the cache (see `runWithSourceMaps`).
 */
import { createRequire } from "node:module"
import { runCached } from "../src/internal/codeCache.ts"

// Node's built-in modules through `require`: importing one as an ES module first copies all of its exports,
// which for node:fs means loading its streams (~9 ms of a start that is ~75 ms in all).
const require = createRequire(import.meta.url)
const fs = require("node:fs")
const path = require("node:path")
const { fileURLToPath } = require("node:url")

/* global PLUGIN_FILE, PLUGIN_BUILD */
const launcher = fileURLToPath(import.meta.url)
const main = path.join(path.dirname(launcher), PLUGIN_FILE)

/** Where the bundle starts in this file; scripts/bundle.mjs writes the same line. */
const BUNDLE_START = "\n/* goplugin-effect bundle\n"

/** The bundle, read back from the comment at the end of this file. */
const readBundle = () => {
  // ASCII (scripts/bundle.mjs checks), so read as latin1: a copy of the bytes where utf8 decodes them.
  const text = fs.readFileSync(launcher, "latin1")
  const encoded = text.slice(text.lastIndexOf(BUNDLE_START) + BUNDLE_START.length, text.lastIndexOf("\n*/"))
  return encoded.replace(/%2A\/|%25/g, (escape) => (escape === "%25" ? "%" : "*/"))
}

/**
 * Under `--enable-source-maps` the bundle is compiled as Node compiles any CommonJS file, without the
 * code cache: Node applies source maps to such files, not to `vm.Script`s (Node 20 to 24).
 */
const runWithSourceMaps = () => {
  const { Module } = require("node:module")
  const module = new Module(main, null)
  module.filename = main
  module.paths = Module._nodeModulePaths(path.dirname(main))
  module._compile(readBundle(), main)
}

if (process.sourceMapsEnabled === true) runWithSourceMaps()
else runCached(main, readBundle(), PLUGIN_FILE, PLUGIN_BUILD)
