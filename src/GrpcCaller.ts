/**
 * The gRPC driver: `plugin.Plugin/Ping` and `plugin.Plugin/Exec` from `proto/plugin.proto`, over the
 * project's own HTTP/2 client (`goplugin/GrpcSession.ts`): one connection per plugin process, opened
 * on the first call, reopened when it closes, closed with the caller's scope. @grpc/grpc-js spends
 * ~300–500 µs of CPU per unary call, more than the plugin's whole answer; it stays for the CLI's
 * `goplugin call` ({@link channelOptions}, {@link hostMetadata}).
 *
 * @since 0.1.0
 */
import type * as grpc from "@grpc/grpc-js"
import { Effect, type Scope } from "effect"
import type { Caller, CallOptions } from "./Caller.js"
import * as GrpcSession from "./goplugin/GrpcSession.js"
import type { NetworkTarget, Transport } from "./Launcher.js"
import { callError, invalidHex, timeoutMillis } from "./internal/callResult.js"
import { callSpan } from "./internal/callSpan.js"
import { cancellable } from "./internal/cancellable.js"
import * as GrpcChannel from "./internal/grpcChannel.js"
import * as GrpcMetadata from "./internal/grpcMetadata.js"
import { reasonOfStatus } from "./internal/grpcStatus.js"
import type { CallStatus } from "./internal/grpcWire.js"
import { contextHeaders } from "./internal/pipelineContext.js"
import type { CallError } from "./PluginError.js"
import { fromHex, protoLoaderOptions, protoPath, toHex } from "./internal/wire.js"
import { Status, grpc as loadGrpc, loader as loadProtoLoader, statusName } from "./internal/grpcModules.js"

interface PluginResponse {
  readonly Status?: string
  readonly Data?: { readonly Response?: string; readonly Vars?: Readonly<Record<string, string>> | null } | null
}

type Callback = (error: grpc.ServiceError | null, response?: PluginResponse) => void

interface PluginClient extends grpc.Client {
  Ping(request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback): grpc.ClientUnaryCall
  Exec(
    request: { Command: string; Payload: string },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: Callback
  ): grpc.ClientUnaryCall
}

type PluginClientConstructor = new(address: string, credentials: grpc.ChannelCredentials, options: object) => PluginClient

let loaded: PluginClientConstructor | undefined

/** The generated client class, loaded once per process from `proto/plugin.proto`. */
export const clientConstructor = (): PluginClientConstructor => {
  if (loaded === undefined) {
    const definition = loadProtoLoader().loadSync(protoPath, protoLoaderOptions)
    const root = loadGrpc().loadPackageDefinition(definition) as unknown as { plugin: { Plugin: PluginClientConstructor } }
    loaded = root.plugin.Plugin
  }
  return loaded
}

/**
 * grpc-js appends its internal timings to a deadline's detail ("Deadline exceeded after 4.272s,metadata
 * filters: 0.371s,LB pick: 0.049s,remote_addr=…"); users need only the first part.
 */
export const plainDetail = (error: { readonly code: grpc.status; readonly details: string; readonly message: string }): string => {
  const detail = error.details || error.message
  return error.code === Status.DEADLINE_EXCEEDED ? detail.split(",")[0]!.trim() : detail
}

/**
 * The channel options of a plugin's channel: answers up to `max_response_bytes` (plus the envelope),
 * requests of any size, quick reconnects.
 *
 * @since 0.2.0
 */
export const channelOptions = (target: NetworkTarget): grpc.ChannelOptions => ({
  "grpc.max_receive_message_length": target.maxResponseBytes + 1024,
  "grpc.max_send_message_length": -1,
  "grpc.initial_reconnect_backoff_ms": 20,
  "grpc.max_reconnect_backoff_ms": 1000
})

/**
 * The metadata every call to the plugin carries: the host's name and the launch's bearer token.
 *
 * @since 0.2.0
 */
export const hostMetadata = (target: NetworkTarget): grpc.Metadata => {
  const metadata = new (loadGrpc().Metadata)()
  metadata.set("x-host", target.host)
  metadata.set("authorization", `Bearer ${target.token}`)
  return metadata
}

/** The two methods of `plugin.Plugin`, loaded once per process from `proto/plugin.proto`. */
interface PluginMethods {
  readonly Ping: grpc.MethodDefinition<object, PluginResponse>
  readonly Exec: grpc.MethodDefinition<{ Command: string; Payload: string }, PluginResponse>
}

let methods: PluginMethods | undefined

const pluginMethods = (): PluginMethods => {
  if (methods === undefined) {
    const service = loadProtoLoader().loadSync(protoPath, protoLoaderOptions)["plugin.Plugin"] as unknown as PluginMethods
    methods = { Ping: service.Ping, Exec: service.Exec }
  }
  return methods
}

/** Where the lean session connects, from the launcher's address. */
const endpointOf = (target: NetworkTarget): GrpcSession.Endpoint =>
  target.address._tag === "Tcp"
    ? { network: "tcp", address: `${target.address.host}:${target.address.port}` }
    : { network: "unix", address: target.address.path }

/**
 * Creates a gRPC caller on the project's own HTTP/2 client (`GrpcSession`): nothing connects until
 * the first call (the plugin may not listen yet), calls share one connection, and a closed one is
 * replaced on the next call (`internal/grpcChannel.ts`). Closed when the scope closes.
 */
export const make = (target: NetworkTarget): Effect.Effect<Caller, never, Scope.Scope> =>
  Effect.gen(function*() {
    const identity: GrpcSession.Metadata = [["x-host", target.host], ["authorization", `Bearer ${target.token}`]]
    // A host name or token that cannot be sent refuses every call, with the reason, rather than throwing.
    const invalid = GrpcMetadata.refusal(identity)
    const channel = yield* GrpcChannel.make({
      endpoint: endpointOf(target),
      maxReceiveBytes: target.maxResponseBytes + 1024,
      metadata: identity,
      connectTimeout: target.timeout,
      retireAfter: target.timeout
    })
    const { Exec, Ping } = pluginMethods()

    /** The call's `x-goplugin-*` pipeline context, checked; or why it cannot be sent. */
    const metadataFor = (options: CallOptions | undefined): GrpcSession.Metadata | { readonly invalid: string } | undefined => {
      if (options?.pipeline === undefined) return undefined
      const context = contextHeaders(options.pipeline)
      const refused = GrpcMetadata.refusal(context)
      return refused === undefined ? context : { invalid: refused }
    }

    /**
     * One unary call; the answer is decoded inside the session's callback (no extra step per call).
     */
    const call = <Req, A>(
      operation: "ping" | "exec",
      command: string | undefined,
      limitMillis: number,
      method: grpc.MethodDefinition<Req, PluginResponse>,
      request: Req,
      options: CallOptions | undefined,
      decode: (response: string) => A | undefined
    ): Effect.Effect<A, CallError> => {
      const failure = (reason: CallError["reason"], detail: string) => callError(target, operation, command, reason, detail)
      const failed = (status: CallStatus) =>
        failure(reasonOfStatus(status.code, status.details), `${statusName(status.code)}: ${status.details}`)
      const metadata = metadataFor(options)
      const refused = invalid ?? (metadata !== undefined && "invalid" in metadata ? metadata.invalid : undefined)
      if (refused !== undefined) return Effect.fail(failure("refused", refused))
      const extra = metadata as GrpcSession.Metadata | undefined
      const send = (session: GrpcSession.GrpcSession, resume: (effect: Effect.Effect<A, CallError>) => void) =>
        session.call(method, request, limitMillis, extra, (error, response) => {
          if (error !== undefined) return resume(Effect.fail(failed(error)))
          const status = response?.Status ?? ""
          const answer = response?.Data?.Response ?? ""
          if (status !== "" && status.toLowerCase() !== "success") {
            return resume(Effect.fail(failure("remote", `Status "${status}"${answer === "" ? "" : `: ${answer}`}`)))
          }
          const value = decode(answer)
          if (value === undefined) return resume(Effect.fail(failure("protocol", invalidHex("Data.Response"))))
          const vars = response?.Data?.Vars
          if (options?.onVars !== undefined && vars != null && Object.keys(vars).length > 0) options.onVars(vars)
          resume(Effect.succeed(value))
        })
      const onSession = (session: GrpcSession.GrpcSession) => cancellable<A, CallError>((done) => send(session, done))
      // The connection is looked up when the call runs: the open one straight away, else (first call,
      // or after it closed) through the channel, which connects.
      return Effect.suspend(() => {
        const session = channel.live()
        return session === undefined
          ? Effect.flatMap(Effect.mapError(channel.session(limitMillis), failed), onSession)
          : onSession(session)
      })
    }

    const execSpan = { plugin: target.plugin, protocol: "grpc" }
    const caller: Caller = {
      host: target.host,
      plugin: target.plugin,
      protocol: "grpc",
      ping: call("ping", undefined, timeoutMillis(target), Ping, {}, undefined, (answer) => answer).pipe(
        callSpan(target.traceCalls, "Caller.ping", { plugin: target.plugin, protocol: "grpc" })
      ),
      exec: (command, payload, options) => {
        const exec = call(
          "exec",
          command,
          timeoutMillis(target, options),
          Exec,
          { Command: command, Payload: toHex(payload) },
          options,
          fromHex
        )
        return target.traceCalls ? callSpan(true, "Caller.exec", { ...execSpan, command })(exec) : exec
      }
    }
    return caller
  })

/**
 * The gRPC transport (`plugin.Plugin`), for plugins on a TCP port or a unix socket.
 *
 * @since 0.2.0
 */
export const transport: Transport<NetworkTarget> = { protocol: "grpc", make }
