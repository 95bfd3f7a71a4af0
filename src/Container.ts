/**
 * A host's container: the plugins one host runs, isolated from other containers (two containers
 * running the same plugin get a process each). Each running plugin is one {@link PluginHandle}: a
 * keyed resource whose state is owned by its supervisor fiber, like an `RcMap` entry. Concurrent runs
 * of one plugin share one start; the caller `run` returns follows the plugin across restarts; closing
 * the container's scope stops every plugin it started, side by side.
 *
 * @since 0.1.0
 */
import { Effect, Either, HashMap, Option, PubSub, Scope, Stream, SynchronizedRef } from "effect"
import * as os from "node:os"
import type { Caller } from "./Caller.js"
import { type CallerDriver, CallerFactory } from "./CallerFactory.js"
import * as Host from "./Host.js"
import { defectText } from "./internal/errorText.js"
import { verifyCached } from "./internal/verifyCache.js"
import type { LaunchPlan } from "./Launcher.js"
import { Md5Checker } from "./Md5Checker.js"
import { callTimeoutOf } from "./PluginConfig.js"
import { DriverFailed, PluginAlreadyRunning, PluginNotRunning, PluginStartError, type StartError, type UnsupportedProtocol } from "./PluginError.js"
import * as PluginHandle from "./PluginHandle.js"
import type { PluginProcess } from "./ProcessRegistry.js"
import { policyFor, type SupervisorEvent, type SupervisorPolicy } from "./Supervisor.js"

/**
 * A plugin this container runs.
 *
 * @since 0.1.0
 */
export interface RunningPlugin {
  readonly name: string
  /** The stable caller: it follows the plugin across restarts. */
  readonly caller: Caller
  /**
   * The current generation's own caller: it does not follow restarts. Protocol modules read what their
   * transport attached to it (e.g. `GoPluginSession`).
   *
   * @since 0.2.0
   */
  readonly current: Caller
  /** The current process, absent for one-process-per-call transports such as stdio. */
  readonly process: PluginProcess | undefined
  readonly port: number | undefined
}

/**
 * Limits and supervision settings that apply to every plugin of a container.
 *
 * @since 0.1.0
 */
export interface ContainerOptions {
  /** Largest answer accepted from a plugin, in bytes; default `[settings] max_response_bytes`. */
  readonly maxResponseBytes?: number | undefined
  /** Overrides of the supervision policy from the config (e.g. a custom backoff `Schedule`). */
  readonly supervisor?: Partial<SupervisorPolicy> | undefined
  /** Wrap every ping and exec in a span (default false: calls stay on the lean path). */
  readonly traceCalls?: boolean | undefined
  /**
   * How many plugins of one container may be starting at once (default `[settings] start_concurrency`,
   * else twice the CPU count, at least 4). A plugin's `exec_time` counts from its own start, not from
   * its place in the queue.
   */
  readonly startConcurrency?: number | undefined
}

/**
 * The plugins of one host.
 *
 * @since 0.1.0
 */
export interface Container {
  readonly host: string
  /** What the host may run, and what failed verification and why. */
  readonly installed: Host.InstalledHost
  /**
   * Verifies the plugin again, starts it, waits until it answers Ping (at most `exec_time`), and
   * returns its caller. The process lives until `kill`, `killAll` or the container's scope closes.
   * Runs of a plugin that is already starting wait for that start; a run of a running plugin fails
   * with `PluginAlreadyRunning` naming its pid.
   */
  readonly run: (plugin: string) => Effect.Effect<Caller, StartError>
  /** The caller of a plugin this container runs (or is starting: calls then wait for it). */
  readonly caller: (plugin: string) => Effect.Effect<Caller, PluginNotRunning>
  /** Stops one plugin. */
  readonly kill: (plugin: string) => Effect.Effect<void, PluginNotRunning>
  /** Stops every plugin of this container, concurrently. */
  readonly killAll: Effect.Effect<void>
  /** The plugins ready now (starting and restarting plugins are left out). */
  readonly running: Effect.Effect<ReadonlyArray<RunningPlugin>>
  /** A stream of everything the supervisors see and do, subscribed before this effect returns. */
  readonly events: Effect.Effect<Stream.Stream<SupervisorEvent>, never, Scope.Scope>
  /**
   * Runs `handler` for every supervisor event (the spec's OnError handlers) until the container
   * closes; subscribed before it returns, so no event after this call is missed.
   */
  readonly onEvent: (handler: (event: SupervisorEvent) => Effect.Effect<void>) => Effect.Effect<void>
}

const eventLevel = (event: SupervisorEvent) =>
  event._tag === "PluginRestarted" || event._tag === "PluginRestarting" ? Effect.logInfo : Effect.logWarning

const describeEvent = (event: SupervisorEvent): string => {
  switch (event._tag) {
    case "PluginCrashed":
      return `pid ${event.pid} ${event.signal !== null ? `was killed by ${event.signal}` : `exited with code ${event.exitCode}`}` +
        (event.lastStderr.length > 0 ? `; last stderr: ${event.lastStderr.slice(-3).join(" | ")}` : "")
    case "PluginUnhealthy":
      return `pid ${event.pid} is unhealthy: ${event.reason}`
    case "PluginRestarting":
      return `restart attempt ${event.attempt} after ${event.delayMillis} ms of backoff`
    case "PluginRestarted":
      return `restarted as pid ${event.pid} (attempt ${event.attempt})`
    case "PluginRestartFailed":
      return `restart attempt ${event.attempt} failed: ${event.error.message}`
    case "PluginGaveUp":
      return `gave up after ${event.restarts} restarts within ${event.windowMillis} ms: ${event.reason}`
  }
}

/**
 * The default number of plugins a container starts at once.
 *
 * @since 0.2.0
 */
export const defaultStartConcurrency = (): number => Math.max(4, 2 * (os.availableParallelism?.() ?? os.cpus().length))

/**
 * Creates a container for an installed host; its scope's end stops every plugin it started.
 *
 * @since 0.1.0
 */
export const make = (installed: Host.InstalledHost, options: ContainerOptions = {}) =>
  Effect.gen(function*() {
    const factory = yield* CallerFactory
    const checker = yield* Md5Checker
    const containerScope = yield* Effect.scope
    const host = installed.name
    const config = installed.config
    const maxResponseBytes = options.maxResponseBytes ?? config.settings.maxResponseBytes
    const starting = yield* Effect.makeSemaphore(
      options.startConcurrency ?? config.settings.startConcurrency ?? defaultStartConcurrency()
    )
    const handles = yield* SynchronizedRef.make(HashMap.empty<string, PluginHandle.PluginHandle>())
    const pubsub = yield* PubSub.unbounded<SupervisorEvent>()
    const publish = (event: SupervisorEvent) =>
      eventLevel(event)(describeEvent(event)).pipe(
        Effect.annotateLogs({ host, plugin: event.plugin }),
        Effect.zipRight(PubSub.publish(pubsub, event))
      )

    const planFor = (plugin: Host.InstalledPlugin): LaunchPlan => ({
      host,
      plugin,
      callTimeout: callTimeoutOf(config, plugin.spec),
      stopGrace: config.settings.stopGrace,
      execTime: plugin.spec.execTime,
      maxResponseBytes,
      traceCalls: options.traceCalls ?? false,
      verify: Effect.provideService(verifyCached(plugin.name, plugin.execFile, plugin.spec), Md5Checker, checker)
    })

    /**
     * One generation started by the plugin's driver. A defect in the driver (a custom driver that throws,
     * say) becomes a `DriverFailed` start error, so the first `run` reports it and a restart counts it as
     * a failed attempt, rather than the supervisor dying with the start pending.
     */
    const startWith = (driver: CallerDriver, name: string, plugin: Host.InstalledPlugin) =>
      driver.start(planFor(plugin)).pipe(
        Effect.catchAllDefect((defect) =>
          Effect.fail(new DriverFailed({ host, plugin: name, commType: driver.commType, detail: defectText(defect), cause: defect }))
        )
      )

    /** Removes `handle` from the map if it is still the plugin's current one, and stops it. */
    const release = (name: string, handle: PluginHandle.PluginHandle) =>
      SynchronizedRef.update(handles, (map) =>
        Option.exists(HashMap.get(map, name), (current) => current === handle) ? HashMap.remove(map, name) : map
      ).pipe(Effect.zipRight(handle.stop))

    const killAll = SynchronizedRef.getAndSet(handles, HashMap.empty()).pipe(
      Effect.flatMap((map) => Effect.forEach(HashMap.values(map), (handle) => handle.stop, { concurrency: "unbounded", discard: true })),
      Effect.withSpan("Container.killAll", { attributes: { host } })
    )

    yield* Effect.addFinalizer(() => killAll)

    /** The plugin's live handle, or a new one when it has none (or only one that is down). */
    const acquire = (name: string, plugin: Host.InstalledPlugin, protocol: string) =>
      SynchronizedRef.modifyEffect(handles, (map) => {
        type Acquired = readonly [{ readonly handle: PluginHandle.PluginHandle; readonly created: boolean }, typeof map]
        const fresh: Effect.Effect<Acquired, UnsupportedProtocol> = Effect.gen(function*() {
          const driver = yield* factory.driverFor(name, protocol)
          const handle = yield* PluginHandle.make({
            host,
            plugin: name,
            protocol,
            callTimeout: callTimeoutOf(config, plugin.spec),
            policy: policyFor(config, plugin.spec, options.supervisor),
            start: starting.withPermits(1)(startWith(driver, name, plugin)),
            stoppedBeforeReady: () => new PluginStartError({
              host,
              plugin: name,
              exec: plugin.exec,
              detail: "the plugin was stopped before it was ready (kill, killAll or the container's scope closed)"
            }),
            publish
          })
          return [{ handle, created: true }, HashMap.set(map, name, handle)] as const
        })
        return Option.match(HashMap.get(map, name), {
          onNone: () => fresh,
          onSome: (handle) =>
            Effect.flatMap(handle.isDown, (down): Effect.Effect<Acquired, UnsupportedProtocol> =>
              down ? fresh : Effect.succeed([{ handle, created: false }, map] as const))
        })
      })

    const run = Effect.fn("Container.run")(function*(name: string) {
      const plugin = yield* Either.match(Host.lookup(installed, name), { onLeft: Effect.fail, onRight: Effect.succeed })
      const { created, handle } = yield* acquire(name, plugin, plugin.spec.commType)
      const generation = yield* handle.started.pipe(
        Effect.tapError(() => (created ? release(name, handle) : Effect.void))
      )
      if (!created) {
        const pid = generation.process?.pid
        return yield* new PluginAlreadyRunning({ host, plugin: name, ...(pid === undefined ? {} : { pid }) })
      }
      return handle.caller
    })

    const lookupLive = (name: string) =>
      SynchronizedRef.get(handles).pipe(
        Effect.flatMap((map) => HashMap.get(map, name)),
        Effect.flatMap((handle) => Effect.map(handle.isDown, (down) => (down ? Option.none() : Option.some(handle)))),
        Effect.flatten,
        Effect.mapError(() => new PluginNotRunning({ host, plugin: name }))
      )

    const container: Container = {
      host,
      installed,
      run,
      caller: (name) => Effect.map(lookupLive(name), (handle) => handle.caller),
      kill: (name) =>
        Effect.flatMap(
          Effect.flatMap(SynchronizedRef.get(handles), (map) =>
            Effect.mapError(HashMap.get(map, name), () => new PluginNotRunning({ host, plugin: name }))),
          (handle) => release(name, handle)
        ),
      killAll,
      running: SynchronizedRef.get(handles).pipe(
        Effect.flatMap((map) =>
          Effect.forEach(HashMap.toEntries(map), ([name, handle]) =>
            Effect.map(handle.ready, Option.map((generation): RunningPlugin => ({
              name,
              caller: handle.caller,
              current: generation.caller,
              process: generation.process,
              port: generation.port
            }))))
        ),
        Effect.map((found) => found.flatMap(Option.toArray))
      ),
      events: Stream.fromPubSub(pubsub, { scoped: true }),
      onEvent: (handler) =>
        PubSub.subscribe(pubsub).pipe(
          Effect.flatMap((queue) => Effect.forkIn(Stream.runForEach(Stream.fromQueue(queue), handler), containerScope)),
          Effect.provideService(Scope.Scope, containerScope),
          Effect.asVoid
        )
    }
    return container
  })
