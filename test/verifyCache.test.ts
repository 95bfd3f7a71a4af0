/**
 * The cached checksum verification every launch runs: an unchanged file is not read again; a file
 * replaced by another (new inode) or edited in place (same inode, same size, mtime set back) is read
 * again and refused.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as Discover from "../src/Discover.js"
import * as Host from "../src/Host.js"
import { verifyCached } from "../src/internal/verifyCache.js"
import * as Md5Checker from "../src/Md5Checker.js"
import { md5Of, renderConfig, tempDir } from "./helpers.js"

/** The real checker, counting the files it reads. */
const countingChecker = () => {
  const reads: Array<string> = []
  const layer = Layer.succeed(Md5Checker.Md5Checker, {
    digest: (file) => Effect.flatMap(Effect.sync(() => reads.push(file)), () => Md5Checker.digestFile(file, ["md5"])).pipe(Effect.map((d) => d.md5)),
    verify: (plugin, file, expected) => Effect.zipRight(Effect.sync(() => reads.push(file)), Md5Checker.verifyFile(plugin, file, expected))
  })
  return { reads, layer }
}

/** Lets the file system's clock tick past the files' creation (Linux's coarse clock ticks every ≤ 10 ms). */
const nextTick = Effect.sleep("100 millis")

describe("verifyCache", () => {
  it.scopedLive("an unchanged file is read once; a same-inode edit (same size, mtime set back) and a swap are read again and refused", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const edited = path.join(dir, "edited")
      const swapped = path.join(dir, "swapped")
      fs.writeFileSync(edited, "#!/bin/sh\necho good\n")
      fs.writeFileSync(swapped, "#!/bin/sh\necho good\n")
      // A whole-second mtime, so that setting it back below restores it exactly.
      const wholeSecond = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000)
      fs.utimesSync(edited, wholeSecond, wholeSecond)
      const expected = { md5: md5Of(edited) }
      yield* nextTick
      const { layer, reads } = countingChecker()
      const check = (file: string) => Effect.provide(verifyCached("p", file, expected), layer)

      yield* check(edited)
      yield* check(edited)
      yield* check(swapped)
      yield* check(swapped)
      // Each file was read once: the second check of each was answered from the cache.
      expect(reads).toEqual([edited, swapped])

      // In place: the same inode and size, a different byte, and the old mtime restored.
      const { ino, mtime, atime } = fs.statSync(edited)
      const handle = fs.openSync(edited, "r+")
      fs.writeSync(handle, "E", "#!/bin/sh\necho ".length)
      fs.closeSync(handle)
      fs.utimesSync(edited, atime, mtime)
      expect(fs.statSync(edited).ino).toBe(ino)
      expect(fs.statSync(edited).mtimeMs).toBe(mtime.getTime())
      const editError = yield* Effect.flip(check(edited))
      expect(editError).toMatchObject({ _tag: "ChecksumMismatch", file: edited, expected: expected.md5 })

      // Swapped: another file renamed over it, same content length.
      const replacement = path.join(dir, "replacement")
      fs.writeFileSync(replacement, "#!/bin/sh\necho evil\n")
      fs.renameSync(replacement, swapped)
      const swapError = yield* Effect.flip(check(swapped))
      expect(swapError).toMatchObject({ _tag: "ChecksumMismatch", file: swapped })
      expect(reads).toEqual([edited, swapped, edited, swapped])
    }), 20_000)

  it.scopedLive("Host.install goes through the same memory: a second container of a host does not hash its plugins again, an edit is caught", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const script = path.join(dir, "plugin.sh")
      fs.writeFileSync(script, "#!/bin/sh\necho good\n")
      const file = path.join(dir, "config.toml")
      fs.writeFileSync(file, renderConfig([{ name: "p", exec: "/bin/sh", args: [script], execFile: script, commType: "rest" }], { app: ["p"] }))
      const config = yield* Discover.decodeConfig(file, fs.readFileSync(file, "utf8"))
      yield* nextTick
      const { layer, reads } = countingChecker()
      const install = Host.install(config, "app").pipe(Effect.provide(Layer.mergeAll(layer, NodeFileSystem.layer, NodePath.layer)))
      expect((yield* install).plugins.has("p")).toBe(true)
      expect((yield* install).plugins.has("p")).toBe(true)
      expect(reads).toEqual([script])
      fs.writeFileSync(script, "#!/bin/sh\necho evil\n")
      const third = yield* install
      expect(third.failures.get("p")).toMatchObject({ _tag: "ChecksumMismatch", file: script })
      expect(reads).toEqual([script, script])
    }), 20_000)
})
