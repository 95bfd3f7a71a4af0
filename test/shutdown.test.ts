import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { built, isAlive, nodePlugin, renderConfig, survivors, tempDir, writeConfig } from "./helpers.js"

interface Started {
  readonly host: number
  readonly pids: ReadonlyArray<number>
  readonly grandchild: number
}

/** Starts the fixture host program and waits for the JSON line with its pids. */
const startHost = (configFile: string) =>
  Effect.acquireRelease(
    Effect.async<{ started: Started; exited: Promise<number | string> }, Error>((resume) => {
      const child = spawn(process.execPath, [built("test/fixtures/host-program.js"), configFile], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(signal ?? code ?? -1)))
      let out = ""
      let err = ""
      child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()))
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString()
        const line = out.split("\n")[0]
        if (out.includes("\n") && line !== undefined) resume(Effect.succeed({ started: JSON.parse(line) as Started, exited }))
      })
      child.on("exit", (code) => resume(Effect.fail(new Error(`host exited early (${code}): ${err}`))))
    }),
    ({ started }) => Effect.sync(() => isAlive(started.host) && process.kill(started.host, "SIGKILL"))
  )

const config = Effect.map(tempDir, (dir) =>
  writeConfig(dir, renderConfig(
    [nodePlugin("parent", "test/fixtures/grandchild-plugin.js", "rest"), nodePlugin("ts_rest", "examples/rest-plugin.cjs", "rest")],
    { app: ["parent", "ts_rest"] }
  )))

describe("host shutdown", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it.scopedLive(`a host run with GoPlugin.runMain that receives ${signal} exits ${signal === "SIGINT" ? 130 : 143} and leaves no plugin and no grandchild`, () =>
      Effect.gen(function*() {
        const { started, exited } = yield* startHost(yield* config)
        const everything = [...started.pids, started.grandchild]
        expect(everything.length).toBe(3)
        expect(everything.every(isAlive)).toBe(true)
        process.kill(started.host, signal)
        // Like a shell: 128 + the signal's number, after every plugin was stopped.
        expect(yield* Effect.promise(() => exited)).toBe(signal === "SIGINT" ? 130 : 143)
        expect(yield* survivors(everything, 1000)).toEqual([])
      }))
  }

  it.scopedLive("a host killed with SIGKILL: SDK plugins notice stdin EOF and exit with their grandchildren", () =>
    Effect.gen(function*() {
      const { started, exited } = yield* startHost(yield* config)
      const everything = [...started.pids, started.grandchild]
      expect(everything.every(isAlive)).toBe(true)
      process.kill(started.host, "SIGKILL")
      expect(yield* Effect.promise(() => exited)).toBe("SIGKILL")
      expect(yield* survivors(everything, 2000)).toEqual([])
    }))
})
