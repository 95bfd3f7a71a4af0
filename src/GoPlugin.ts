/**
 * One layer with everything a host application needs: config discovery, checksum verification,
 * the process registry, the caller drivers and the executor.
 *
 * @since 0.1.0
 */
import { Layer } from "effect"
import type { CallerDriver } from "./Caller.js"
import * as CallerFactory from "./CallerFactory.js"
import * as Discover from "./Discover.js"
import * as Executor from "./Executor.js"
import * as Md5Checker from "./Md5Checker.js"
import type { ConfigError } from "./PluginError.js"
import * as ProcessRegistry from "./ProcessRegistry.js"

/** Options of {@link layer}. */
export interface GoPluginOptions extends Executor.ExecutorOptions {
  /** Use this config file instead of discovering it from `GOPLUGIN_DIR` / `$HOME/.goplugin`. */
  readonly configFile?: string
  /** Extra caller drivers, for `comm_type`s the library does not know. */
  readonly drivers?: ReadonlyArray<CallerDriver>
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
 * process still running is stopped.
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
  return Layer.provideMerge(Executor.layer(options), services)
}
