/**
 * The services that start and call plugins, without config discovery: checksum verification, the
 * process registry, the launchers and the drivers. `GoPlugin.layer` adds discovery and the executor;
 * pipelines of inline plugins use this alone.
 *
 * @since 0.2.0
 */
import { Layer } from "effect"
import * as CallerFactory from "./CallerFactory.js"
import * as Md5Checker from "./Md5Checker.js"
import * as PerCallLauncher from "./PerCallLauncher.js"
import * as PortLauncher from "./PortLauncher.js"
import * as ProcessRegistry from "./ProcessRegistry.js"

/**
 * Every service this layer provides.
 *
 * @since 0.2.0
 */
export type PluginServices =
  | Md5Checker.Md5Checker
  | ProcessRegistry.ProcessRegistry
  | PortLauncher.PortLauncher
  | PerCallLauncher.PerCallLauncher
  | CallerFactory.CallerFactory

/**
 * The built-in drivers plus `drivers`. When the layer is released, every plugin process still
 * running is stopped.
 *
 * @since 0.2.0
 */
export const layer = (
  drivers: ReadonlyArray<CallerFactory.CallerDriver> = [],
  registry: ProcessRegistry.RegistryOptions = {}
): Layer.Layer<PluginServices> => {
  const processes = Layer.merge(Md5Checker.layer, ProcessRegistry.layerWith(registry))
  const launchers = Layer.provideMerge(Layer.merge(PortLauncher.layer, PerCallLauncher.layer), processes)
  return Layer.provideMerge(CallerFactory.withDrivers(...drivers), launchers)
}
