/**
 * Typed access to a plugin's own gRPC services, named in `.proto` files loaded with
 * @grpc/proto-loader: every unary method becomes an Effect with a deadline and typed errors.
 *
 * @since 0.2.0
 */
import type * as grpc from "@grpc/grpc-js"
import type * as protoLoader from "@grpc/proto-loader"
import { Duration, Effect, Either } from "effect"
import * as path from "node:path"
import { type BrokerTlsUnsupported, GoPluginCallError, ProtoLoadError } from "./GoPluginError.js"
import { loaderOptions } from "./Protocol.js"
import { callFailed, type RpcFailure, unary } from "./Rpc.js"
import { loader as loadProtoLoader } from "../internal/grpcModules.js"

/**
 * A unary method's full name, `package.Service/Method`, capturing the service and the method.
 *
 * @since 0.2.0
 */
export const METHOD = /^([A-Za-z_][\w.]*\.[A-Za-z_]\w*)\/([A-Za-z_]\w*)$/

/**
 * Loader options that read and write `bytes` fields as base64 strings, as protobuf's JSON mapping does:
 * what JSON requests and answers need.
 *
 * @since 0.2.0
 */
export const BASE64_BYTES: protoLoader.Options = { bytes: String }

/**
 * Loaded `.proto` files.
 *
 * @since 0.2.0
 */
export interface Protos {
  readonly plugin: string
  readonly files: ReadonlyArray<string>
  readonly definition: protoLoader.PackageDefinition
}

/**
 * Loads `.proto` files (imports resolve against each file's folder and `includeDirs`).
 *
 * @since 0.2.0
 */
export const loadProtos = Effect.fn("GoPlugin.loadProtos")(function*(
  plugin: string,
  files: ReadonlyArray<string>,
  includeDirs: ReadonlyArray<string> = [],
  /** Overrides of the loader's options, e.g. `{ bytes: String }` for base64 `bytes` fields. */
  overrides: protoLoader.Options = {}
) {
  const dirs = [...new Set([...files.map((file) => path.dirname(file)), ...includeDirs])]
  const definition = yield* Effect.tryPromise({
    try: () => loadProtoLoader().load([...files], { ...loaderOptions, ...overrides, includeDirs: dirs }),
    catch: (error) => new ProtoLoadError({ plugin, files, problem: error instanceof Error ? error.message : String(error) })
  })
  return { plugin, files, definition } satisfies Protos
})

const isService = (definition: protoLoader.AnyDefinition | undefined): definition is protoLoader.ServiceDefinition =>
  definition !== undefined && !("format" in definition)

/**
 * The definition of service `name` (`package.Service`), for calling it or serving it through the broker.
 *
 * @since 0.2.0
 */
export const serviceDefinition = (protos: Protos, name: string): Either.Either<grpc.ServiceDefinition, ProtoLoadError> => {
  const definition = protos.definition[name]
  if (isService(definition)) return Either.right(definition as grpc.ServiceDefinition)
  const known = Object.entries(protos.definition).filter(([, d]) => isService(d)).map(([n]) => n)
  return Either.left(
    new ProtoLoadError({
      plugin: protos.plugin,
      files: protos.files,
      problem: `no service ${JSON.stringify(name)} (services: ${known.join(", ") || "none"})`
    })
  )
}

/** Request and response types per method name, for typed calls; the default accepts any object. */
export type Methods = Record<string, { readonly request: object; readonly response: unknown }>

/**
 * A client of one service.
 *
 * @since 0.2.0
 */
export interface ServiceClient<M extends Methods = Methods> {
  /** `package.Service`. */
  readonly service: string
  /** Names of the unary methods. */
  readonly methods: ReadonlyArray<string>
  /** Calls a unary method; fails after `timeout` (default: the client's) with reason "timeout". */
  readonly call: <K extends keyof M & string>(
    method: K,
    request: M[K]["request"],
    options?: { readonly timeout?: Duration.DurationInput | undefined }
  ) => Effect.Effect<M[K]["response"], GoPluginCallError | BrokerTlsUnsupported>
}

/**
 * Where calls go: a channel to the plugin (or a brokered service) and who it is, for errors. A
 * {@link Connection} is one, and its own `unary` (its HTTP/2 session) carries the calls.
 */
export interface ClientTarget {
  readonly host: string
  readonly plugin: string
  readonly client: grpc.Client
  /** Unary calls over something leaner than `client`, used instead of it when present. */
  readonly unary?: <Req, Res>(method: grpc.MethodDefinition<Req, Res>, request: Req, timeout: Duration.DurationInput) => Effect.Effect<Res, RpcFailure>
}

/**
 * A client for `service` over `target`'s channel.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const protos = yield* ServiceClient.loadProtos("kv", ["/plugins/kv.proto"])
 * const kv = yield* ServiceClient.make(connection, protos, "kv.KV")
 * const answer = yield* kv.call("Get", { key: "greeting" })
 * ```
 */
export const make = <M extends Methods = Methods>(
  target: ClientTarget,
  protos: Protos,
  service: string,
  defaultTimeout: Duration.DurationInput = Duration.seconds(5)
): Effect.Effect<ServiceClient<M>, ProtoLoadError> =>
  Effect.map(serviceDefinition(protos, service), (definition) => {
    const unaryMethods = Object.entries(definition).filter(([, m]) => !m.requestStream && !m.responseStream)
    const byName = new Map(unaryMethods)
    const where = { host: target.host, plugin: target.plugin }
    return {
      service,
      methods: unaryMethods.map(([name]) => name),
      call: (method, request, options) => {
        const name = `${service}/${method}`
        const definition = byName.get(method)
        if (definition === undefined) {
          return Effect.fail(
            new GoPluginCallError({
              ...where,
              method: name,
              reason: "refused",
              code: "UNIMPLEMENTED",
              detail: `${service} has no unary method ${method} (unary methods: ${[...byName.keys()].join(", ")})`
            })
          )
        }
        const timeout = options?.timeout ?? defaultTimeout
        const call = target.unary === undefined ? unary(target.client, definition, request, timeout) : target.unary(definition, request, timeout)
        return call.pipe(
          Effect.mapError((failure) => callFailed(where, name, failure)),
          Effect.withSpan("GoPlugin.call", { attributes: { ...where, method: name } })
        )
      }
    }
  })
