/**
 * A host's container: the plugins one host runs, isolated from other containers (two containers
 * running the same plugin get a process each). Each plugin is supervised: the caller `run` returns
 * keeps working across restarts. Closing the container's scope stops every plugin it started.
 *
 * @since 0.1.0
 */
import {
  Deferred,
  Duration,
  Effect,
  Either,
  ExecutionStrategy,
  Exit,
  FiberId,
  Option,
  PubSub,
  Scope,
  Stream
} from "effect"
import type { Caller, CallOptions } from "./Caller.js"
import { CallerFactory } from "./CallerFactory.js"
import * as Host from "./Host.js"
import { Md5Checker } from "./Md5Checker.js"
import { callTimeoutOf } from "./PluginConfig.js"
import { type CallError, PluginAlreadyRunning, PluginNotRunning, type StartError } from "./PluginError.js"
import { type PluginProcess, ProcessRegistry } from "./ProcessRegistry.js"
import { policyFor, supervise, type SupervisorEvent, type SupervisorPolicy } from "./Supervisor.js"
import { callError, timeoutMillis } from "./internal/callResult.js"
import { launch, type Launched, type LaunchContext } from "./internal/launch.js"
import { makeVerifyCache } from "./internal/verifyCache.js"

/** A plugin this container runs. */
export interface RunningPlugin {
  readonly name: string
  /** The stable caller: it follows the plugin across restarts. */
  readonly caller: Caller
  /** The current process, absent for one-process-per-call transports such as stdio. */
  readonly process: PluginProcess | undefined
  readonly port: number | undefined
}

/** Limits and supervision settings that apply to every plugin of a container. */
export interface ContainerOptions {
  /** Largest answer accepted from a plugin, in bytes; default `[settings] max_response_bytes`. */
  readonly maxResponseBytes?: number | undefined
  /** Overrides of the supervision policy from the config (e.g. a custom backoff `Schedule`). */
  readonly supervisor?: Partial<SupervisorPolicy> | undefined
}

/** The plugins of one host. */
export interface Container {
  readonly host: string
  /** What the host may run, and what failed verification and why. */
  readonly installed: Host.InstalledHost
  /**
   * Verifies the plugin again, starts it, waits until it answers Ping (at most `exec_time`), and
   * returns its caller. The process lives until `kill`, `killAll` or the container's scope closes.
   */
  readonly run: (plugin: string) => Effect.Effect<Caller, StartError>
  /** The caller of a plugin this container runs. */
  readonly caller: (plugin: string) => Effect.Effect<Caller, PluginNotRunning>
  /** Stops one plugin. */
  readonly kill: (plugin: string) => Effect.Effect<void, PluginNotRunning>
  /** Stops every plugin of this container, concurrently. */
  readonly killAll: Effect.Effect<void>
  /** The plugins running now (restarting plugins are left out). */
  readonly running: Effect.Effect<ReadonlyArray<RunningPlugin>>
  /** Everything the supervisor sees and does, from the moment of subscription. */
  readonly events: Stream.Stream<SupervisorEvent>
  /** Runs `handler` for every supervisor event (the spec's OnError handlers) until the container closes. */
  readonly onEvent: (handler: (event: SupervisorEvent) => Effect.Effect<void>) => Effect.Effect<void>
}

/** Where a plugin of the container stands. */
type SlotState =
  | { readonly _tag: "Starting"; readonly ready: Deferred.Deferred<void> }
  | { readonly _tag: "Ready"; readonly launched: Launched; readonly scope: Scope.CloseableScope }
  | { readonly _tag: "Restarting"; readonly ready: Deferred.Deferred<void> }
  | { readonly _tag: "Down"; readonly reason: string }

interface Slot {
  readonly name: string
  readonly scope: Scope.CloseableScope
  state: SlotState
  caller?: Caller
  /** Set when the container stops the plugin: its exit is then expected, not a crash. */
  stopping?: boolean
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
 * The caller handed to users: it resolves the current generation on every call, waits (within the
 * call's timeout) while the plugin restarts, and fails at once when the plugin is down.
 */
const stableCaller = (slot: Slot, host: string, protocol: string, defaultTimeout: Duration.Duration): Caller => {
  const target = { host, plugin: slot.name, timeout: defaultTimeout }
  const withCurrent = <A>(
    operation: "ping" | "exec",
    command: string | undefined,
    options: CallOptions | undefined,
    use: (caller: Caller, options: CallOptions | undefined) => Effect.Effect<A, CallError>
  ): Effect.Effect<A, CallError> =>
    Effect.suspend(() => {
      const state = slot.state
      switch (state._tag) {
        case "Ready":
          return use(state.launched.caller, options)
        case "Down":
          return Effect.fail(callError(target, operation, command, "stopped", state.reason))
        case "Starting":
        case "Restarting": {
          const limit = timeoutMillis(target, options)
          const started = Date.now()
          return Deferred.await(state.ready).pipe(
            Effect.timeoutFail({
              duration: Duration.millis(limit),
              onTimeout: () =>
                callError(target, operation, command, "restarting", `the plugin was still restarting after ${limit} ms`)
            }),
            Effect.zipRight(Effect.suspend(() =>
              withCurrent(operation, command, { timeout: Duration.millis(Math.max(1, limit - (Date.now() - started))) }, use)
            ))
          )
        }
      }
    })
  return {
    host,
    plugin: slot.name,
    protocol,
    ping: withCurrent("ping", undefined, undefined, (caller) => caller.ping),
    exec: (command, payload, options) =>
      withCurrent("exec", command, options, (caller, remaining) => caller.exec(command, payload, remaining))
  }
}

/** Creates a container for an installed host; its scope's end stops every plugin it started. */
export const make = (installed: Host.InstalledHost, options: ContainerOptions = {}) =>
  Effect.gen(function*() {
    const registry = yield* ProcessRegistry
    const factory = yield* CallerFactory
    const checker = yield* Md5Checker
    const containerScope = yield* Effect.scope
    const host = installed.name
    const config = installed.config
    const context: LaunchContext = {
      host,
      config,
      registry,
      checker,
      verifyCached: makeVerifyCache(),
      maxResponseBytes: options.maxResponseBytes ?? config.settings.max_response_bytes
    }
    const slots = new Map<string, Slot>()
    const pubsub = yield* PubSub.unbounded<SupervisorEvent>()
    const publish = (event: SupervisorEvent) =>
      eventLevel(event)(describeEvent(event)).pipe(
        Effect.annotateLogs({ host, plugin: event.plugin }),
        Effect.zipRight(PubSub.publish(pubsub, event))
      )

    const release = (name: string) =>
      Effect.suspend(() => {
        const slot = slots.get(name)
        if (slot === undefined) return Effect.void
        slots.delete(name)
        slot.stopping = true
        const previous = slot.state
        slot.state = { _tag: "Down", reason: "the plugin was stopped" }
        if (previous._tag === "Starting" || previous._tag === "Restarting") Deferred.unsafeDone(previous.ready, Exit.void)
        return Scope.close(slot.scope, Exit.void)
      })

    // Every plugin is told to stop before any stop is waited for, so they shut down side by side.
    const killAll = Effect.suspend(() => {
      const names = Array.from(slots.keys())
      for (const slot of slots.values()) {
        const state = slot.state
        slot.stopping = true
        if (state._tag === "Ready") state.launched.process?.terminate()
      }
      return Effect.forEach(names, release, { concurrency: "unbounded", discard: true })
    }).pipe(Effect.withSpan("Container.killAll", { attributes: { host } }))

    yield* Effect.addFinalizer(() => killAll)

    /** Launches a generation in a scope of its own, closed on failure. */
    const launchGeneration = (slot: Slot, plugin: Host.InstalledPlugin, driver: Parameters<typeof launch>[2]) =>
      Effect.gen(function*() {
        const scope = yield* Scope.fork(slot.scope, ExecutionStrategy.sequential)
        const launched = yield* launch(context, plugin, driver, scope).pipe(
          Effect.onExit((exit) => (Exit.isSuccess(exit) ? Effect.void : Scope.close(scope, exit)))
        )
        return { launched, scope }
      })

    const becomeReady = (slot: Slot, launched: Launched, scope: Scope.CloseableScope) => {
      const previous = slot.state
      slot.state = { _tag: "Ready", launched, scope }
      if (previous._tag === "Starting" || previous._tag === "Restarting") Deferred.unsafeDone(previous.ready, Exit.void)
    }

    const run = Effect.fn("Container.run")(function*(name: string) {
      const existing = slots.get(name)
      if (existing !== undefined) {
        const pid = existing.state._tag === "Ready" ? existing.state.launched.process?.pid ?? 0 : 0
        return yield* new PluginAlreadyRunning({ host, plugin: name, pid })
      }
      const plugin = yield* Either.match(Host.lookup(installed, name), { onLeft: Effect.fail, onRight: Effect.succeed })
      const driver = yield* factory.driverFor(name, plugin.spec.comm_type)
      const slot: Slot = {
        name,
        scope: yield* Scope.fork(containerScope, ExecutionStrategy.sequential),
        state: { _tag: "Starting", ready: yield* Deferred.make<void>() }
      }
      slots.set(name, slot)
      const { launched, scope } = yield* launchGeneration(slot, plugin, driver).pipe(
        Effect.onExit((exit) =>
          Exit.isSuccess(exit)
            ? Effect.void
            : Effect.zipRight(
              Effect.sync(() => slots.get(name) === slot && slots.delete(name)),
              Scope.close(slot.scope, exit)
            )
        )
      )
      becomeReady(slot, launched, scope)
      const caller = stableCaller(slot, host, plugin.spec.comm_type, callTimeoutOf(config, plugin.spec))
      slot.caller = caller
      if (launched.process !== undefined) {
        yield* Effect.forkIn(
          supervise({
            host,
            plugin: name,
            policy: policyFor(config, plugin.spec, options.supervisor),
            first: { process: launched.process, caller: launched.caller },
            stopping: () => slot.stopping === true,
            beginRestart: Effect.suspend(() => {
              const state = slot.state
              if (state._tag !== "Ready") return Effect.void
              slot.state = { _tag: "Restarting", ready: Deferred.unsafeMake<void>(FiberId.none) }
              return Scope.close(state.scope, Exit.void)
            }),
            startNext: Effect.map(launchGeneration(slot, plugin, driver), (next) => {
              becomeReady(slot, next.launched, next.scope)
              return { process: next.launched.process!, caller: next.launched.caller }
            }),
            giveUp: (reason) =>
              Effect.suspend(() => {
                const state = slot.state
                slot.state = { _tag: "Down", reason }
                if (state._tag === "Restarting") Deferred.unsafeDone(state.ready, Exit.void)
                return state._tag === "Ready" ? Scope.close(state.scope, Exit.void) : Effect.void
              }),
            publish
          }),
          slot.scope
        )
      }
      return caller
    })

    const lookupRunning = (name: string) =>
      Option.fromNullable(slots.get(name)?.caller).pipe(Effect.mapError(() => new PluginNotRunning({ host, plugin: name })))

    const events = Stream.fromPubSub(pubsub)

    return {
      host,
      installed,
      run,
      caller: lookupRunning,
      kill: (name) => Effect.zipRight(lookupRunning(name), release(name)),
      killAll,
      running: Effect.sync(() =>
        Array.from(slots.values()).flatMap((slot) =>
          slot.state._tag === "Ready" && slot.caller !== undefined
            ? [{ name: slot.name, caller: slot.caller, process: slot.state.launched.process, port: slot.state.launched.port }]
            : []
        )
      ),
      events,
      onEvent: (handler) => Effect.asVoid(Effect.forkIn(Stream.runForEach(events, handler), containerScope))
    } satisfies Container
  })
