import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, type Scope } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Executor from "../src/Executor.js"
import type { CallError } from "../src/PluginError.js"
import { built, nodePlugin, type PluginEntry, renderConfig, survivors, tempDir, text, utf8, writeConfig } from "./helpers.js"
import { captureLogs, libraryLayer, type LogLine, type Recorder, recorder } from "./pipelineHelpers.js"

const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i)

/**
 * Runs `body` against host "app" whose config holds `plugins`, with every log line captured; afterwards
 * checks that every process the registry started (and the extra pids the body reports) is gone.
 */
const withStdioHost = <A, E>(
  plugins: ReadonlyArray<PluginEntry> | ((dir: string) => ReadonlyArray<PluginEntry>),
  body: (
    record: Recorder,
    logs: ReadonlyArray<LogLine>,
    extraPids: Array<number>,
    dir: string
  ) => Effect.Effect<A, E, Executor.Executor | Scope.Scope>,
  settings = ""
) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const entries = typeof plugins === "function" ? plugins(dir) : plugins
    const file = writeConfig(dir, renderConfig(entries, { app: entries.map((p) => p.name) }, settings))
    const record = recorder()
    const capture = captureLogs()
    const extraPids: Array<number> = []
    const result = yield* body(record, capture.lines, extraPids, dir).pipe(
      Effect.scoped,
      Effect.provide(libraryLayer(file, record)),
      Effect.provide(capture.layer)
    )
    expect(record.pids.length).toBeGreaterThan(0)
    expect(yield* survivors([...record.pids, ...extraPids])).toEqual([])
    return result
  })

const stderrOf = (logs: ReadonlyArray<LogLine>, plugin: string) =>
  logs.filter((line) => line.annotations["plugin"] === plugin && line.annotations["stream"] === "stderr")

/** Polls until `check` holds (processes and pipes report asynchronously); bounded so a bug fails the test. */
const eventually = (check: () => boolean) =>
  Effect.promise(async () => {
    for (let i = 0; i < 2000 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
    return check()
  })

describe("stdio plugins", () => {
  it.scopedLive("ping and exec, every byte value round-trips, one process per call, none left", () =>
    withStdioHost([nodePlugin("text", "examples/stdio-plugin.cjs", "stdio")], (record) =>
      Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const caller = yield* container.run("text")
        expect(caller.protocol).toBe("stdio")
        // run() starts nothing for a one-process-per-call transport.
        expect(record.pids).toEqual([])
        expect(yield* caller.ping).toBe("pong")
        expect(text(yield* caller.exec("upper", utf8("héllo stdio")))).toBe("HÉLLO STDIO")
        expect(Array.from(yield* caller.exec("echo", allBytes))).toEqual(Array.from(allBytes))
        expect(Array.from(yield* caller.exec("reverse", allBytes))).toEqual(Array.from(allBytes).reverse())
        expect((yield* caller.exec("echo", new Uint8Array())).length).toBe(0)
        expect(text(yield* caller.exec("slugify", utf8("Héllo, World!")))).toBe("hello-world")
        const unknown = yield* Effect.flip(caller.exec("no.such.command", allBytes))
        expect(unknown).toMatchObject({ _tag: "CallError", reason: "remote", operation: "exec", command: "no.such.command" })
        expect(unknown.detail).toContain("unknown command")
        expect(record.pids.length).toBe(7)
        expect(new Set(record.pids).size).toBe(7)
        // Each call's process is stopped before the call returns.
        expect(yield* survivors(record.pids, 0)).toEqual([])
      })))

  it.scopedLive("the exec request carries the host name", () =>
    withStdioHost([nodePlugin("worker", "test/fixtures/pipeline-worker.js", "stdio")], () =>
      Effect.gen(function*() {
        const caller = yield* Effect.flatMap(Executor.fromHost("app"), (container) => container.run("worker"))
        expect(text(yield* caller.exec("host", new Uint8Array()))).toBe("app")
      })))

  it.scopedLive("the checksum is verified per call but recomputed only when the file changes", () =>
    withStdioHost(
      (dir) => {
        const wrapper = path.join(dir, "text-plugin.sh")
        fs.writeFileSync(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${built("examples/stdio-plugin.cjs")}" "$@"\n`, { mode: 0o755 })
        return [{ name: "text", exec: wrapper, execFile: wrapper, commType: "stdio" }]
      },
      (record, _logs, _extra, dir) =>
        Effect.gen(function*() {
          const wrapper = path.join(dir, "text-plugin.sh")
          const caller = yield* Effect.flatMap(Executor.fromHost("app"), (container) => container.run("text"))
          yield* caller.exec("upper", utf8("a"))
          const afterFirstCall = record.verifications
          for (let i = 0; i < 3; i++) yield* caller.exec("upper", utf8("b"))
          expect(record.verifications).toBe(afterFirstCall)
          const later = new Date(Date.now() + 60_000)
          fs.utimesSync(wrapper, later, later)
          expect(text(yield* caller.exec("upper", utf8("c")))).toBe("C")
          expect(record.verifications).toBe(afterFirstCall + 1)
          const pidsBefore = record.pids.length
          fs.appendFileSync(wrapper, "# changed\n")
          const refused = yield* Effect.flip(caller.exec("upper", utf8("d")))
          expect(refused).toMatchObject({ _tag: "CallError", reason: "refused", plugin: "text" })
          expect(refused.detail).toContain("md5")
          expect(record.pids.length).toBe(pidsBefore)
        })
    ))

  it.scopedLive("a plugin that logs then crashes: its logs reach the host's logger, the error has the exit status", () =>
    withStdioHost([nodePlugin("crasher", "test/fixtures/crash-after-logs.js", "stdio")], (record, logs) =>
      Effect.gen(function*() {
        const caller = yield* Effect.flatMap(Executor.fromHost("app"), (container) => container.run("crasher"))
        const error: CallError = yield* Effect.flip(caller.exec("anything", utf8("payload")))
        expect(error).toMatchObject({ _tag: "CallError", reason: "exited", plugin: "crasher", command: "anything" })
        expect(error.detail).toContain("exit code 7")
        expect(error.detail).toContain("about to fail")
        expect(error.message).toContain("exit code 7")
        const mirrored = stderrOf(logs, "crasher")
        expect(mirrored.map((line) => line.message)).toEqual(["step 1", "step 2", "about to fail"])
        expect(mirrored.every((line) => line.annotations["host"] === "app" && line.annotations["pid"] === record.pids[0])).toBe(true)
      })))

  it.scopedLive("a plugin that hangs is killed at the timeout with its process group, grandchild included", () =>
    withStdioHost([nodePlugin("hang", "test/fixtures/hang-stdio.js", "stdio")], (record, logs, extraPids) =>
      Effect.gen(function*() {
        const caller = yield* Effect.flatMap(Executor.fromHost("app"), (container) => container.run("hang"))
        const error = yield* Effect.flip(caller.exec("anything", utf8("x"), { timeout: "500 millis" }))
        expect(error).toMatchObject({ _tag: "CallError", reason: "timeout", plugin: "hang" })
        const line = stderrOf(logs, "hang").find((l) => l.message.startsWith("started grandchild"))
        const grandchild = Number(/pid (\d+)/.exec(line?.message ?? "")?.[1])
        expect(grandchild).toBeGreaterThan(0)
        extraPids.push(grandchild)
        expect(yield* survivors([record.pids[0]!, grandchild])).toEqual([])
      })))

  it.scopedLive("interrupting a call kills its process group", () =>
    withStdioHost([nodePlugin("hang", "test/fixtures/hang-stdio.js", "stdio")], (record, logs, extraPids) =>
      Effect.gen(function*() {
        const caller = yield* Effect.flatMap(Executor.fromHost("app"), (container) => container.run("hang"))
        const fiber = yield* Effect.fork(caller.exec("anything", utf8("x"), { timeout: "60 seconds" }))
        expect(yield* eventually(() => stderrOf(logs, "hang").some((l) => l.message.startsWith("started grandchild")))).toBe(true)
        const line = stderrOf(logs, "hang").find((l) => l.message.startsWith("started grandchild"))!
        const grandchild = Number(/pid (\d+)/.exec(line.message)?.[1])
        extraPids.push(grandchild)
        yield* Fiber.interrupt(fiber)
        expect(yield* survivors([record.pids[0]!, grandchild])).toEqual([])
      })))

  it.scopedLive("an answer that is not JSend is a protocol error carrying the stderr lines", () =>
    withStdioHost(
      (dir) => {
        const script = path.join(dir, "garbage.sh")
        fs.writeFileSync(script, `#!/bin/sh\ncat >/dev/null\necho "warming up" >&2\necho "this is not json"\n`, { mode: 0o755 })
        const silent = path.join(dir, "silent.sh")
        fs.writeFileSync(silent, `#!/bin/sh\ncat >/dev/null\nexit 0\n`, { mode: 0o755 })
        return [
          { name: "garbage", exec: script, execFile: script, commType: "stdio" },
          { name: "silent", exec: silent, execFile: silent, commType: "stdio" }
        ]
      },
      () =>
        Effect.gen(function*() {
          const container = yield* Executor.fromHost("app")
          const garbageCaller = yield* container.run("garbage")
          const garbage = yield* Effect.flip(garbageCaller.ping)
          expect(garbage).toMatchObject({ _tag: "CallError", reason: "protocol", operation: "ping" })
          expect(garbage.detail).toContain("this is not json")
          expect(garbage.detail).toContain("warming up")
          const silentCaller = yield* container.run("silent")
          const silent = yield* Effect.flip(silentCaller.exec("x", utf8("y")))
          expect(silent).toMatchObject({ _tag: "CallError", reason: "protocol" })
          expect(silent.detail).toContain("wrote no answer")
        })
    ))
})
