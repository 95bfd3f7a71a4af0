/**
 * The `memory` rows: what accumulates per plugin log line and per SDK call. Each row's baseline is the
 * heap after a full GC before the load, its figure the heap after a full GC after it, in the same run.
 *
 * - Host: a plugin writing 5,000 lines of 80 characters per second to stderr for 60 s (10 s with
 *   `--quick`), logged at Info through a logger that prints nothing (Effect's tracer logger still sees
 *   every entry: that is where lines used to pile up, as events of a long-lived span).
 * - SDK: a plugin whose handler logs one line per call, its own heap read after 2,000 and after 60,000
 *   calls (64 in flight).
 */
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { Executor, GoPlugin } from "goplugin-effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { root } from "./fixtures.js"
import { type BenchOptions, pair, progress } from "./measure.js"
import { type Row, settleHeap } from "./stats.js"

const MIB = 1024 * 1024

const fixture = (name: string) => path.join(root, "build", "test", "fixtures", name)

const configText = () => {
  const entry = (name: string, file: string, args: ReadonlyArray<string>) => [
    `[plugins.${name}]`,
    `md5 = "${crypto.createHash("md5").update(fs.readFileSync(file)).digest("hex")}"`,
    `exec = ${JSON.stringify(process.execPath)}`,
    `exec_args = [${args.map((arg) => JSON.stringify(arg)).join(", ")}]`,
    `exec_file = ${JSON.stringify(file)}`,
    "exec_time = 30",
    `comm_type = "rest"`,
    ""
  ]
  return [
    ...entry("chatty", fixture("chatty-plugin.js"), [fixture("chatty-plugin.js"), "--rate", "5000"]),
    ...entry("logging", fixture("logging-plugin.js"), ["--expose-gc", fixture("logging-plugin.js")]),
    "[hosts.memory]",
    `plugins = ["chatty", "logging"]`,
    ""
  ].join("\n")
}

const heapMiB = () => Effect.promise(async () => {
  await settleHeap()
  return process.memoryUsage().heapUsed / MIB
})

const hostRow = (options: BenchOptions) =>
  Effect.gen(function*() {
    const seconds = options.quick ? 10 : 60
    const container = yield* Executor.fromHost("memory")
    yield* container.run("chatty")
    yield* Effect.sleep("1 second")
    const before = yield* heapMiB()
    yield* Effect.sleep(Duration.seconds(seconds))
    const after = yield* heapMiB()
    yield* container.kill("chatty")
    const row: Row = {
      id: "memory.host.chatty",
      group: "memory",
      label: `host heap after GC, plugin writing 5,000 lines/s for ${seconds} s`,
      unit: "MiB",
      library: after,
      baseline: before,
      baselineName: "the host's heap after GC once the plugin is up, before the lines",
      target: { kind: "ratioAtMost", value: 1.1 },
      note: `${(5000 * seconds).toLocaleString("en")} lines of 80 characters`
    }
    yield* progress(`memory, chatty plugin: ${pair(after, before, "MiB")}`)
    return row
  })

const sdkRow = (options: BenchOptions) =>
  Effect.gen(function*() {
    const total = options.quick ? 10_000 : 60_000
    const container = yield* Executor.fromHost("memory")
    const caller = yield* container.run("logging")
    const payload = new Uint8Array(16)
    const calls = (count: number) =>
      Effect.forEach(Array.from({ length: 64 }, (_, worker) => worker), (worker) =>
        Effect.forEach(Array.from({ length: Math.ceil((count - worker) / 64) }), () => caller.exec("log", payload), { discard: true }),
        { concurrency: 64, discard: true })
    const pluginHeap = Effect.map(caller.exec("heap", payload), (bytes) => Number(new TextDecoder().decode(bytes)) / MIB)
    yield* calls(2_000)
    const before = yield* pluginHeap
    yield* calls(total - 2_000)
    const after = yield* pluginHeap
    yield* container.kill("logging")
    const row: Row = {
      id: "memory.sdk.logging",
      group: "memory",
      label: `SDK plugin heap after GC, ${total.toLocaleString("en")} calls that each log a line`,
      unit: "MiB",
      library: after,
      baseline: before,
      baselineName: "the same plugin's heap after GC after 2,000 calls",
      target: { kind: "ratioAtMost", value: 1.1 }
    }
    yield* progress(`memory, SDK logging calls: ${pair(after, before, "MiB")}`)
    return row
  })

/** The memory rows, over a config of their own. */
export const memoryRows = (options: BenchOptions) =>
  Effect.gen(function*() {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "goplugin-bench-memory-"))),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    )
    const file = path.join(dir, "config.toml")
    fs.writeFileSync(file, configText())
    // Info reaches every logger (the tracer logger included); the printing one is replaced by one that prints nothing.
    const quiet = Layer.merge(Logger.replace(Logger.defaultLogger, Logger.none), Logger.minimumLogLevel(LogLevel.Info))
    return yield* Effect.all([hostRow(options), sdkRow(options)]).pipe(
      Effect.scoped,
      Effect.provide(GoPlugin.layer({ configFile: file })),
      Effect.provide(quiet)
    )
  }).pipe(Effect.scoped)
