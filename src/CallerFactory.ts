/**
 * Maps a plugin's `comm_type` to the driver that builds its {@link Caller}. An unknown `comm_type` is
 * not a config error: it fails with `UnsupportedProtocol` only when its caller is asked for.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import type { CallerDriver } from "./Caller.js"
import * as GrpcCaller from "./GrpcCaller.js"
import { UnsupportedProtocol } from "./PluginError.js"
import * as RestCaller from "./RestCaller.js"
import * as StdioCaller from "./StdioCaller.js"

/** The drivers known to this application, by `comm_type`. */
export class CallerFactory extends Context.Tag("goplugin-effect/CallerFactory")<CallerFactory, {
  readonly drivers: ReadonlyMap<string, CallerDriver>
  /** The driver for a plugin's `comm_type`, or `UnsupportedProtocol`. */
  readonly driverFor: (plugin: string, commType: string) => Effect.Effect<CallerDriver, UnsupportedProtocol>
}>() {}

/** A factory over the given drivers; a later driver for the same `comm_type` replaces an earlier one. */
export const make = (drivers: Iterable<CallerDriver>): Context.Tag.Service<CallerFactory> => {
  const byType = new Map<string, CallerDriver>()
  for (const driver of drivers) byType.set(driver.commType, driver)
  return {
    drivers: byType,
    driverFor: (plugin, commType) => {
      const driver = byType.get(commType)
      return driver !== undefined
        ? Effect.succeed(driver)
        : Effect.fail(new UnsupportedProtocol({ plugin, commType, known: Array.from(byType.keys()) }))
    }
  }
}

/** The drivers shipped with the library. */
export const builtinDrivers: ReadonlyArray<CallerDriver> = [RestCaller.driver, GrpcCaller.driver, StdioCaller.driver]

/** The built-in drivers (`rest`, `grpc`, `stdio`). */
export const layer: Layer.Layer<CallerFactory> = Layer.succeed(CallerFactory, make(builtinDrivers))

/**
 * The built-in drivers plus your own, e.g. for a `comm_type` the library does not know.
 *
 * @example
 * ```ts
 * const nano: CallerDriver = { commType: "nano", usesPort: true, longLived: true, make: (target) => ... }
 * program.pipe(Effect.provide(GoPlugin.layer({ drivers: [nano] })))
 * ```
 */
export const withDrivers = (...drivers: ReadonlyArray<CallerDriver>): Layer.Layer<CallerFactory> =>
  Layer.succeed(CallerFactory, make([...builtinDrivers, ...drivers]))
