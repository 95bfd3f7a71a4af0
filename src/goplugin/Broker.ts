/**
 * go-plugin's GRPCBroker, the same on both sides of the `StartStream` stream: a side that serves a
 * service for the other listens on a fresh unix socket and sends `ConnInfo{id, "unix", path}`; a side
 * that wants to call service `id` waits for the other's `ConnInfo` with that id and dials it. Announced
 * ids are buffered until dialed (at most {@link MAX_PENDING}, oldest dropped first).
 *
 * @since 0.2.0
 */
import type * as grpc from "@grpc/grpc-js"
import { Deferred, Duration, Effect, Option, Ref, type Scope } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Security } from "./AutoMtls.js"
import { BrokerError } from "./GoPluginError.js"
import type { ConnInfo } from "./Protocol.js"
import { shareWithGroup } from "./UnixSocketConfig.js"

/** Announcements kept while nobody dials them. */
export const MAX_PENDING = 256

/** go-plugin waits 5 s for an announcement before `Dial` fails. */
export const DEFAULT_DIAL_TIMEOUT: Duration.Duration = Duration.seconds(5)

/**
 * One service implementation served through the broker.
 *
 * @since 0.2.0
 */
export interface BrokeredService {
  readonly definition: grpc.ServiceDefinition
  readonly implementation: grpc.UntypedServiceImplementation
}

/**
 * What one side of the stream can do with the broker.
 *
 * @since 0.2.0
 */
export interface Broker {
  /** A fresh service id (1, 2, …), as go-plugin's `NextId`. */
  readonly nextId: Effect.Effect<number>
  /** Serves `services` on a new unix socket announced under `id`; the server closes with the scope. */
  readonly serve: (id: number, services: ReadonlyArray<BrokeredService>) => Effect.Effect<void, BrokerError, Scope.Scope>
  /** The gRPC target of service `id` once the peer announces it (waits up to `timeout`, default 5 s). */
  readonly dial: (id: number, timeout?: Duration.DurationInput) => Effect.Effect<string, BrokerError>
  /** Feeds an announcement the peer sent on the stream. */
  readonly receive: (info: ConnInfo) => Effect.Effect<void>
  /** The credentials brokered servers use and brokered channels must use. */
  readonly security: Security
}

/** How a broker reaches the stream and where it puts its sockets. */
export interface BrokerOptions {
  readonly grpc: typeof grpc
  readonly security: Security
  /** A private folder for the brokered servers' sockets (asked for on the first `serve`). */
  readonly socketDir: Effect.Effect<string>
  /** Sends an announcement to the peer (may wait until the stream is open). */
  readonly send: (info: ConnInfo) => Effect.Effect<void, BrokerError>
  /** A group that must own the brokered sockets, group-writable (the SDK's `PLUGIN_UNIX_SOCKET_GROUP`). */
  readonly socketGroup?: number | undefined
}

/** The gRPC target of an announcement, or why it cannot be dialed. */
export const targetOf = (info: ConnInfo): string | undefined =>
  info.network === "unix" ? `unix://${info.address}` : info.network === "tcp" ? info.address : undefined

/**
 * A broker over one stream.
 *
 * @since 0.2.0
 */
export const make = (options: BrokerOptions): Effect.Effect<Broker> =>
  Effect.gen(function*() {
    const ids = yield* Ref.make(0)
    const pending = yield* Ref.make<ReadonlyMap<number, Deferred.Deferred<ConnInfo>>>(new Map())

    const slot = (id: number): Effect.Effect<Deferred.Deferred<ConnInfo>> =>
      Effect.flatMap(Deferred.make<ConnInfo>(), (fresh) =>
        Ref.modify(pending, (map) => {
          const existing = map.get(id)
          if (existing !== undefined) return [existing, map]
          const next = new Map(map)
          next.set(id, fresh)
          if (next.size > MAX_PENDING) next.delete(next.keys().next().value!)
          return [fresh, next]
        }))

    const forget = (id: number) =>
      Ref.update(pending, (map) => {
        const next = new Map(map)
        next.delete(id)
        return next
      })

    const dial = (id: number, timeout: Duration.DurationInput = DEFAULT_DIAL_TIMEOUT) =>
      Effect.gen(function*() {
        const deferred = yield* slot(id)
        const info = yield* Deferred.await(deferred).pipe(Effect.timeoutOption(timeout))
        yield* forget(id)
        if (Option.isNone(info)) {
          return yield* new BrokerError({
            serviceId: id,
            problem: `the peer did not announce it within ${Duration.format(timeout)}`
          })
        }
        const target = targetOf(info.value)
        if (target === undefined) {
          return yield* new BrokerError({ serviceId: id, problem: `unknown network ${JSON.stringify(info.value.network)}` })
        }
        return target
      }).pipe(Effect.withSpan("GoPlugin.Broker.dial", { attributes: { id } }))

    const serve = (id: number, services: ReadonlyArray<BrokeredService>) =>
      Effect.gen(function*() {
        const socket = path.join(yield* options.socketDir, `broker-${id}-${crypto.randomBytes(4).toString("hex")}.sock`)
        const server = new options.grpc.Server()
        for (const service of services) server.addService(service.definition, service.implementation)
        yield* Effect.acquireRelease(
          Effect.async<void, BrokerError>((resume) =>
            server.bindAsync(`unix://${socket}`, options.security.serverCredentials, (error) => {
              if (error === null) return resume(Effect.void)
              server.forceShutdown()
              resume(Effect.fail(new BrokerError({ serviceId: id, problem: `cannot listen on ${socket}: ${error.message}` })))
            })
          ),
          () =>
            Effect.async<void>((resume) => server.tryShutdown(() => resume(Effect.void))).pipe(
              Effect.timeout("1 second"),
              Effect.ignore,
              Effect.ensuring(Effect.sync(() => {
                server.forceShutdown()
                fs.rmSync(socket, { force: true })
              }))
            )
        )
        if (options.socketGroup !== undefined) {
          yield* Effect.mapError(shareWithGroup(socket, options.socketGroup), (problem) => new BrokerError({ serviceId: id, problem }))
        }
        yield* options.send({ service_id: id, network: "unix", address: socket })
      }).pipe(Effect.withSpan("GoPlugin.Broker.serve", { attributes: { id } }))

    return {
      nextId: Ref.updateAndGet(ids, (n) => n + 1),
      serve,
      dial,
      receive: (info) => Effect.flatMap(slot(info.service_id), (deferred) => Deferred.succeed(deferred, info)),
      security: options.security
    }
  })
