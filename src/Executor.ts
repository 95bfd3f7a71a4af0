/**
 * The Executor holds the loaded config and hands out a {@link Container} per host. Each call to
 * `fromHost` installs the host (ACL and checksums) and returns a new, isolated container.
 *
 * @since 0.1.0
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Context, Effect, Layer, type Scope } from "effect"
import { CallerFactory } from "./CallerFactory.js"
import * as Container from "./Container.js"
import { Discover } from "./Discover.js"
import * as Host from "./Host.js"
import { Md5Checker } from "./Md5Checker.js"
import type { PluginConfig } from "./PluginConfig.js"
import type { ConfigError, HostNotFound } from "./PluginError.js"

/** Options of the executor, applied to every container; each overrides what the config says. */
export interface ExecutorOptions extends Container.ContainerOptions {}

/** Gives each host its container. */
export class Executor extends Context.Tag("goplugin-effect/Executor")<Executor, {
  /** The config the executor was built from. */
  readonly config: PluginConfig
  /**
   * Installs the host and returns a new container for it; the container's plugins stop when the
   * current scope closes.
   *
   * @example
   * ```ts
   * const container = yield* Executor.fromHost("billing")
   * const log = yield* container.run("log")
   * const out = yield* log.exec("plugin.log.store", bytes)
   * ```
   */
  readonly fromHost: (host: string) => Effect.Effect<Container.Container, HostNotFound, Scope.Scope>
}>() {}

/** Builds an executor over an already-loaded config. */
export const make = (config: PluginConfig, options: ExecutorOptions = {}) =>
  Effect.gen(function*() {
    // Only the services: the layer's own Scope must not replace the caller's, or containers would live
    // until the layer is released instead of the scope that asked for them.
    const context = Context.pick(CallerFactory, Md5Checker, FileSystem.FileSystem, Path.Path)(
      yield* Effect.context<CallerFactory | Md5Checker | FileSystem.FileSystem | Path.Path>()
    )
    return Executor.of({
      config,
      fromHost: (host) =>
        Host.install(config, host).pipe(
          Effect.flatMap((installed) => Container.make(installed, options)),
          Effect.provide(context),
          Effect.withSpan("Executor.fromHost", { attributes: { host } })
        )
    })
  })

/** The container of a host, from the `Executor` in context. */
export const fromHost = (host: string): Effect.Effect<Container.Container, HostNotFound, Executor | Scope.Scope> =>
  Effect.flatMap(Executor, (executor) => executor.fromHost(host))

/** An executor over the config that `Discover` finds. */
export const layer = (
  options: ExecutorOptions = {}
): Layer.Layer<Executor, ConfigError, Discover | CallerFactory | Md5Checker | FileSystem.FileSystem | Path.Path> =>
  Layer.effect(Executor, Effect.flatMap(Discover, (discover) => discover.load).pipe(Effect.flatMap((config) => make(config, options))))

/** An executor over a config given as a value. */
export const layerConfig = (
  config: PluginConfig,
  options: ExecutorOptions = {}
): Layer.Layer<Executor, never, CallerFactory | Md5Checker | FileSystem.FileSystem | Path.Path> => Layer.effect(Executor, make(config, options))
