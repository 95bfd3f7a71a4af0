/**
 * `goplugin call` on a plain `comm_type = "grpc"` plugin: one unary method of `proto/plugin.proto`
 * (`plugin.Plugin/Ping`, `plugin.Plugin/Exec`, the service every gRPC plugin of this project serves) or
 * of a service in `.proto` files the user gives (`--proto`), called with a JSON request on the port the
 * container started the plugin on, with the metadata the `grpc` transport sends (`x-host`, the launch's
 * bearer token). The CLI learns the port and the token by running the plugin through a `grpc` driver
 * that records its target.
 *
 * @since 0.2.0
 */
import type * as grpc from "@grpc/grpc-js"
import { Duration, Effect, Either, Option, Ref } from "effect"
import * as path from "node:path"
import * as CallerFactory from "../CallerFactory.js"
import { unary } from "../goplugin/Rpc.js"
import { BASE64_BYTES, loadProtos, METHOD, type Protos, serviceDefinition } from "../goplugin/ServiceClient.js"
import * as GrpcCaller from "../GrpcCaller.js"
import { reasonOfStatus } from "../internal/grpcStatus.js"
import { protoPath } from "../internal/wire.js"
import { formatAddress, type NetworkTarget } from "../Launcher.js"
import { CallError } from "../PluginError.js"
import { PortLauncher } from "../PortLauncher.js"
import { UsageError } from "./output.js"
import { grpc as loadGrpc, statusName } from "../internal/grpcModules.js"

/**
 * A `grpc` driver like the built-in one that also records the target of the generation it starts
 * (address, token, limits), for a command that calls the plugin itself.
 *
 * @since 0.2.0
 */
export const recordingGrpcDriver = (recorded: Ref.Ref<Option.Option<NetworkTarget>>): CallerFactory.DriverInput =>
  Effect.map(PortLauncher, (port) =>
    CallerFactory.driver("grpc", port, {
      protocol: GrpcCaller.transport.protocol,
      make: (target) => Effect.zipRight(Ref.set(recorded, Option.some(target)), GrpcCaller.transport.make(target))
    }))

/** The first loaded set (the user's files before plugin.proto) that defines `service`. */
const findService = (service: string, sets: ReadonlyArray<Protos>) => {
  for (const protos of sets) {
    const found = serviceDefinition(protos, service)
    if (Either.isRight(found)) return Either.right(found.right)
  }
  const known = sets.flatMap((protos) =>
    Object.entries(protos.definition).filter(([, d]) => !("format" in d)).map(([name]) => name)
  )
  const where = sets.flatMap((protos) => protos.files.map((file) => path.basename(file))).join(", ")
  return Either.left(`no service ${service} in ${where} (services: ${known.join(", ")}); give its .proto file with --proto`)
}

/**
 * Calls `method` (`package.Service/Method`) of the plugin at `target` with `request` (a JSON object) and
 * answers the response as JSON (field names as in the `.proto` file, `bytes` as base64). Unknown
 * services and methods are refused before anything is sent; gRPC failures are `CallError`s.
 *
 * @since 0.2.0
 */
export const callGrpcPlugin = Effect.fn("Cli.callGrpcPlugin")(function*(
  target: NetworkTarget,
  method: string,
  request: object,
  protoFiles: ReadonlyArray<string>,
  timeout: Duration.Duration
) {
  const where = { host: target.host, plugin: target.plugin }
  const refused = (detail: string) => new CallError({ ...where, operation: "exec", command: method, reason: "refused", detail })
  const own = protoFiles.length === 0
    ? []
    : [yield* Effect.mapError(loadProtos(target.plugin, protoFiles.map((file) => path.resolve(file)), [], BASE64_BYTES), (error) =>
      new UsageError({ message: `--proto: ${error.problem}` }))]
  const builtin = yield* Effect.orDie(loadProtos(target.plugin, [protoPath], [], BASE64_BYTES))
  const match = METHOD.exec(method)
  if (match === null) return yield* new UsageError({ message: `"${method}" is not package.Service/Method, e.g. plugin.Plugin/Ping` })
  const [, service, name] = match as unknown as [string, string, string]
  const definition = yield* Either.mapLeft(findService(service, [...own, builtin]), refused)
  const found = definition[name]
  if (found === undefined || found.requestStream || found.responseStream) {
    const unaryNames = Object.entries(definition).filter(([, m]) => !m.requestStream && !m.responseStream).map(([n]) => n)
    return yield* refused(`${service} has no unary method ${name} (unary methods: ${unaryNames.join(", ")})`)
  }
  const client = yield* Effect.acquireRelease(
    Effect.sync(() =>
      new (loadGrpc().Client)(formatAddress(target.address), loadGrpc().credentials.createInsecure(), GrpcCaller.channelOptions(target))
    ),
    (channel) => Effect.sync(() => channel.close())
  )
  // What the grpc transport sends with every call: the plugin checks the token.
  const answer = yield* unary(client, found as grpc.MethodDefinition<object, unknown>, request, timeout, GrpcCaller.hostMetadata(target)).pipe(
    Effect.mapError((failure) =>
      new CallError({
        ...where,
        operation: "exec",
        command: method,
        reason: reasonOfStatus(failure.code, failure.details),
        detail: `${statusName(failure.code)}: ${failure.details}`
      })
    )
  )
  return answer
}, Effect.scoped)
