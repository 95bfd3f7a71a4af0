import { describe, expect, it } from "@effect/vitest"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Executor from "../src/Executor.js"
import * as Host from "../src/Host.js"
import { Md5Checker, layer as md5Layer, sameDigest } from "../src/Md5Checker.js"
import { md5Of, renderConfig, tempDir, testLayer, writeConfig } from "./helpers.js"

describe("Md5Checker", () => {
  it.scoped("computes md5 and sha256 of a file, and refuses a mismatch with both digests in the error", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = path.join(dir, "plugin.bin")
      const bytes = Buffer.alloc(3 * 1024 * 1024 + 17, 7)
      fs.writeFileSync(file, bytes)
      const checker = yield* Md5Checker
      expect(yield* checker.digest(file)).toBe(md5Of(file))
      const sha = (yield* Effect.promise(() => import("node:crypto"))).createHash("sha256").update(bytes).digest("hex")
      expect(yield* checker.digest(file, "sha256")).toBe(sha)
      yield* checker.verify("p", file, { md5: md5Of(file).toUpperCase(), sha256: sha })
      const wrongSha = yield* Effect.flip(checker.verify("p", file, { md5: md5Of(file), sha256: "0".repeat(64) }))
      expect(wrongSha).toMatchObject({ _tag: "ChecksumMismatch", algorithm: "sha256", actual: sha })
      const wrongMd5 = yield* Effect.flip(checker.verify("p", file, { md5: "0".repeat(32) }))
      expect(wrongMd5).toMatchObject({ _tag: "ChecksumMismatch", algorithm: "md5", file, actual: md5Of(file) })
      expect(wrongMd5.message).toContain(`md5 of ${file} is ${md5Of(file)}`)
      const missing = yield* Effect.flip(checker.digest(path.join(dir, "nope")))
      expect(missing._tag).toBe("FileUnreadable")
    }).pipe(Effect.provide(md5Layer)))

  it("compares digests without regard to case and never equal for different lengths", () => {
    expect(sameDigest("ABCDEF", "abcdef")).toBe(true)
    expect(sameDigest("abcd", "abcdef")).toBe(false)
    expect(sameDigest("", "")).toBe(false)
  })
})

describe("Host install", () => {
  it.scoped("resolves exec on PATH, relative to the config folder, and absolute; reports each failure by plugin", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const script = path.join(dir, "bin", "plugin.sh")
      fs.mkdirSync(path.dirname(script))
      fs.writeFileSync(script, "#!/bin/sh\nexit 0\n", { mode: 0o755 })
      const tampered = path.join(dir, "tampered.sh")
      fs.writeFileSync(tampered, "#!/bin/sh\nexit 0\n", { mode: 0o755 })
      const file = writeConfig(dir, renderConfig(
        [
          { name: "relative", exec: "bin/plugin.sh", execFile: script, commType: "rest" },
          { name: "absolute", exec: script, execFile: script, commType: "rest" },
          { name: "onpath", exec: "sh", args: [script], execFile: script, commType: "rest" },
          { name: "missing", exec: "bin/nothing-here", execFile: script, commType: "rest" },
          { name: "tampered", exec: tampered, execFile: tampered, commType: "rest" },
          { name: "nofile", exec: script, execFile: script, execFileAs: "gone.sh", commType: "rest" },
          { name: "forbidden", exec: script, execFile: script, commType: "rest" }
        ],
        { app: ["relative", "absolute", "onpath", "missing", "tampered", "nofile"], other: ["forbidden"] }
      ))
      fs.appendFileSync(tampered, "# changed after registration\n")

      yield* Effect.gen(function*() {
        const executor = yield* Executor.Executor
        const installed = yield* Host.install(executor.config, "app")
        expect(installed.plugins.get("relative")?.exec).toBe(script)
        expect(installed.plugins.get("absolute")?.exec).toBe(script)
        expect(installed.plugins.get("onpath")?.exec).toMatch(/\/sh$/)
        expect(installed.plugins.get("onpath")?.execFile).toBe(script)
        expect(installed.plugins.get("relative")?.cwd).toBe(path.dirname(file))
        expect(Array.from(installed.failures.keys()).sort()).toEqual(["missing", "nofile", "tampered"])
        expect(installed.failures.get("missing")).toMatchObject({
          _tag: "ExecutableNotFound",
          field: "exec",
          tried: [path.join(dir, "bin/nothing-here")]
        })
        expect(installed.failures.get("nofile")).toMatchObject({
          _tag: "ExecutableNotFound",
          field: "exec_file",
          value: "gone.sh"
        })
        expect(installed.failures.get("tampered")).toMatchObject({ _tag: "ChecksumMismatch", plugin: "tampered" })

        const container = yield* Executor.fromHost("app")
        expect((yield* Effect.flip(container.run("tampered")))._tag).toBe("ChecksumMismatch")
        expect((yield* Effect.flip(container.run("missing")))._tag).toBe("ExecutableNotFound")
        const acl = yield* Effect.flip(container.run("forbidden"))
        expect(acl).toMatchObject({ _tag: "PluginNotAllowed", host: "app", plugin: "forbidden" })
        expect(acl.message).toContain(`Add "forbidden" to [hosts.app].plugins`)
        expect((yield* Effect.flip(container.run("ghost")))._tag).toBe("PluginNotFound")
        const noHost = yield* Effect.flip(Executor.fromHost("nobody"))
        expect(noHost).toMatchObject({ _tag: "HostNotFound", host: "nobody", known: ["app", "other"] })
        expect(yield* container.running).toEqual([])
      }).pipe(Effect.provide(Layer.merge(testLayer(file), NodeContext.layer)))
    }))
})
