import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as Executor from "../src/Executor.js"
import { nodePlugin, renderConfig, survivors, tempDir, testLayer, utf8, writeConfig } from "./helpers.js"

describe("bad answers from a plugin are typed errors and the host stays up", () => {
  it.scopedLive("each misbehaviour maps to a CallError with the right reason", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = writeConfig(
        dir,
        renderConfig([nodePlugin("bad", "test/fixtures/bad-plugin.js", "rest")], { app: ["bad"] }, "max_response_bytes = 1048576")
      )
      const pids: Array<number> = []
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const caller = yield* container.run("bad")
        pids.push(...(yield* container.running).map((r) => r.process!.pid))
        const failure = (command: string) => Effect.flip(caller.exec(command, utf8("x")))
        expect(yield* failure("not-json")).toMatchObject({ _tag: "CallError", reason: "protocol" })
        expect((yield* failure("not-json")).detail).toContain("not JSON")
        expect(yield* failure("wrong-shape")).toMatchObject({ reason: "protocol", detail: expect.stringContaining("data.response") })
        expect(yield* failure("bad-hex")).toMatchObject({ reason: "protocol", detail: expect.stringContaining("not valid hex") })
        expect(yield* failure("teapot")).toMatchObject({ reason: "status", detail: expect.stringContaining("HTTP 418") })
        expect(yield* failure("error-500")).toMatchObject({ reason: "remote", detail: "HTTP 500: database is down" })
        expect(yield* failure("success-with-404")).toMatchObject({ reason: "status" })
        expect(yield* failure("huge")).toMatchObject({ reason: "too-large", detail: expect.stringContaining("1048576 bytes") })
        expect(yield* failure("hang-up")).toMatchObject({ reason: "protocol" })
        // The host and the plugin are both still fine.
        expect(yield* caller.ping).toBe("pong")
      }).pipe(Effect.scoped, Effect.provide(testLayer(file)))
      expect(yield* survivors(pids)).toEqual([])
    }))

  it.scopedLive("a plugin file changed after install is refused at start", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const script = `${dir}/plugin.sh`
      fs.writeFileSync(script, "#!/bin/sh\nexec sleep 1000\n", { mode: 0o755 })
      const file = writeConfig(dir, renderConfig([{ name: "swapped", exec: script, execFile: script, commType: "rest" }], { app: ["swapped"] }))
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        expect(container.installed.plugins.has("swapped")).toBe(true)
        fs.writeFileSync(script, "#!/bin/sh\necho evil >&2\nexec sleep 1000\n", { mode: 0o755 })
        const error = yield* Effect.flip(container.run("swapped"))
        expect(error).toMatchObject({ _tag: "ChecksumMismatch", plugin: "swapped", file: script })
        expect(yield* container.running).toEqual([])
      }).pipe(Effect.scoped, Effect.provide(testLayer(file)))
    }))
})
