/**
 * The `guard` rows: what the orphan guard costs. Start-up: a fresh library layer's first plugin
 * (the Python REST plugin), run → ready, with the guard (it starts with that first plugin) against
 * the same with `orphanGuard: false`, alternating, in the same run. Memory: the guard's resident set.
 */
import { Effect, Layer, Logger, LogLevel, Option } from "effect"
import { Executor, GoPlugin, ProcessRegistry } from "goplugin-effect"
import * as fs from "node:fs"
import { HOST, tempConfig } from "./fixtures.js"
import { type BenchOptions, pair, progress } from "./measure.js"
import { median, now, type Row } from "./stats.js"

const quiet = Logger.minimumLogLevel(LogLevel.Warning)

/** One first start in a fresh layer: ms from `run` to ready, and the guard's resident set in MiB. */
const firstStart = (configFile: string, orphanGuard: boolean) =>
  Effect.gen(function*() {
    const container = yield* Executor.fromHost(HOST)
    const start = now()
    yield* container.run("py_rest")
    const took = now() - start
    const pid = yield* Effect.flatMap(ProcessRegistry.ProcessRegistry, (registry) => registry.orphanGuardPid)
    const rss = Option.map(pid, (guard) => {
      const status = fs.readFileSync(`/proc/${guard}/status`, "utf8")
      return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN) / 1024
    })
    return { took, rss }
  }).pipe(Effect.scoped, Effect.provide(GoPlugin.layer({ configFile, orphanGuard }).pipe(Layer.provide(quiet))))

/** The guard rows, over the bench config. */
export const guardRows = (options: BenchOptions) =>
  Effect.gen(function*() {
    const file = yield* tempConfig
    yield* firstStart(file, true)
    yield* firstStart(file, false)
    const reps = options.quick ? 3 : 9
    const withGuard: Array<number> = []
    const without: Array<number> = []
    const rss: Array<number> = []
    for (let i = 0; i < reps; i++) {
      const guarded = yield* firstStart(file, i % 2 === 0)
      const other = yield* firstStart(file, i % 2 !== 0)
      const [on, off] = i % 2 === 0 ? [guarded, other] : [other, guarded]
      withGuard.push(on.took)
      without.push(off.took)
      if (Option.isSome(on.rss)) rss.push(on.rss.value)
    }
    const start: Row = {
      id: "guard.start",
      group: "orphan guard",
      label: "first plugin of a fresh layer, run → ready, guard on",
      unit: "ms",
      library: median(withGuard),
      baseline: median(without),
      baselineName: "the same with GoPlugin.layer({ orphanGuard: false })",
      target: { kind: "plusAtMost", value: 10 },
      note: `median of ${reps}; on ${withGuard.map((v) => v.toFixed(0)).join("/")} ms, off ${without.map((v) => v.toFixed(0)).join("/")} ms`
    }
    const memory: Row = {
      id: "guard.rss",
      group: "orphan guard",
      label: "the guard's resident memory (one per registry)",
      unit: "MiB",
      library: rss.length === 0 ? null : median(rss),
      baseline: process.memoryUsage().rss / (1024 * 1024),
      baselineName: "the host process's own resident memory",
      target: { kind: "absoluteAtMost", value: 4 }
    }
    yield* progress(`orphan guard start-up: ${pair(start.library!, start.baseline!, "ms")}`)
    return [start, memory]
  }).pipe(Effect.scoped)
