#!/usr/bin/env node
/**
 * The `goplugin` executable as installed (`dist/cli/bin.js`): it runs the CLI of `src/cli/bin.ts`,
 * which the build bundles into one CommonJS file (`dist/cli/main.cjs`), through V8's code cache.
 *
 * Why: compiling the CLI's code (effect, @effect/cli, grpc-js: ~2.5 MB) was the largest single part of
 * its start. V8 can save the compiled code of a script and reuse it on the next start, which is what
 * Node's own compile cache does from Node 22.1 (`module.enableCompileCache`); Node 20 has no such
 * switch for files, so the CLI keeps its own cache through `vm.Script`'s `cachedData`, on every Node
 * version alike. The cache lives in `$XDG_CACHE_HOME/goplugin-effect` (default `~/.cache/goplugin-effect`,
 * a folder only its owner may open), one file per install, Node version and CLI build (a new build
 * replaces the previous one's); V8 checks that a cache matches the source and the engine and ignores it otherwise,
 * and the next run rewrites it. Set `NODE_DISABLE_COMPILE_CACHE=1` to run without it. Any failure to
 * read or write the cache only costs speed.
 *
 * @since 0.2.0
 */
import type * as NodeFs from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { runCached } from "../internal/codeCache.js"

// Built-ins through `require`: importing node:fs as an ES module first copies all of its exports, which
// loads its streams (~9 ms).
const require = createRequire(import.meta.url)
const fs: typeof NodeFs = require("node:fs")

const main = fileURLToPath(new URL("./main.cjs", import.meta.url))

// The build is the bundle's size and mtime: a new build's cache replaces the earlier ones.
const stat = fs.statSync(main)
// The bundle's own `#!` line becomes a comment. The bundle is ASCII (scripts/bundle.mjs checks), so it is
// read as latin1, which copies bytes where utf8 decodes them (a few ms for 2.5 MB).
const source = fs.readFileSync(main, "latin1").replace(/^#!/, "//")
// A script restored from the code cache cannot run `import()` itself: lend it this module's (dynamicImport.ts).
;(globalThis as Record<symbol, unknown>)[Symbol.for("goplugin-effect/cli/import")] = (specifier: string) => import(specifier)
runCached(main, source, "cli", `${stat.size}-${Math.trunc(stat.mtimeMs)}`)
