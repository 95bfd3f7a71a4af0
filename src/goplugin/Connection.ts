/**
 * A host's connection to a started go-plugin plugin: one gRPC channel to the address it announced (TLS
 * when AutoMTLS), `grpc.health.v1` Check("plugin") as Ping, the broker stream kept open from the start,
 * the plugin's stdio stream drained into the logger, and `GRPCController.Shutdown` when the scope closes.
 * The process itself (grace, SIGKILL, process group) stays with whoever started it.
 *
 * @since 0.2.0
 */
import * as grpc from "@grpc/grpc-js"
import { Duration, Effect, GroupBy, LogLevel, Ref, Runtime, type Scope, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { splitBoundedLines } from "../internal/outputLines.js"
import type { Security } from "./AutoMtls.js"
import * as Broker from "./Broker.js"
import { type BrokerError, GoPluginCallError, GoPluginConnectError } from "./GoPluginError.js"
import type { Handshake } from "./Handshake.js"
import * as HclogLine from "./HclogLine.js"
import { type ConnInfo, HEALTH_SERVICE, type HealthCheckResponse, protocol, type StdioData } from "./Protocol.js"
import { type RpcFailure, unary } from "./Rpc.js"

/** grpc-js refuses answers over 4 MiB by default; providers' schemas are larger (Terraform allows 256 MiB). */
export const DEFAULT_MAX_RECEIVE_BYTES = 256 * 1024 * 1024

/**
 * What to connect to.
 *
 * @since 0.2.0
 */
export interface ConnectOptions {
  readonly host: string
  readonly plugin: string
  readonly handshake: Handshake
  readonly security: Security
  readonly maxReceiveBytes?: number | undefined
  /** How long to wait for the socket and the first SERVING answer; default 10 s. */
  readonly connectTimeout?: Duration.DurationInput | undefined
}

/**
 * A connected plugin.
 *
 * @since 0.2.0
 */
export interface Connection {
  readonly host: string
  readonly plugin: string
  readonly handshake: Handshake
  /** The gRPC target, e.g. `unix:///tmp/plugin123`. */
  readonly target: string
  /** The channel every call to the plugin's own services goes through. */
  readonly client: grpc.Client
  /** Opens a channel to a brokered service's target with this connection's credentials and limits. */
  readonly open: (target: string) => Effect.Effect<grpc.Client, never, Scope.Scope>
  /** Health Check("plugin"): fails unless the plugin answers SERVING within `timeout` (default 2 s). */
  readonly ping: (timeout?: Duration.DurationInput) => Effect.Effect<void, GoPluginCallError>
  readonly broker: Broker.Broker
  /** Closes the broker stream and asks the plugin to exit (`GRPCController.Shutdown`); idempotent. */
  readonly shutdown: Effect.Effect<void>
}

const targetOf = (handshake: Handshake): string =>
  handshake.network === "unix" ? `unix://${handshake.address}` : handshake.address

const waitForReady = (client: grpc.Client, timeout: Duration.DurationInput) =>
  Effect.async<void, string>((resume) =>
    client.waitForReady(Date.now() + Duration.toMillis(timeout), (error) =>
      resume(error === undefined || error === null ? Effect.void : Effect.fail(error.message)))
  )

/**
 * Connects to the plugin a handshake announced and checks it answers SERVING. Closing the scope shuts
 * the plugin down (Shutdown, whose expected answer is UNAVAILABLE) and closes every channel and stream.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const connection = yield* Connection.connect({ host: "app", plugin: "kv", handshake, security })
 * yield* connection.ping()
 * ```
 */
export const connect = Effect.fn("GoPlugin.connect")(function*(options: ConnectOptions) {
  const { handshake, security } = options
  const where = { host: options.host, plugin: options.plugin }
  const target = targetOf(handshake)
  const channelOptions: grpc.ClientOptions = {
    ...security.channelOptions,
    "grpc.max_receive_message_length": options.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
    "grpc.max_send_message_length": -1,
    "grpc.initial_reconnect_backoff_ms": 20,
    "grpc.max_reconnect_backoff_ms": 1000
  }
  const open = (address: string) =>
    Effect.acquireRelease(
      Effect.sync(() => new grpc.Client(address, security.channelCredentials, channelOptions)),
      (client) => Effect.sync(() => client.close())
    )
  const services = protocol()
  const runtime = yield* Effect.runtime<never>()
  const runSync = Runtime.runSync(runtime)
  const annotate = Effect.annotateLogs({ host: options.host, plugin: options.plugin })

  const client = yield* open(target)
  const connectFailed = (detail: string) => new GoPluginConnectError({ ...where, address: target, detail })
  const timeout = options.connectTimeout ?? Duration.seconds(10)
  yield* waitForReady(client, timeout).pipe(Effect.mapError(connectFailed))

  const ping = (limit: Duration.DurationInput = Duration.seconds(2)) =>
    unary<{ service: string }, HealthCheckResponse>(
      client,
      services.Health.service["Check"] as grpc.MethodDefinition<{ service: string }, HealthCheckResponse>,
      { service: HEALTH_SERVICE },
      limit
    ).pipe(
      Effect.mapError((failure: RpcFailure) =>
        new GoPluginCallError({
          ...where,
          method: "grpc.health.v1.Health/Check",
          reason: failure.code === grpc.status.DEADLINE_EXCEEDED ? "timeout" : "refused",
          code: grpc.status[failure.code] ?? String(failure.code),
          detail: failure.details
        })
      ),
      Effect.flatMap((answer) =>
        answer.status === "SERVING" ? Effect.void : Effect.fail(
          new GoPluginCallError({
            ...where,
            method: "grpc.health.v1.Health/Check",
            reason: "remote",
            code: "OK",
            detail: `service "${HEALTH_SERVICE}" is ${answer.status}, not SERVING`
          })
        )
      ),
      Effect.withSpan("GoPlugin.ping", { attributes: where })
    )
  yield* ping(timeout).pipe(Effect.mapError((error) => connectFailed(error.detail)))

  // The broker's sockets live in a private folder removed with the connection.
  const socketDir = yield* Effect.acquireRelease(
    Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "goplugin-broker-"))),
    (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )
  const brokerStream = client.makeBidiStreamRequest(
    services.GRPCBroker.service["StartStream"]!.path,
    (info: ConnInfo) => services.GRPCBroker.service["StartStream"]!.requestSerialize(info),
    (bytes: Buffer) => services.GRPCBroker.service["StartStream"]!.responseDeserialize(bytes) as ConnInfo
  )
  const send = (info: ConnInfo): Effect.Effect<void, BrokerError> =>
    Effect.sync(() => {
      brokerStream.write(info)
    })
  const broker = yield* Broker.make({ grpc, security, socketDir, send })
  brokerStream.on("data", (info: ConnInfo) => runSync(broker.receive(info)))
  brokerStream.on("error", (error: grpc.ServiceError) => {
    if (error.code !== grpc.status.CANCELLED) {
      runSync(Effect.logDebug(`go-plugin broker stream ended: ${error.details || error.message}`).pipe(annotate))
    }
  })

  const stdio = client.makeServerStreamRequest(
    services.GRPCStdio.service["StreamStdio"]!.path,
    (empty: object) => services.GRPCStdio.service["StreamStdio"]!.requestSerialize(empty),
    (bytes: Buffer) => services.GRPCStdio.service["StreamStdio"]!.responseDeserialize(bytes) as StdioData,
    {}
  )
  const stdioEnded = (error: grpc.ServiceError) =>
    // UNIMPLEMENTED: go-plugin < 1.1 has no stdio stream; CANCELLED: we closed it.
    error.code === grpc.status.UNIMPLEMENTED || error.code === grpc.status.CANCELLED
      ? Effect.void
      : Effect.logDebug(`go-plugin stdio stream ended: ${error.details || error.message}`).pipe(annotate)
  const stdioChunks = Stream.async<StdioData>((emit) => {
    stdio.on("data", (chunk: StdioData) => void emit.single(chunk))
    stdio.on("end", () => void emit.end())
    stdio.on("error", (error: grpc.ServiceError) => {
      runSync(stdioEnded(error))
      void emit.end()
    })
  })
  // Each channel is decoded and split on its own, so a line split across chunks stays whole.
  yield* stdioChunks.pipe(
    Stream.groupByKey((chunk) => chunk.channel),
    GroupBy.evaluate((channel, chunks) => {
      const stream = channel === "STDERR" ? "stderr" : "stdout"
      const lines = chunks.pipe(Stream.map((chunk) => new Uint8Array(chunk.data)), Stream.decodeText(), splitBoundedLines)
      const entries = stream === "stderr" ? HclogLine.entries(lines) : Stream.map(lines, (line) => ({ level: LogLevel.Info, message: line, fields: {} }))
      return Stream.tap(entries, (entry) =>
        Effect.logWithLevel(entry.level, entry.message).pipe(annotate, Effect.annotateLogs({ ...entry.fields, stream })))
    }),
    Stream.runDrain,
    Effect.forkScoped
  )

  const stopped = yield* Ref.make(false)
  const shutdown = Effect.gen(function*() {
    if (yield* Ref.getAndSet(stopped, true)) return
    brokerStream.end()
    const outcome = yield* unary(
      client,
      services.GRPCController.service["Shutdown"] as grpc.MethodDefinition<object, object>,
      {},
      Duration.seconds(2)
    ).pipe(Effect.either)
    // The plugin stops its server inside the handler, so UNAVAILABLE is the expected answer.
    if (outcome._tag === "Left" && outcome.left.code !== grpc.status.UNAVAILABLE) {
      yield* Effect.logDebug(`go-plugin Shutdown answered ${grpc.status[outcome.left.code]}: ${outcome.left.details}`)
    }
  }).pipe(annotate, Effect.withSpan("GoPlugin.shutdown", { attributes: where }))

  yield* Effect.addFinalizer(() =>
    shutdown.pipe(Effect.ensuring(Effect.sync(() => {
      brokerStream.cancel()
      stdio.cancel()
    })))
  )

  return { ...where, handshake, target, client, open, ping, broker, shutdown } satisfies Connection
})
