/**
 * Helpers of the stdio and pipeline tests: a process registry that records every pid it starts, a
 * checksum checker that counts full verifications, a logger that keeps every line, and a runner of
 * pipeline files written into a temporary folder.
 */
import { expect } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as PluginServices from "../src/PluginServices.js"
import * as Discover from "../src/Discover.js"
import * as Executor from "../src/Executor.js"
import * as Md5Checker from "../src/Md5Checker.js"
import * as Pipeline from "../src/Pipeline.js"
import * as ProcessRegistry from "../src/ProcessRegistry.js"
import { built, captureLogs, md5Of, survivors, tempDir } from "./helpers.js"

/** What a test wants to know about the processes and checksums of a run. */
export interface Recorder {
  /** Every pid the registry started, in order. */
  readonly pids: Array<number>
  /** How many times a file was digested to verify it (cache hits do not count). */
  verifications: number
}

/** A fresh recorder. */
export const recorder = (): Recorder => ({ pids: [], verifications: 0 })

/** The real registry, recording the pid of every process it starts. */
export const recordingRegistry = (record: Recorder): Layer.Layer<ProcessRegistry.ProcessRegistry> =>
  Layer.scoped(
    ProcessRegistry.ProcessRegistry,
    Effect.map(ProcessRegistry.make, (registry) => ({
      ...registry,
      start: (request: ProcessRegistry.StartRequest) =>
        Effect.tap(registry.start(request), (started) => Effect.sync(() => record.pids.push(started.pid)))
    }))
  )

/** The real checker, counting every full verification. */
export const countingChecker = (record: Recorder): Layer.Layer<Md5Checker.Md5Checker> =>
  Layer.succeed(Md5Checker.Md5Checker, {
    digest: (file, algorithm) => digestOf(file, algorithm),
    verify: (plugin, file, expected) =>
      Effect.zipRight(Effect.sync(() => record.verifications++), Md5Checker.verifyFile(plugin, file, expected))
  })

const digestOf = (file: string, algorithm: Md5Checker.Algorithm = "md5") =>
  Effect.map(Md5Checker.digestFile(file, [algorithm]), (digests) => digests[algorithm])

/** The services a pipeline of inline plugins needs, with recording registry and counting checker. */
export const servicesLayer = (record: Recorder) =>
  PluginServices.layerOver(Layer.merge(countingChecker(record), recordingRegistry(record)))

/** Every service of the library over a config file, with recording registry and counting checker. */
export const libraryLayer = (configFile: string, record: Recorder) =>
  Layer.provideMerge(Executor.layer(), Layer.merge(servicesLayer(record), Discover.layerFileNode(configFile)))

export { captureLogs, type LogLine } from "./helpers.js"

/** The pipeline worker fixture (an SDK stdio plugin). */
export const workerScript = built("test/fixtures/pipeline-worker.js")

/** An inline `[plugins.<name>]` table for a built node script, started as `node <script> args…` (node found on PATH). */
export const inlinePlugin = (name: string, script: string, options: { commType?: string; args?: ReadonlyArray<string>; pinned?: boolean } = {}) =>
  [
    `[plugins.${name}]`,
    `exec = "node"`,
    `exec_args = ${JSON.stringify([script, ...(options.args ?? [])])}`,
    `exec_file = ${JSON.stringify(script)}`,
    `comm_type = "${options.commType ?? "stdio"}"`,
    options.pinned === false ? "" : `md5 = "${md5Of(script)}"`,
    ""
  ].join("\n")

/** An inline `[plugins.<name>]` table for the worker fixture. */
export const workerPlugin = (name = "worker", pinned = true) => inlinePlugin(name, workerScript, { pinned })

/** Writes `pipeline.toml` (text built from the temp folder), runs it, checks that no process is left. */
export const runPipeline = <E = never>(
  textOf: (dir: string) => string,
  options: Pipeline.RunOptions = {},
  layerOf: (dir: string, record: Recorder) => Layer.Layer<Pipeline.PipelineServices, E> = (_dir, record) => servicesLayer(record)
) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    fs.writeFileSync(path.join(dir, "pipeline.toml"), textOf(dir))
    const record = recorder()
    const capture = captureLogs()
    const events: Array<Pipeline.PipelineEvent> = []
    const pipeline = yield* Pipeline.load(path.join(dir, "pipeline.toml"))
    const results = yield* Pipeline.run(pipeline, { onEvent: (event) => Effect.sync(() => events.push(event)), ...options }).pipe(
      Effect.provide(layerOf(dir, record)),
      Effect.provide(capture.layer)
    )
    expect(yield* survivors(record.pids)).toEqual([])
    const byName = (name: string) => results.find((result) => result.name === name)!
    return { dir, pipeline, results, events, record, logs: capture.lines, byName }
  })
