/**
 * The library's services as the command handlers use them. Only the handler modules import this
 * module, so the library (config schemas, launchers, drivers) is loaded when a command that needs it
 * runs, not when `goplugin` starts (see handledBy.ts).
 *
 * @since 0.2.0
 */
import { Effect, FiberRef, Layer } from "effect"
import type * as CallerFactory from "../CallerFactory.js"
import * as Discover from "../Discover.js"
import * as GoPlugin from "../GoPlugin.js"
import type { ConfigError } from "../PluginError.js"
import * as PluginServices from "../PluginServices.js"
import { logLevelGiven } from "./output.js"

/**
 * The library's layer for a command, with extra `drivers` (replacing built-in ones of the same
 * `comm_type`): `[settings] log_level` sets the minimum level, unless `--log-level` was given, which wins.
 */
export const goPluginLayerWith = (
  drivers: ReadonlyArray<CallerFactory.DriverInput>
): Layer.Layer<GoPlugin.GoPluginServices, ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.zip(FiberRef.get(FiberRef.currentMinimumLogLevel), FiberRef.get(logLevelGiven)),
      ([level, given]) => GoPlugin.layer(given ? { logLevel: level, drivers } : { drivers })
    )
  )

/** The library's layer for a command, with the built-in drivers. */
export const goPluginLayer: Layer.Layer<GoPlugin.GoPluginServices, ConfigError> = goPluginLayerWith([])

/** Config discovery and the services that verify plugins, for the commands that read the config without running a host. */
export const configServices: Layer.Layer<Discover.Discover | PluginServices.PluginServices> = Layer.merge(
  Discover.layerNode,
  PluginServices.layer()
)
