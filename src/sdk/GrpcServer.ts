/**
 * The gRPC transport of the SDK: service `plugin.Plugin` from `proto/plugin.proto` on 127.0.0.1.
 * `@grpc/grpc-js` and `@grpc/proto-loader` are loaded when a gRPC server starts, so REST and stdio
 * plugins do not pay for them at start-up.
 *
 * @since 0.1.0
 */
import type * as Grpc from "@grpc/grpc-js"
import type { AnyDefinition, ServiceDefinition } from "@grpc/proto-loader"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import type { CommandFailed } from "../SdkErrors.js"
import { protoLoaderOptions, protoPath } from "../internal/wire.js"
import { bearerMatches, resolveToken, TOKEN_REQUIRED } from "./Access.js"
import { hostRefusal } from "./AllowedHosts.js"
import { readContextHeaders } from "../internal/pipelineContext.js"
import { dispatchAnswer, type Handlers } from "./Handler.js"
import { DEFAULT_MAX_BODY_BYTES } from "./BodyLimit.js"
import { ServeError } from "./ServeError.js"
import { withoutParentSpan } from "../internal/callSpan.js"

/**
 * What a gRPC server needs: the handlers, the port (0 picks a free one), the request size limit, and who
 * may call it (see `Access`).
 */
export interface GrpcServerOptions {
  readonly handlers: Handlers
  readonly port: number
  readonly maxBodyBytes?: number | undefined
  /**
   * Every call must carry metadata `authorization: Bearer <token>`, else UNAUTHENTICATED. Default:
   * `GOPLUGIN_TOKEN` from the environment; absent or "" means no check.
   */
  readonly token?: string | undefined
  /** When non-empty, an Exec whose `x-host` metadata is not listed answers PERMISSION_DENIED. Ping is not checked. */
  readonly hosts?: ReadonlyArray<string> | undefined
}

interface ExecRequestMessage {
  readonly Command?: string
  readonly Payload?: string
}

interface AnswerMessage {
  readonly Status: string
  readonly Data: { readonly Response: string; readonly Vars?: Readonly<Record<string, string>> }
}

/** The first value of a metadata key as text, or "" when absent. */
const firstValue = (metadata: Grpc.Metadata, key: string): string => {
  const value = metadata.get(key)[0]
  return value === undefined ? "" : typeof value === "string" ? value : value.toString("utf8")
}

const isService = (definition: AnyDefinition | undefined): definition is ServiceDefinition =>
  definition !== undefined && !("format" in definition)

const loadService = Effect.tryPromise({
  try: async () => {
    const [grpc, loader] = await Promise.all([import("@grpc/grpc-js"), import("@grpc/proto-loader")])
    return { grpc, service: loader.loadSync(protoPath, protoLoaderOptions)["plugin.Plugin"] }
  },
  catch: (error) => new ServeError({ protocol: "grpc", reason: `cannot load ${protoPath}: ${String(error)}` })
}).pipe(
  Effect.flatMap(({ grpc, service }) =>
    isService(service)
      ? Effect.succeed({ grpc, service })
      : Effect.fail(new ServeError({ protocol: "grpc", reason: `${protoPath} does not define service plugin.Plugin` }))
  )
)

/**
 * Starts the gRPC server on 127.0.0.1 and answers the bound port. Closing the scope shuts it down:
 * in-flight calls get about a second to finish, then the server is forced down. With a token, every call
 * without `authorization: Bearer <token>` metadata answers UNAUTHENTICATED before anything else.
 */
export const grpcServer: (options: GrpcServerOptions) => Effect.Effect<number, ServeError, Scope.Scope> = Effect.fn(
  "Sdk.grpcServer"
)(function*(options: GrpcServerOptions) {
  const { handlers, hosts } = options
  const token = resolveToken(options.token)
  const { grpc, service } = yield* loadService
  // Captured outside the server's span: handlers' log entries would otherwise pile up as its events.
  const run = Runtime.runCallback(yield* withoutParentSpan(Effect.runtime<never>()))
  const codes: Readonly<Record<CommandFailed["kind"], Grpc.status>> = {
    invalid_argument: grpc.status.INVALID_ARGUMENT,
    not_found: grpc.status.NOT_FOUND,
    internal: grpc.status.INTERNAL
  }

  const authorized = (metadata: Grpc.Metadata): boolean =>
    token === undefined || bearerMatches(token, firstValue(metadata, "authorization"))
  const unauthenticated = { code: grpc.status.UNAUTHENTICATED, details: TOKEN_REQUIRED }

  const ping: Grpc.handleUnaryCall<unknown, AnswerMessage> = (call, callback) => {
    if (!authorized(call.metadata)) return callback(unauthenticated)
    callback(null, { Status: "success", Data: { Response: "pong" } })
  }

  const exec: Grpc.handleUnaryCall<ExecRequestMessage, AnswerMessage> = (call, callback) => {
    if (!authorized(call.metadata)) return callback(unauthenticated)
    const host = firstValue(call.metadata, "x-host")
    const refusal = hostRefusal(hosts, host, "x-host metadata")
    if (refusal !== undefined) return callback({ code: grpc.status.PERMISSION_DENIED, details: refusal })
    const command = call.request.Command ?? ""
    const pipeline = readContextHeaders((key) => firstValue(call.metadata, key))
    const cancel = run(dispatchAnswer(handlers, command, call.request.Payload ?? "", { host, pipeline }), {
      onExit: (exit) => {
        if (Exit.isSuccess(exit)) {
          const { response, vars } = exit.value
          return callback(null, { Status: "success", Data: vars === undefined ? { Response: response } : { Response: response, Vars: vars } })
        }
        const failure = Cause.failureOption(exit.cause)
        if (Option.isSome(failure)) return callback({ code: codes[failure.value.kind], details: failure.value.message })
        callback({ code: grpc.status.UNAVAILABLE, details: `command "${command}" was interrupted: the plugin is shutting down` })
      }
    })
    // The host cancelled the call (deadline, interruption): stop the handler instead of finishing unseen work.
    call.once("cancelled", () => cancel())
  }

  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const server = new grpc.Server({
    "grpc.max_receive_message_length": maxBodyBytes,
    // Answers are not limited, as over REST: a 32 MiB payload echoed is a 64 MiB hex string plus framing.
    "grpc.max_send_message_length": -1
  })
  server.addService(service, { Ping: ping, Exec: exec })

  return yield* Effect.acquireRelease(
    Effect.async<number, ServeError>((resume) =>
      server.bindAsync(`127.0.0.1:${options.port}`, grpc.ServerCredentials.createInsecure(), (error, port) =>
{
        if (error === null) return resume(Effect.succeed(port))
        server.forceShutdown()
        resume(Effect.fail(
          new ServeError({ protocol: "grpc", reason: `cannot listen on 127.0.0.1:${options.port}: ${error.message}` })
        ))
      })
    ),
    () =>
      Effect.async<void>((resume) => server.tryShutdown(() => resume(Effect.void))).pipe(
        Effect.timeout("1 second"),
        Effect.ignore,
        Effect.ensuring(Effect.sync(() => server.forceShutdown()))
      )
  )
})
