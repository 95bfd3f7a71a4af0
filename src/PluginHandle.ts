/**
 * One running plugin of a container: its state (a `SubscriptionRef` written only by its supervisor
 * fiber), the outcome of its first start, and the stable caller handed to users. The caller reads
 * the state on every call: it calls the current generation when ready (through a mirror of the ready
 * generation that the supervisor keeps in step with the state), waits (within the call's time limit)
 * while the plugin starts or restarts, and fails at once when it is stopping or down.
 *
 * @since 0.2.0
 */
import { Clock, Deferred, Duration, Effect, Fiber, Option, Stream, SubscriptionRef } from "effect"
import type { Caller, CallOptions } from "./Caller.js"
import type { Generation } from "./CallerFactory.js"
import { callError, timeoutMillis } from "./internal/callResult.js"
import { withoutParentSpan } from "./internal/callSpan.js"
import type { CallError, StartError } from "./PluginError.js"
import { PluginState, supervise, type SupervisedPlugin, type SupervisorEvent, type SupervisorPolicy } from "./Supervisor.js"

/**
 * A plugin the container runs.
 *
 * @since 0.2.0
 */
export interface PluginHandle {
  readonly plugin: string
  /** The state now, and its changes (the current value first). */
  readonly state: Effect.Effect<PluginState>
  readonly changes: Stream.Stream<PluginState>
  /** The first generation, or the reason the plugin could not start. */
  readonly started: Effect.Effect<Generation, StartError>
  /** The current generation when the plugin is ready. */
  readonly ready: Effect.Effect<Option.Option<Generation>>
  /** Whether the plugin is down for good (given up on, or stopped). */
  readonly isDown: Effect.Effect<boolean>
  /** The stable caller. */
  readonly caller: Caller
  /** Stops the plugin: interrupts its supervisor, which stops the current generation. */
  readonly stop: Effect.Effect<void>
}

/**
 * What a handle is made from.
 *
 * @since 0.2.0
 */
export interface HandleOptions {
  readonly host: string
  readonly plugin: string
  readonly protocol: string
  readonly callTimeout: Duration.Duration
  readonly policy: SupervisorPolicy
  readonly start: SupervisedPlugin["start"]
  readonly stoppedBeforeReady: () => StartError
  readonly publish: (event: SupervisorEvent) => Effect.Effect<void>
}

const settled = (state: PluginState): boolean => state._tag !== "Starting" && state._tag !== "Restarting"

/**
 * Creates the handle and forks its supervisor, which starts the first generation at once.
 *
 * @since 0.2.0
 */
export const make = (options: HandleOptions): Effect.Effect<PluginHandle> =>
  Effect.gen(function*() {
    const { host, plugin } = options
    const state = yield* SubscriptionRef.make<PluginState>(PluginState.Starting())
    const firstStart = yield* Deferred.make<Generation, StartError>()
    // The ready generation's caller, mirrored from `state` by the supervisor as it writes it: a call to a
    // ready plugin reads it at once, where reading `state` and matching it cost ~6 µs of host CPU per
    // call at 64 in flight (docs/benchmarks.md, seventh round). Any other state goes through `withCurrent`.
    let ready: Caller | undefined
    const fiber = yield* Effect.forkDaemon(withoutParentSpan(
      supervise({
        host,
        plugin,
        policy: options.policy,
        start: options.start,
        state,
        onState: (next) => {
          ready = next._tag === "Ready" ? next.generation.caller : undefined
        },
        firstStart,
        stoppedBeforeReady: options.stoppedBeforeReady,
        publish: options.publish
      })
    ))
    const target = { host, plugin, timeout: options.callTimeout }
    const waitSettled = Stream.runHead(Stream.filter(state.changes, settled))

    const withCurrent = <A>(
      operation: "ping" | "exec",
      command: string | undefined,
      callOptions: CallOptions | undefined,
      use: (caller: Caller, callOptions: CallOptions | undefined) => Effect.Effect<A, CallError>
    ): Effect.Effect<A, CallError> =>
      Effect.flatMap(SubscriptionRef.get(state), (current): Effect.Effect<A, CallError> => {
        switch (current._tag) {
          case "Ready":
            return use(current.generation.caller, callOptions)
          case "Down":
            return Effect.fail(callError(target, operation, command, "stopped", current.reason))
          case "Stopping":
            return Effect.fail(callError(target, operation, command, "stopped", "the plugin is being stopped"))
          case "Starting":
          case "Restarting": {
            const limit = timeoutMillis(target, callOptions)
            const doing = current._tag === "Starting" ? "starting" : "restarting"
            return Effect.flatMap(Clock.currentTimeMillis, (began) =>
              waitSettled.pipe(
                Effect.timeoutFail({
                  duration: Duration.millis(limit),
                  onTimeout: () => callError(target, operation, command, "restarting", `the plugin was still ${doing} after ${limit} ms`)
                }),
                Effect.zipRight(Clock.currentTimeMillis),
                Effect.flatMap((now) =>
                  withCurrent(operation, command, { ...callOptions, timeout: Duration.millis(Math.max(1, limit - (now - began))) }, use)
                )
              ))
          }
        }
      })

    const caller: Caller = {
      host,
      plugin,
      protocol: options.protocol,
      ping: Effect.suspend(() => ready?.ping ?? withCurrent("ping", undefined, undefined, (current) => current.ping)),
      exec: (command, payload, callOptions) =>
        Effect.suspend(() =>
          ready !== undefined
            ? ready.exec(command, payload, callOptions)
            : withCurrent("exec", command, callOptions, (current, remaining) => current.exec(command, payload, remaining))
        )
    }

    return {
      plugin,
      state: SubscriptionRef.get(state),
      changes: state.changes,
      started: Deferred.await(firstStart),
      ready: Effect.map(SubscriptionRef.get(state), (current) =>
        current._tag === "Ready" ? Option.some(current.generation) : Option.none()),
      isDown: Effect.map(SubscriptionRef.get(state), (current) => current._tag === "Down"),
      caller,
      stop: Fiber.interrupt(fiber).pipe(
        Effect.zipRight(Effect.logDebug("stopped at the host's request")),
        Effect.annotateLogs({ host, plugin }),
        Effect.asVoid
      )
    }
  })
