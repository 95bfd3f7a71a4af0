/**
 * Helpers of the stdio and pipeline tests: a process registry that records every pid it starts, a
 * checksum checker that counts full verifications, and a logger that keeps every line.
 */
import { Effect, HashMap, Layer, Logger } from "effect"
import * as PluginServices from "../src/PluginServices.js"
import * as Discover from "../src/Discover.js"
import * as Executor from "../src/Executor.js"
import * as Md5Checker from "../src/Md5Checker.js"
import * as ProcessRegistry from "../src/ProcessRegistry.js"

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

/** One captured log line. */
export interface LogLine {
  readonly level: string
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

const messageText = (message: unknown): string =>
  Array.isArray(message) ? message.map(messageText).join(" ") : typeof message === "string" ? message : String(message)

/** A logger that keeps every line in `lines`, replacing the default one where the layer is provided. */
export const captureLogs = () => {
  const lines: Array<LogLine> = []
  const logger = Logger.make(({ annotations, logLevel, message }) => {
    lines.push({ level: logLevel.label, message: messageText(message), annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}
