/**
 * Keeps one plugin up. A supervisor fiber owns the plugin's state: it starts the first generation,
 * watches it (its exit is seen the moment it happens, a health Ping runs every interval), and when it
 * fails restarts it with exponential backoff until a crash budget is spent. Every step is published
 * as a {@link SupervisorEvent}. Interrupting the fiber is how the host stops the plugin: the current
 * generation's scope closes (its process is stopped) and nothing is reported as a crash.
 *
 * The policy runs on Effect's `Clock`, so it is tested on the TestClock with fake generations.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Data, Deferred, Duration, Effect, Either, Exit, Schedule, Scope, SubscriptionRef } from "effect"
import type { Generation } from "./CallerFactory.js"
import { defectText } from "./internal/errorText.js"
import type { PluginConfig, PluginSpec } from "./PluginConfig.js"
import type { StartError } from "./PluginError.js"

/**
 * What the supervisor does, per plugin. Times come from `[settings]` unless overridden in code.
 *
 * @since 0.1.0
 */
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

/**
 * The default backoff: 100 ms, 200 ms, 400 ms, … capped at 10 s.
 *
 * @since 0.1.0
 */
export const defaultBackoff: Schedule.Schedule<Duration.Duration> = Schedule.exponential("100 millis", 2).pipe(
  Schedule.modifyDelay((_, delay) => Duration.min(delay, Duration.seconds(10))),
  Schedule.delays
)

/**
 * The policy for one plugin from the config's `[settings]` and the plugin's own `restart` flag.
 *
 * @since 0.1.0
 */
export const policyFor = (
  config: PluginConfig,
  spec: PluginSpec,
  overrides: Partial<SupervisorPolicy> = {}
): SupervisorPolicy => ({
  restart: spec.restart ?? config.settings.restart,
  healthInterval: config.settings.healthInterval,
  healthTimeout: config.settings.healthTimeout,
  unhealthyAfter: config.settings.unhealthyAfter,
  backoff: defaultBackoff,
  maxRestarts: config.settings.maxRestarts,
  window: config.settings.restartWindow,
  ...overrides
})

/**
 * Where a plugin stands. Callers wait while it is `Starting` or `Restarting`, call the current
 * generation when `Ready`, and fail at once when `Stopping` or `Down`.
 *
 * @since 0.2.0
 */
export type PluginState = Data.TaggedEnum<{
  Starting: {}
  Ready: { readonly generation: Generation }
  Restarting: { readonly attempt: number }
  Stopping: {}
  Down: { readonly reason: string }
}>

/**
 * Constructors and matchers for {@link PluginState}.
 *
 * @since 0.2.0
 */
export const PluginState = Data.taggedEnum<PluginState>()

/**
 * What the supervisor saw or did. Subscribe with `container.events` or `container.onEvent`.
 *
 * @since 0.1.0
 */
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

/**
 * Constructors and matchers for {@link SupervisorEvent}.
 *
 * @since 0.1.0
 */
export const SupervisorEvent = Data.taggedEnum<SupervisorEvent>()

/**
 * What the supervisor of one plugin works with.
 *
 * @since 0.2.0
 */
export interface SupervisedPlugin {
  readonly host: string
  readonly plugin: string
  readonly policy: SupervisorPolicy
  /** Starts one generation into the current scope, ready to be called. */
  readonly start: Effect.Effect<Generation, StartError, Scope.Scope>
  /** The plugin's state: written by the supervisor only. */
  readonly state: SubscriptionRef.SubscriptionRef<PluginState>
  /**
   * Told each new state synchronously, just before `state` is set: for a plain mirror that a hot path
   * reads without running an effect (the stable caller's ready generation).
   */
  readonly onState?: ((state: PluginState) => void) | undefined
  /** Completed once, with the first generation or the reason it could not start. */
  readonly firstStart: Deferred.Deferred<Generation, StartError>
  /**
   * What `firstStart` fails with when the plugin is stopped before its first generation is ready;
   * built only then (an error costs a stack trace and a field check, and most starts never need it).
   */
  readonly stoppedBeforeReady: () => StartError
  readonly publish: (event: SupervisorEvent) => Effect.Effect<void>
}

/** Sets the plugin's state, telling `onState` first. */
const setState = (plugin: SupervisedPlugin, next: PluginState): Effect.Effect<void> => {
  const { onState } = plugin
  const set = SubscriptionRef.set(plugin.state, next)
  return onState === undefined ? set : Effect.zipRight(Effect.sync(() => onState(next)), set)
}

/**
 * Completes with a description once the generation fails: its process exits, or it stops answering
 * health Pings. A generation without a process (one process per call) never fails.
 */
const failureOf = (plugin: SupervisedPlugin, generation: Generation): Effect.Effect<string> => {
  const { host, policy } = plugin
  const process = generation.process
  if (process === undefined) return Effect.never
  const pid = process.pid
  const exited = Effect.gen(function*() {
    const info = yield* process.awaitExit
    yield* plugin.publish(SupervisorEvent.PluginCrashed({
      host,
      plugin: plugin.plugin,
      pid,
      exitCode: info.code,
      signal: info.signal,
      lastStderr: yield* process.stderrTail
    }))
    return info.signal !== null ? `killed by ${info.signal}` : `exited with code ${info.code}`
  })
  const unhealthy = Effect.gen(function*() {
    let failures = 0
    let lastReason = ""
    while (failures < policy.unhealthyAfter) {
      yield* Effect.sleep(policy.healthInterval)
      const answer = yield* generation.caller.ping.pipe(
        Effect.timeoutFail({
          duration: policy.healthTimeout,
          onTimeout: () => `no answer within ${Duration.format(policy.healthTimeout)}`
        }),
        Effect.either
      )
      if (Either.isRight(answer)) {
        failures = 0
      } else {
        failures++
        lastReason = typeof answer.left === "string" ? answer.left : answer.left.detail
      }
    }
    const reason = `${policy.unhealthyAfter} health Pings in a row failed (last: ${lastReason})`
    yield* plugin.publish(SupervisorEvent.PluginUnhealthy({ host, plugin: plugin.plugin, pid, reason }))
    return reason
  })
  return Effect.raceFirst(exited, unhealthy)
}

/**
 * Runs one generation in a scope of its own: start it, announce it ready, and return why it failed.
 * When the supervisor is interrupted (the host stops the plugin) the state becomes `Stopping` before
 * the scope closes, so calls fail fast instead of reaching a process that is going away.
 */
const runGeneration = (
  plugin: SupervisedPlugin,
  onReady: (generation: Generation) => Effect.Effect<void>
): Effect.Effect<string, StartError> =>
  Effect.acquireUseRelease(
    Scope.make(),
    (scope) =>
      Effect.gen(function*() {
        const generation = yield* Scope.extend(plugin.start, scope)
        yield* setState(plugin, PluginState.Ready({ generation }))
        yield* onReady(generation)
        // Whoever waited for this generation (the first `run`) goes first; watching it can wait a turn.
        yield* Effect.yieldNow()
        return yield* failureOf(plugin, generation)
      }),
    (scope, exit) =>
      Exit.isInterrupted(exit)
        ? Effect.zipRight(setState(plugin, PluginState.Stopping()), Scope.close(scope, exit))
        : Scope.close(scope, exit)
  )

/**
 * Supervises one plugin until it is given up on or the fiber is interrupted. Completes `firstStart`
 * with the first generation (or its start error, after which it returns with the plugin `Down`).
 *
 * @since 0.2.0
 */
export const supervise = (plugin: SupervisedPlugin): Effect.Effect<void> =>
  Effect.gen(function*() {
    const { host, policy } = plugin
    const down = (reason: string) => setState(plugin, PluginState.Down({ reason }))
    const first = yield* Effect.either(runGeneration(plugin, (generation) => Deferred.succeed(plugin.firstStart, generation)))
    if (Either.isLeft(first)) {
      yield* down(first.left.message)
      return yield* Deferred.fail(plugin.firstStart, first.left)
    }
    let reason = first.right
    const backoff = yield* Schedule.driver(policy.backoff)
    const windowMillis = Duration.toMillis(policy.window)
    let restarts: ReadonlyArray<number> = []
    let attempt = 0
    while (true) {
      if (!policy.restart) return yield* down(`${reason}; restart is off for this plugin`)
      const now = yield* Clock.currentTimeMillis
      restarts = restarts.filter((at) => now - at < windowMillis)
      if (restarts.length === 0) yield* backoff.reset
      if (restarts.length >= policy.maxRestarts) {
        yield* plugin.publish(SupervisorEvent.PluginGaveUp({ host, plugin: plugin.plugin, restarts: restarts.length, windowMillis, reason }))
        return yield* down(`${restarts.length} restarts within ${Duration.format(policy.window)}; last failure: ${reason}`)
      }
      attempt++
      yield* setState(plugin, PluginState.Restarting({ attempt }))
      const delay = yield* Effect.orDie(backoff.next(undefined))
      yield* plugin.publish(SupervisorEvent.PluginRestarting({ host, plugin: plugin.plugin, attempt, delayMillis: Duration.toMillis(delay) }))
      restarts = [...restarts, yield* Clock.currentTimeMillis]
      const thisAttempt = attempt
      const next = yield* Effect.either(runGeneration(plugin, (generation) =>
        plugin.publish(SupervisorEvent.PluginRestarted({
          host,
          plugin: plugin.plugin,
          pid: generation.process?.pid ?? 0,
          attempt: thisAttempt
        }))))
      if (Either.isRight(next)) {
        reason = next.right
      } else {
        reason = next.left.message
        yield* plugin.publish(SupervisorEvent.PluginRestartFailed({ host, plugin: plugin.plugin, attempt, error: next.left }))
      }
    }
  }).pipe(
    // A defect (a start or an event listener that throws) must not leave the plugin looking alive, or
    // its first start pending for ever: the plugin is down, the first start fails with the defect, and
    // the defect is logged. Container's drivers' defects arrive as `DriverFailed` instead.
    Effect.tapDefect((cause) => {
      const reason = `the supervisor failed unexpectedly: ${defectText(Cause.squash(cause))}`
      return Effect.zipRight(
        Effect.zipRight(setState(plugin, PluginState.Down({ reason })), Deferred.failCause(plugin.firstStart, cause)),
        Effect.logError(reason, cause).pipe(Effect.annotateLogs({ host: plugin.host, plugin: plugin.plugin }))
      )
    }),
    Effect.onInterrupt(() =>
      Effect.zipRight(
        setState(plugin, PluginState.Down({ reason: "the plugin was stopped" })),
        Deferred.fail(plugin.firstStart, plugin.stoppedBeforeReady())
      )
    )
  )
