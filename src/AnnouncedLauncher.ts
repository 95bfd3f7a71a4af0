/**
 * The launcher of plugins that choose their own address and announce it as their first stdout line
 * (hashicorp/go-plugin's handshake, for one). The protocol module supplies the extra environment and
 * the parser of that line; the launcher starts the process, waits for the line (or the process's
 * exit), and hands the parsed target on. Later stdout lines are logged as usual.
 *
 * @since 0.2.0
 */
import { type Duration, Effect, Either } from "effect"
import { newToken, pluginEnv, startRequest, targetBase } from "./internal/launchPlan.js"
import type { Launcher, LaunchPlan, TargetBase } from "./Launcher.js"
import { PluginStartError, type StartError } from "./PluginError.js"
import { announcement, letExitOnItsOwn, ProcessRegistry, type StartRequest } from "./ProcessRegistry.js"

/**
 * What a protocol tells the announced launcher.
 *
 * @since 0.2.0
 */
export interface AnnouncedOptions<Target, Secret> {
  /** Short name for messages, e.g. "go-plugin". */
  readonly kind: string
  /**
   * Prepares one launch: the environment added for the plugin (beside the `GOPLUGIN_*` variables),
   * and whatever of this launch the parser needs later (e.g. a fresh host certificate and its key).
   */
  readonly prepare: (plan: LaunchPlan) => Effect.Effect<{ readonly env: Readonly<Record<string, string>>; readonly secret: Secret }, StartError>
  /** Reads the announcement into a target; `Left` says why the line is refused. */
  readonly parse: (line: string, base: TargetBase, plan: LaunchPlan, secret: Secret) => Either.Either<Target, string>
  /** Arguments of the plugin; default: `exec_args` as written. */
  readonly args?: (plan: LaunchPlan) => ReadonlyArray<string>
  /** How the plugin's stderr lines become log entries (see `StartRequest.stderrEntries`). */
  readonly stderrEntries?: StartRequest["stderrEntries"]
  /**
   * How long closing the generation lets the process exit by itself before the registry stops it
   * (SIGTERM, grace, SIGKILL), for protocols whose transport says goodbye first (go-plugin's Shutdown):
   * the wait runs after the transport's finalizers, which were added later. Default: no wait.
   */
  readonly exitGrace?: Duration.DurationInput | undefined
}

/**
 * A launcher that reads the address a plugin announces.
 *
 * @since 0.2.0
 */
export const make = <Target, Secret>(
  options: AnnouncedOptions<Target, Secret>
): Effect.Effect<Launcher<Target>, never, ProcessRegistry> =>
  Effect.gen(function*() {
    const registry = yield* ProcessRegistry
    const launch = (plan: LaunchPlan) =>
      Effect.gen(function*() {
        const { host } = plan
        const plugin = plan.plugin.name
        const startFailed = (reason: string) => new PluginStartError({ host, plugin, exec: plan.plugin.exec, detail: reason })
        yield* plan.verify
        const token = newToken()
        const prepared = yield* options.prepare(plan)
        const env = { ...prepared.env, ...pluginEnv(plan, token) }
        const args = options.args?.(plan) ?? plan.plugin.spec.execArgs
        const process = yield* registry.start(
          startRequest(plan, args, env, { announce: true, stderrEntries: options.stderrEntries })
        )
        if (options.exitGrace !== undefined) yield* letExitOnItsOwn(process, options.exitGrace)
        const line = yield* announcement(process, startFailed)
        const target = yield* Either.match(options.parse(line.trim(), targetBase(plan, token), plan, prepared.secret), {
          onLeft: (reason) => Effect.fail(startFailed(`its ${options.kind} announcement ${JSON.stringify(line.slice(0, 200))} was refused: ${reason}`)),
          onRight: Effect.succeed
        })
        return { target, process, port: undefined, listening: Effect.void }
      })
    return { kind: options.kind, launch }
  })
