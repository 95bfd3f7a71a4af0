/**
 * The gRPC driver: `plugin.Plugin/Ping` and `plugin.Plugin/Exec` from `proto/plugin.proto`, on one
 * channel per plugin process that every call reuses and the caller's scope closes.
 *
 * @since 0.1.0
 */
import type * as grpc from "@grpc/grpc-js"
import { Effect, type Scope } from "effect"
import type { Caller, CallOptions } from "./Caller.js"
import { formatAddress, type NetworkTarget, type Transport } from "./Launcher.js"
import { callError, invalidHex, timeoutMillis } from "./internal/callResult.js"
import { callSpan } from "./internal/callSpan.js"
import { reasonOfStatus } from "./internal/grpcStatus.js"
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

/** Creates a gRPC caller with its own channel, closed when the scope closes. */
export const make = (target: NetworkTarget): Effect.Effect<Caller, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => {
        const Client = clientConstructor()
        return new Client(formatAddress(target.address), loadGrpc().credentials.createInsecure(), channelOptions(target))
      }),
      (client) => Effect.sync(() => client.close())
    ),
    (client): Caller => {
      const metadata = hostMetadata(target)
      /** The shared metadata, or a copy with the call's `x-goplugin-*` pipeline context. */
      const metadataFor = (options: CallOptions | undefined): grpc.Metadata => {
        if (options?.pipeline === undefined) return metadata
        const withContext = metadata.clone()
        for (const [key, value] of contextHeaders(options.pipeline)) withContext.set(key, value)
        return withContext
      }

      /**
       * One unary call; the answer is decoded inside the callback (no extra step per call). `request`
       * is the Exec request, or undefined for Ping.
       */
      const call = <A>(
        operation: "ping" | "exec",
        command: string | undefined,
        timeoutMillis: number,
        request: { Command: string; Payload: string } | undefined,
        callMetadata: grpc.Metadata,
        decode: (response: string) => A | undefined,
        onVars?: CallOptions["onVars"]
      ): Effect.Effect<A, CallError> =>
        Effect.async<A, CallError>((resume) => {
          const fail = (reason: CallError["reason"], detail: string) =>
            resume(Effect.fail(callError(target, operation, command, reason, detail)))
          const callback: Callback = (error, response) => {
            if (error !== null) {
              const detail = `${statusName(error.code)}: ${plainDetail(error)}`
              return fail(reasonOfStatus(error.code, error.details ?? ""), detail)
            }
            const status = response?.Status ?? ""
            const answer = response?.Data?.Response ?? ""
            if (status !== "" && status.toLowerCase() !== "success") {
              return fail("remote", `Status "${status}"${answer === "" ? "" : `: ${answer}`}`)
            }
            const value = decode(answer)
            if (value === undefined) {
              return fail("protocol", invalidHex("Data.Response"))
            }
            const vars = response?.Data?.Vars
            if (onVars !== undefined && vars != null && Object.keys(vars).length > 0) onVars(vars)
            resume(Effect.succeed(value))
          }
          const options = { deadline: Date.now() + timeoutMillis }
          const pending = request === undefined
            ? client.Ping({}, callMetadata, options, callback)
            : client.Exec(request, callMetadata, options, callback)
          return Effect.sync(() => pending.cancel())
        })

      const execSpan = { plugin: target.plugin, protocol: "grpc" }
      return {
        host: target.host,
        plugin: target.plugin,
        protocol: "grpc",
        ping: call("ping", undefined, timeoutMillis(target), undefined, metadata, (answer) => answer).pipe(
          callSpan(target.traceCalls, "Caller.ping", { plugin: target.plugin, protocol: "grpc" })
        ),
        exec: (command, payload, options) => {
          const exec = call(
            "exec",
            command,
            timeoutMillis(target, options),
            { Command: command, Payload: toHex(payload) },
            metadataFor(options),
            fromHex,
            options?.onVars
          )
          return target.traceCalls ? callSpan(true, "Caller.exec", { ...execSpan, command })(exec) : exec
        }
      }
    }
  )

/**
 * The gRPC transport (`plugin.Plugin`), for plugins on a TCP port or a unix socket.
 *
 * @since 0.2.0
 */
export const transport: Transport<NetworkTarget> = { protocol: "grpc", make }
