/**
 * Keeps a container's plugins up: a plugin's exit is seen the moment it happens, a health Ping runs
 * every interval, and a failed plugin is restarted with exponential backoff until a crash budget is
 * spent. Every step is published as a {@link SupervisorEvent}.
 *
 * @since 0.1.0
 */
import { Clock, Data, Duration, Effect, Schedule } from "effect"
import type { Caller } from "./Caller.js"
import type { PluginConfig, PluginSpec } from "./PluginConfig.js"
import type { StartError } from "./PluginError.js"
import type { PluginProcess } from "./ProcessRegistry.js"

/** What the supervisor does, per plugin. Times come from `[settings]` unless overridden in code. */
export interface SupervisorPolicy {
  /** Restart plugins that exit or stop answering (default true; `restart = false` in the config turns it off). */
  readonly restart: boolean
  /** Time between health Pings (default 5 s). */
  readonly healthInterval: Duration.Duration
  /** A health Ping slower than this counts as failed (default 2 s). */
  readonly healthTimeout: Duration.Duration
  /** Consecutive failed health Pings that make a plugin unhealthy (default 3). */
  readonly unhealthyAfter: number
  /** Delays between restart attempts (default: exponential from 100 ms, doubling, at most 10 s). */
  readonly backoff: Schedule.Schedule<Duration.Duration>
  /** Restarts allowed within `window` before the supervisor gives up (default 5). */
  readonly maxRestarts: number
  /** The crash budget's window (default 60 s). */
  readonly window: Duration.Duration
}

/** The default backoff: 100 ms, 200 ms, 400 ms, … capped at 10 s. */
export const defaultBackoff: Schedule.Schedule<Duration.Duration> = Schedule.exponential("100 millis", 2).pipe(
  Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.seconds(10))),
  Schedule.delays
)

/** The policy for one plugin from the config's `[settings]` and the plugin's own `restart` flag. */
export const policyFor = (
  config: PluginConfig,
  spec: PluginSpec,
  overrides: Partial<SupervisorPolicy> = {}
): SupervisorPolicy => ({
  restart: spec.restart ?? config.settings.restart,
  healthInterval: Duration.seconds(config.settings.health_interval),
  healthTimeout: Duration.seconds(config.settings.health_timeout),
  unhealthyAfter: config.settings.unhealthy_after,
  backoff: defaultBackoff,
  maxRestarts: config.settings.max_restarts,
  window: Duration.seconds(config.settings.restart_window),
  ...overrides
})

/** What the supervisor saw or did. Subscribe with `container.events` or `container.onEvent`. */
export type SupervisorEvent = Data.TaggedEnum<{
  /** The plugin's process exited on its own (crash or clean exit), with its status and last stderr lines. */
  PluginCrashed: {
    readonly host: string
    readonly plugin: string
    readonly pid: number
    readonly exitCode: number | null
    readonly signal: string | null
    readonly lastStderr: ReadonlyArray<string>
  }
  /** Several health Pings in a row failed; the process is alive but not answering. */
  PluginUnhealthy: { readonly host: string; readonly plugin: string; readonly pid: number; readonly reason: string }
  /** A restart attempt starts now, after waiting `delayMillis` of backoff. */
  PluginRestarting: { readonly host: string; readonly plugin: string; readonly attempt: number; readonly delayMillis: number }
  /** The plugin is running and ready again. */
  PluginRestarted: { readonly host: string; readonly plugin: string; readonly pid: number; readonly attempt: number }
  /** A restart attempt failed (the new process exited, or never became ready). */
  PluginRestartFailed: { readonly host: string; readonly plugin: string; readonly attempt: number; readonly error: StartError }
  /** The crash budget is spent: no more restarts. Calls now fail until the plugin is run again. */
  PluginGaveUp: {
    readonly host: string
    readonly plugin: string
    readonly restarts: number
    readonly windowMillis: number
    readonly reason: string
  }
}>

/** Constructors and matchers for {@link SupervisorEvent}. */
export const SupervisorEvent = Data.taggedEnum<SupervisorEvent>()

/** One running generation of a plugin: its process and the caller bound to it. */
export interface Incarnation {
  readonly process: PluginProcess
  readonly caller: Caller
}

/** What the supervisor of one plugin needs from its container. */
export interface SupervisedPlugin {
  readonly host: string
  readonly plugin: string
  readonly policy: SupervisorPolicy
  /** The generation running when supervision starts; later ones come from `startNext`. */
  readonly first: Incarnation
  /** Whether the container is stopping the plugin: an exit then is expected and not acted on. */
  readonly stopping: () => boolean
  /** Marks the plugin as restarting (calls wait) and stops the failed generation. */
  readonly beginRestart: Effect.Effect<void>
  /** Starts a new generation and makes it current (calls resume). */
  readonly startNext: Effect.Effect<Incarnation, StartError>
  /** Marks the plugin as down for good with a reason (calls fail at once). */
  readonly giveUp: (reason: string) => Effect.Effect<void>
  readonly publish: (event: SupervisorEvent) => Effect.Effect<void>
}

/**
 * Completes with a description once the generation fails: its process exits, or it stops answering.
 * Never completes when the failure is the container stopping the plugin (the supervisor is then
 * interrupted with the plugin's scope).
 */
const failureOf = (plugin: SupervisedPlugin, incarnation: Incarnation): Effect.Effect<string> => {
  const { host, policy } = plugin
  const pid = incarnation.process.pid
  const exited = Effect.map(incarnation.process.awaitExit, (info) => {
    const event = SupervisorEvent.PluginCrashed({
      host,
      plugin: plugin.plugin,
      pid,
      exitCode: info.code,
      signal: info.signal,
      lastStderr: incarnation.process.stderrTail()
    })
    return [event, info.signal !== null ? `killed by ${info.signal}` : `exited with code ${info.code}`] as const
  })
  let failures = 0
  let lastReason = ""
  const healthy = incarnation.caller.ping.pipe(
    Effect.timeoutFail({ duration: policy.healthTimeout, onTimeout: () => `no answer within ${Duration.format(policy.healthTimeout)}` }),
    Effect.match({
      onFailure: (error) => {
        failures++
        lastReason = typeof error === "string" ? error : error.detail
        return failures >= policy.unhealthyAfter
      },
      onSuccess: () => {
        failures = 0
        return false
      }
    }),
    Effect.delay(policy.healthInterval),
    Effect.repeat({ until: (unhealthy) => unhealthy }),
    Effect.map(() => {
      const reason = `${policy.unhealthyAfter} health Pings in a row failed (last: ${lastReason})`
      return [SupervisorEvent.PluginUnhealthy({ host, plugin: plugin.plugin, pid, reason }), reason] as const
    })
  )
  return Effect.raceFirst(exited, healthy).pipe(
    Effect.flatMap(([event, reason]) => (plugin.stopping() ? Effect.never : Effect.as(plugin.publish(event), reason)))
  )
}

/**
 * Watches one plugin until its scope ends: on failure, restarts it with backoff, counting restarts in
 * the policy's window; when the budget is spent, gives up and says so. Runs forever otherwise.
 */
export const supervise = (plugin: SupervisedPlugin): Effect.Effect<void> =>
  Effect.gen(function*() {
    const { host, policy } = plugin
    const backoff = yield* Schedule.driver(policy.backoff)
    const windowMillis = Duration.toMillis(policy.window)
    let restarts: Array<number> = []
    let attempt = 0
    let current = plugin.first
    while (true) {
      let reason = yield* failureOf(plugin, current)
      if (!policy.restart) return yield* plugin.giveUp(`${reason}; restart is off for this plugin`)
      yield* plugin.beginRestart
      while (true) {
        const now = yield* Clock.currentTimeMillis
        restarts = restarts.filter((at) => now - at < windowMillis)
        if (restarts.length === 0) yield* backoff.reset
        if (restarts.length >= policy.maxRestarts) {
          yield* plugin.publish(SupervisorEvent.PluginGaveUp({
            host,
            plugin: plugin.plugin,
            restarts: restarts.length,
            windowMillis,
            reason
          }))
          return yield* plugin.giveUp(
            `${restarts.length} restarts within ${Duration.format(policy.window)}; last failure: ${reason}`
          )
        }
        attempt++
        const delay = yield* Effect.orDie(backoff.next(undefined))
        yield* plugin.publish(SupervisorEvent.PluginRestarting({
          host,
          plugin: plugin.plugin,
          attempt,
          delayMillis: Duration.toMillis(delay)
        }))
        restarts.push(yield* Clock.currentTimeMillis)
        const next = yield* Effect.either(plugin.startNext)
        if (next._tag === "Right") {
          current = next.right
          yield* plugin.publish(SupervisorEvent.PluginRestarted({ host, plugin: plugin.plugin, pid: next.right.process.pid, attempt }))
          break
        }
        reason = next.left.message
        yield* plugin.publish(SupervisorEvent.PluginRestartFailed({ host, plugin: plugin.plugin, attempt, error: next.left }))
      }
    }
  }).pipe(Effect.withSpan("Supervisor.supervise", { attributes: { host: plugin.host, plugin: plugin.plugin } }))
