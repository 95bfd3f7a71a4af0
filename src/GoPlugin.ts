/**
 * One layer with everything a host application needs: config discovery, checksum verification,
 * the process registry, the caller drivers and the executor.
 *
 * @since 0.1.0
 */
import { Effect, Layer, Logger, type LogLevel } from "effect"
import type { CallerDriver } from "./Caller.js"
import * as CallerFactory from "./CallerFactory.js"
import * as Discover from "./Discover.js"
import * as Executor from "./Executor.js"
import * as HostLogger from "./HostLogger.js"
import * as Md5Checker from "./Md5Checker.js"
import type { ConfigError } from "./PluginError.js"
import * as ProcessRegistry from "./ProcessRegistry.js"

/** Options of {@link layer}. */
export interface GoPluginOptions extends Executor.ExecutorOptions {
  /** Use this config file instead of discovering it from `GOPLUGIN_DIR` / `$HOME/.goplugin`. */
  readonly configFile?: string
  /** Extra caller drivers, for `comm_type`s the library does not know. */
  readonly drivers?: ReadonlyArray<CallerDriver>
  /** The minimum log level of the program; default `[settings] log_level`, else left as it is. */
  readonly logLevel?: LogLevel.LogLevel | undefined
}

/** Every service of the library. */
export type GoPluginServices =
  | Executor.Executor
  | Discover.Discover
  | Md5Checker.Md5Checker
  | ProcessRegistry.ProcessRegistry
  | CallerFactory.CallerFactory

/**
 * The whole library as one layer. When the layer is released (the application ends), every plugin
 * process still running is stopped. The config's `[settings] log_level` (or `options.logLevel`)
 * becomes the minimum log level of the program it is provided to.
 *
 * @example
 * ```ts
 * const program = Effect.gen(function*() {
 *   const container = yield* Executor.fromHost("billing")
 *   const log = yield* container.run("log")
 *   yield* log.ping
 * })
 * program.pipe(Effect.scoped, Effect.provide(GoPlugin.layer()), NodeRuntime.runMain)
 * ```
 */
export const layer = (options: GoPluginOptions = {}): Layer.Layer<GoPluginServices, ConfigError> => {
  const services = Layer.mergeAll(
    options.configFile === undefined ? Discover.layer : Discover.layerFile(options.configFile),
    Md5Checker.layer,
    ProcessRegistry.layer,
    CallerFactory.withDrivers(...(options.drivers ?? []))
  )
  const minimumLevel = Layer.unwrapEffect(Effect.map(Executor.Executor, ({ config }) => {
    const setting = config.settings.log_level
    const level = options.logLevel ?? (setting === undefined ? undefined : HostLogger.levelOfSetting(setting))
    return level === undefined ? Layer.empty : Logger.minimumLogLevel(level)
  }))
  return Layer.provideMerge(minimumLevel, Layer.provideMerge(Executor.layer(options), services))
}
