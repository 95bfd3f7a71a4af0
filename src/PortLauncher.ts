/**
 * The launcher of `rest` and `grpc` plugins: pick a loopback port (or take the configured one), start
 * the plugin with `--port <port>` appended, and report it listening once the port accepts connections
 * and the listener belongs to the plugin's process group. A port held by anyone else fails the start
 * with `PortInUse` before any request (Ping included) carries the token there.
 *
 * @since 0.2.0
 */
import { Context, Effect, Layer } from "effect"
import { freePort, portAccepts } from "./internal/readiness.js"
import { newToken, pluginEnv, startRequest, targetBase } from "./internal/launchPlan.js"
import { holderOutside, listeningInodes, ownedByGroup } from "./internal/socketOwner.js"
import { Address, type Launcher, type LaunchPlan, type NetworkTarget } from "./Launcher.js"
import { configuredPort, hasPortArg } from "./PluginConfig.js"
import { PluginStartError, PortInUse } from "./PluginError.js"
import { ProcessRegistry } from "./ProcessRegistry.js"

/**
 * Spawns a plugin and hands it a port.
 *
 * @since 0.2.0
 */
export class PortLauncher extends Context.Tag("goplugin-effect/PortLauncher")<PortLauncher, Launcher<NetworkTarget>>() {}

/**
 * `exec_args` with `--port <port>` appended, unless they already carry a `--port`.
 *
 * @since 0.2.0
 */
export const argsWithPort = (args: ReadonlyArray<string>, port: number): ReadonlyArray<string> =>
  hasPortArg(args) ? args : [...args, "--port", String(port)]

/**
 * A port launcher over the registry and checksum checker in context.
 *
 * @since 0.2.0
 */
export const make: Effect.Effect<Launcher<NetworkTarget>, never, ProcessRegistry> = Effect.gen(function*() {
  const registry = yield* ProcessRegistry
  const launch = (plan: LaunchPlan) =>
    Effect.gen(function*() {
      yield* plan.verify
      const fixed = configuredPort(plan.plugin.spec)
      const port = fixed ??
        (yield* Effect.mapError(freePort, (reason) =>
          new PluginStartError({ host: plan.host, plugin: plan.plugin.name, exec: plan.plugin.exec, detail: reason })))
      const portInUse = (found: PortInUse["found"], squatterPid: number | undefined) =>
        new PortInUse({ host: plan.host, plugin: plan.plugin.name, port, found, ...(squatterPid === undefined ? {} : { squatterPid }) })
      // A fixed port that something already listens on would hand that process the token and payloads.
      // (A picked port was free a moment ago; the check after the start covers it.)
      const before = fixed === undefined ? undefined : listeningInodes(port)
      if (before !== undefined && before.size > 0) return yield* portInUse("before-start", holderOutside(before, undefined))
      const token = newToken()
      const args = argsWithPort(plan.plugin.spec.execArgs, port)
      const process = yield* registry.start(startRequest(plan, args, pluginEnv(plan, token, port)))
      // Listening is not enough: the listener must be the plugin's (between picking a free port and the
      // plugin binding it, another process may take it). Checked before the first request, Ping included.
      const owned = Effect.suspend(() => {
        const owner = ownedByGroup(port, process.pid)
        if (owner !== false) return Effect.void
        const inodes = listeningInodes(port)
        return Effect.fail(portInUse("after-start", inodes === undefined ? undefined : holderOutside(inodes, process.pid)))
      })
      return {
        target: { ...targetBase(plan, token), address: Address.Tcp({ host: "127.0.0.1", port }) },
        process,
        port,
        listening: Effect.zipRight(portAccepts(port), owned)
      }
    })
  return { kind: "port", launch }
})

/**
 * @since 0.2.0
 */
export const layer: Layer.Layer<PortLauncher, never, ProcessRegistry> = Layer.effect(PortLauncher, make)
