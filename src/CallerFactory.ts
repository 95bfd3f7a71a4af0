/**
 * Maps a plugin's `comm_type` to the driver that brings it to life and calls it: a driver pairs a
 * {@link Launcher} (how the plugin comes alive) with a {@link Transport} (how it is called). An
 * unknown `comm_type` is not a config error: it fails with `UnsupportedProtocol` only when a plugin of
 * that type is run.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer, type Scope } from "effect"
import type { Caller } from "./Caller.js"
import * as GoPluginDriver from "./goplugin/GoPluginDriver.js"
import * as GrpcCaller from "./GrpcCaller.js"
import { startGeneration } from "./internal/readiness.js"
import type { Launcher, LaunchPlan, NetworkTarget, ProcessTarget, Transport } from "./Launcher.js"
import { PerCallLauncher } from "./PerCallLauncher.js"
import { type StartError, UnsupportedProtocol } from "./PluginError.js"
import { PortLauncher } from "./PortLauncher.js"
import type { PluginProcess } from "./ProcessRegistry.js"
import * as RestCaller from "./RestCaller.js"
import * as StdioCaller from "./StdioCaller.js"

/**
 * One running generation of a plugin: the caller bound to it, and its process (absent when each call
 * starts its own).
 *
 * @since 0.2.0
 */
export interface Generation {
  readonly caller: Caller
  readonly process: PluginProcess | undefined
  readonly port: number | undefined
}

/**
 * Starts generations of plugins of one `comm_type`.
 *
 * @since 0.1.0
 */
export interface CallerDriver {
  /** The `comm_type` value this driver serves, e.g. "rest". */
  readonly commType: string
  /** Starts one generation in the current scope and waits until it is ready (within `exec_time`). */
  readonly start: (plan: LaunchPlan) => Effect.Effect<Generation, StartError, Scope.Scope>
}

/**
 * A driver from a launcher and a transport of the same target type.
 *
 * @since 0.2.0
 */
export const driver = <Target>(commType: string, launcher: Launcher<Target>, transport: Transport<Target>): CallerDriver => ({
  commType,
  start: (plan) => startGeneration(plan, launcher, transport)
})

/**
 * The drivers known to this application, by `comm_type`.
 *
 * @since 0.1.0
 */
export class CallerFactory extends Context.Tag("goplugin-effect/CallerFactory")<CallerFactory, {
  readonly drivers: ReadonlyMap<string, CallerDriver>
  /** The driver for a plugin's `comm_type`, or `UnsupportedProtocol`. */
  readonly driverFor: (plugin: string, commType: string) => Effect.Effect<CallerDriver, UnsupportedProtocol>
}>() {}

/**
 * A factory over the given drivers; a later driver for the same `comm_type` replaces an earlier one.
 *
 * @since 0.1.0
 */
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

/**
 * The drivers shipped with the library: `rest` and `grpc` (port launcher), `stdio` (per-call launcher)
 * and `go-plugin` (hashicorp/go-plugin binaries, announced launcher).
 *
 * @since 0.2.0
 */
export const builtinDrivers: Effect.Effect<ReadonlyArray<CallerDriver>, never, BuiltinLaunchers> = Effect.gen(
  function*() {
    const port: Launcher<NetworkTarget> = yield* PortLauncher
    const perCall: Launcher<ProcessTarget> = yield* PerCallLauncher
    const goPlugin = yield* GoPluginDriver.GoPluginLauncher
    return [
      driver("rest", port, RestCaller.transport),
      driver("grpc", port, GrpcCaller.transport),
      driver("stdio", perCall, StdioCaller.transport),
      driver(GoPluginDriver.COMM_TYPE, goPlugin, GoPluginDriver.transport)
    ]
  }
)

/**
 * The launchers the built-in drivers use.
 *
 * @since 0.2.0
 */
export type BuiltinLaunchers = PortLauncher | PerCallLauncher | GoPluginDriver.GoPluginLauncher

/**
 * A driver, or an effect that builds one from the built-in launchers (so a new transport can reuse
 * the port launcher without building it itself).
 *
 * @since 0.2.0
 */
export type DriverInput = CallerDriver | Effect.Effect<CallerDriver, never, PortLauncher | PerCallLauncher>

/**
 * The built-in drivers plus your own, e.g. for a `comm_type` the library does not know.
 *
 * @example
 * ```ts
 * // A new transport on the built-in port launcher:
 * const nano = Effect.map(PortLauncher.PortLauncher, (port) => CallerFactory.driver("nano", port, NanoTransport))
 * program.pipe(Effect.provide(GoPlugin.layer({ drivers: [nano] })))
 * ```
 *
 * @since 0.1.0
 */
export const withDrivers = (
  ...drivers: ReadonlyArray<DriverInput>
): Layer.Layer<CallerFactory, never, BuiltinLaunchers> =>
  Layer.effect(
    CallerFactory,
    Effect.gen(function*() {
      const builtin = yield* builtinDrivers
      const extra = yield* Effect.forEach(drivers, (input) => (Effect.isEffect(input) ? input : Effect.succeed(input)))
      return make([...builtin, ...extra])
    })
  )

/**
 * The built-in drivers (`rest`, `grpc`, `stdio`, `go-plugin`).
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<CallerFactory, never, BuiltinLaunchers> = withDrivers()
