/**
 * One layer with everything a host application needs: config discovery, checksum verification,
 * the process registry, the caller drivers and the executor.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit, Layer, Logger, type LogLevel } from "effect"
import type * as CallerFactory from "./CallerFactory.js"
import * as Discover from "./Discover.js"
import * as Executor from "./Executor.js"
import * as HostLogger from "./HostLogger.js"
import type { ConfigError } from "./PluginError.js"
import * as PluginServices from "./PluginServices.js"

/** Options of {@link layer}. */
export interface GoPluginOptions extends Executor.ExecutorOptions {
  /** Use this config file instead of discovering it from `GOPLUGIN_DIR` / `$HOME/.goplugin`. */
  readonly configFile?: string | undefined
  /** Extra drivers (a launcher and a transport each), for `comm_type`s the library does not know. */
  readonly drivers?: ReadonlyArray<CallerFactory.DriverInput>
  /**
   * Start the orphan guard (default true): if this process dies without stopping its plugins, even by
   * SIGKILL, every plugin's process group is killed within moments. See docs/security.md.
   */
  readonly orphanGuard?: boolean | undefined
  /** The minimum log level of the program; default `[settings] log_level`, else left as it is. */
  readonly logLevel?: LogLevel.LogLevel | undefined
}

/** Every service of the library. */
export type GoPluginServices = Executor.Executor | Discover.Discover | PluginServices.PluginServices

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
  const services = Layer.provideMerge(
    options.configFile === undefined ? Discover.layer : Discover.layerFile(options.configFile),
    PluginServices.layer(options.drivers, { orphanGuard: options.orphanGuard })
  )
  const minimumLevel = Layer.unwrapEffect(Effect.map(Executor.Executor, ({ config }) => {
    const setting = config.settings.logLevel
    const level = options.logLevel ?? (setting === undefined ? undefined : HostLogger.levelOfSetting(setting))
    return level === undefined ? Layer.empty : Logger.minimumLogLevel(level)
  }))
  return Layer.provideMerge(minimumLevel, Layer.provideMerge(Executor.layer(options), services))
}

/** The exit status of a process ended by a signal, the shell's way: 128 + the signal's number. */
const SIGNAL_EXIT: Readonly<Record<"SIGINT" | "SIGTERM", number>> = { SIGINT: 130, SIGTERM: 143 }

/**
 * Runs a host program like `NodeRuntime.runMain` (SIGINT and SIGTERM interrupt it, so its scopes close
 * and every plugin is stopped), and then exits the way a shell expects of a program stopped by a
 * signal: 130 after SIGINT, 143 after SIGTERM. Any other ending exits as `runMain` would.
 *
 * @example
 * ```ts
 * program.pipe(Effect.scoped, Effect.provide(GoPlugin.layer()), GoPlugin.runMain)
 * ```
 *
 * @since 0.2.0
 */
export const runMain = <E, A>(effect: Effect.Effect<A, E>): void => {
  let signal: keyof typeof SIGNAL_EXIT | undefined
  const record = (received: keyof typeof SIGNAL_EXIT) => () => {
    signal ??= received
  }
  process.once("SIGINT", record("SIGINT"))
  process.once("SIGTERM", record("SIGTERM"))
  NodeRuntime.runMain(effect, {
    teardown: (exit, onExit) => {
      if (signal !== undefined && Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)) return onExit(SIGNAL_EXIT[signal])
      onExit(Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause) ? 1 : 0)
    }
  })
}
