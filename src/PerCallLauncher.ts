/**
 * The launcher of `stdio` plugins: nothing runs between calls. It hands the transport a
 * {@link ProcessTarget} whose `start` begins one process per call (verified first, cached while the
 * file is unchanged); each call's process lives in that call's scope.
 *
 * @since 0.2.0
 */
import { Context, Effect, Layer } from "effect"
import { newToken, pluginEnv, startRequest, targetBase } from "./internal/launchPlan.js"
import type { Launcher, LaunchPlan, ProcessTarget } from "./Launcher.js"
import { ProcessRegistry } from "./ProcessRegistry.js"

/**
 * Starts a plugin once per call.
 *
 * @since 0.2.0
 */
export class PerCallLauncher extends Context.Tag("goplugin-effect/PerCallLauncher")<PerCallLauncher, Launcher<ProcessTarget>>() {}

/**
 * A per-call launcher over the registry in context.
 *
 * @since 0.2.0
 */
export const make: Effect.Effect<Launcher<ProcessTarget>, never, ProcessRegistry> = Effect.map(ProcessRegistry, (registry) => ({
  kind: "per-call",
  launch: (plan: LaunchPlan) =>
    Effect.sync(() => {
      const token = newToken()
      const env = pluginEnv(plan, token)
      const target: ProcessTarget = {
        ...targetBase(plan, token),
        verify: plan.verify,
        start: (options) => registry.start(startRequest(plan, plan.plugin.spec.execArgs, env, options))
      }
      return { target, process: undefined, port: undefined, listening: Effect.void }
    })
}))

/**
 * @since 0.2.0
 */
export const layer: Layer.Layer<PerCallLauncher, never, ProcessRegistry> = Layer.effect(PerCallLauncher, make)
