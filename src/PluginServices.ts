/**
 * The services that start and call plugins, without config discovery: Node's file system and paths,
 * checksum verification, the process registry, the launchers and the drivers. `GoPlugin.layer` adds discovery and the executor;
 * pipelines of inline plugins use this alone.
 *
 * @since 0.2.0
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { Layer } from "effect"
import * as CallerFactory from "./CallerFactory.js"
import * as GoPluginDriver from "./goplugin/GoPluginDriver.js"
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
  | FileSystem.FileSystem
  | Path.Path
  | Md5Checker.Md5Checker
  | ProcessRegistry.ProcessRegistry
  | PortLauncher.PortLauncher
  | PerCallLauncher.PerCallLauncher
  | GoPluginDriver.GoPluginLauncher
  | CallerFactory.CallerFactory

/**
 * The built-in drivers plus `drivers`. When the layer is released, every plugin process still
 * running is stopped.
 *
 * @since 0.2.0
 */
export const layer = (
  drivers: ReadonlyArray<CallerFactory.DriverInput> = [],
  registry: ProcessRegistry.RegistryOptions = {}
): Layer.Layer<PluginServices> => {
  return layerOver(Layer.mergeAll(Md5Checker.layer, ProcessRegistry.layerWith(registry)), drivers)
}

/**
 * The launchers and drivers over a checksum checker and a process registry of your choice (test
 * doubles, a recording registry), plus Node's file system and paths.
 *
 * @since 0.2.0
 */
export const layerOver = <E>(
  processes: Layer.Layer<Md5Checker.Md5Checker | ProcessRegistry.ProcessRegistry, E>,
  drivers: ReadonlyArray<CallerFactory.DriverInput> = []
): Layer.Layer<PluginServices, E> => {
  const base = Layer.mergeAll(processes, NodeFileSystem.layer, NodePath.layer)
  const launchers = Layer.provideMerge(Layer.mergeAll(PortLauncher.layer, PerCallLauncher.layer, GoPluginDriver.launcherLayer), base)
  return Layer.provideMerge(CallerFactory.withDrivers(...drivers), launchers)
}
