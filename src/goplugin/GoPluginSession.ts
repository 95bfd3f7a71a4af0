/**
 * The broker and the raw channel of a go-plugin plugin that a container runs. A session belongs to one
 * generation (one process) of the plugin: brokered ids, served services and dialed channels mean
 * nothing to the next process after a restart. {@link use} runs an effect with the current
 * generation's session and fails it with `GoPluginSessionError` ("generation-ended") the moment that
 * generation stops, so nothing silently talks to a process that is gone; what it served or dialed
 * closes when the effect ends.
 *
 * @since 0.2.0
 */
import { Deferred, Duration, Effect, type Scope } from "effect"
import type { Caller } from "../Caller.js"
import type { Container } from "../Container.js"
import type { BrokeredService } from "./Broker.js"
import type { Connection } from "./Connection.js"
import { type BrokerError, GoPluginSessionError } from "./GoPluginError.js"
import type { ClientTarget } from "./ServiceClient.js"

/**
 * One generation of a running go-plugin plugin, as its host sees it.
 *
 * @since 0.2.0
 */
export interface GoPluginSession {
  readonly host: string
  readonly plugin: string
  /** The process this session belongs to. */
  readonly pid: number | undefined
  /** The generation's connection: its channel (`client`), Ping, and the broker. */
  readonly connection: Connection
  /**
   * Serves `services` for the plugin to dial back into: a fresh broker id, announced to the plugin and
   * served until the scope closes. Pass the id to the plugin in an application call.
   */
  readonly serve: (services: ReadonlyArray<BrokeredService>) => Effect.Effect<number, BrokerError, Scope.Scope>
  /**
   * Waits for the plugin to announce service `id` (its `AcceptAndServe`; default 5 s, as go-plugin) and
   * opens a channel to it with the connection's credentials, closed with the scope; give the result to
   * `ServiceClient.make`.
   */
  readonly dial: (id: number, timeout?: Duration.DurationInput) => Effect.Effect<ClientTarget, BrokerError, Scope.Scope>
  /** Completes when this generation stops (restart, crash, kill, the container's end). */
  readonly ended: Effect.Effect<void>
}

const SessionKey: unique symbol = Symbol.for("goplugin-effect/GoPluginSession")

type Attached = Omit<GoPluginSession, "pid">

/**
 * Attaches the session of `connection` to the generation's own caller; the go-plugin transport calls
 * it in the generation's scope, whose end completes `ended` before the connection says Shutdown.
 *
 * @since 0.2.0
 */
export const attach = (caller: Caller, connection: Connection): Effect.Effect<Caller, never, Scope.Scope> =>
  Effect.gen(function*() {
    const ended = yield* Deferred.make<void>()
    yield* Effect.addFinalizer(() => Deferred.succeed(ended, undefined))
    const where = { host: connection.host, plugin: connection.plugin }
    const session: Attached = {
      ...where,
      connection,
      serve: (services) =>
        Effect.flatMap(connection.broker.nextId, (id) => Effect.as(connection.broker.serve(id, services), id)),
      dial: (id, timeout) =>
        connection.broker.dial(id, timeout).pipe(
          Effect.flatMap(connection.open),
          Effect.map((client): ClientTarget => ({ ...where, client }))
        ),
      ended: Deferred.await(ended)
    }
    return { ...caller, [SessionKey]: session }
  })

const attachedTo = (caller: Caller): Attached | undefined => (caller as Partial<Record<typeof SessionKey, Attached>>)[SessionKey]

/**
 * The session of the current generation of `plugin`, which `container` runs: waits while the plugin
 * starts or restarts (within its call timeout). The session is not renewed on restart: prefer {@link use}.
 *
 * @since 0.2.0
 */
export const current = Effect.fn("GoPluginSession.current")(function*(container: Container, plugin: string) {
  const where = { host: container.host, plugin }
  const notRunning = (detail: string, cause?: unknown) => new GoPluginSessionError({ ...where, reason: "not-running", detail, cause })
  const caller = yield* Effect.mapError(container.caller(plugin), (error) => notRunning("the container does not run it", error))
  // The go-plugin driver's comm_type (GoPluginDriver.COMM_TYPE; not imported, that module imports this one).
  if (caller.protocol !== "go-plugin") {
    return yield* new GoPluginSessionError({ ...where, reason: "not-go-plugin", detail: `its comm_type is "${caller.protocol}"` })
  }
  // The stable caller's Ping waits while the plugin starts or restarts, and proves it answers.
  yield* Effect.mapError(caller.ping, (error) => notRunning(`its Ping failed: ${error.detail}`, error))
  const running = (yield* container.running).find((entry) => entry.name === plugin)
  const session = running === undefined ? undefined : attachedTo(running.current)
  if (running === undefined || session === undefined) return yield* notRunning("it was restarting again")
  return { ...session, pid: running.process?.pid } satisfies GoPluginSession
})

/**
 * Runs `f` with the session of the current generation of `plugin` (see {@link current}) in a scope of
 * its own: services served and channels dialed through the session close when `f` ends. If that
 * generation stops first (the supervisor restarts a crashed plugin, `kill`, the container closes), `f`
 * is interrupted and the result is `GoPluginSessionError` with reason "generation-ended".
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const total = yield* GoPluginSession.use(container, "kv", (session) =>
 *   Effect.gen(function*() {
 *     const kv = yield* ServiceClient.make<KV>(session.connection, protos, "kv.KV")
 *     // The plugin calls back into the host: serve Adder, pass its id.
 *     const adderId = yield* session.serve([{ definition: adderDefinition, implementation: { Add } }])
 *     const { total } = yield* kv.call("Sum", { adder_id: adderId, values: [1, 2, 3] })
 *     // The host calls a service the plugin serves through the broker.
 *     const { counter_id } = yield* kv.call("Counter", {})
 *     const count = yield* ServiceClient.make<Count>(yield* session.dial(counter_id), protos, "kv.Count")
 *     yield* count.call("Next", {})
 *     return total
 *   }))
 * ```
 */
export const use = <A, E, R>(
  container: Container,
  plugin: string,
  f: (session: GoPluginSession) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | GoPluginSessionError, Exclude<R, Scope.Scope>> =>
  Effect.flatMap(current(container, plugin), (session) => {
    const generationEnded = Effect.zipRight(
      session.ended,
      Effect.fail(
        new GoPluginSessionError({
          host: session.host,
          plugin: session.plugin,
          reason: "generation-ended",
          detail: `its process${session.pid === undefined ? "" : ` (pid ${session.pid})`} stopped while the session was in use`
        })
      )
    )
    return Effect.raceFirst(Effect.scoped(f(session)), generationEnded)
  })
