/**
 * A host's connection to a started go-plugin plugin: one HTTP/2 session to the address it announced
 * (TLS when AutoMTLS) carrying unary calls, `grpc.health.v1` Check("plugin") as Ping, the broker stream
 * kept open from the start and the plugin's stdio stream drained into the logger ({@link GrpcSession});
 * `GRPCController.Shutdown` when the scope closes. A grpc-js channel to the same address is there for
 * callers who need grpc-js itself (streams of their own services); it connects only when first used.
 * The process itself (grace, SIGKILL, process group) stays with whoever started it.
 *
 * @since 0.2.0
 */
import type * as grpc from "@grpc/grpc-js"
import { Duration, Effect, LogLevel, Option, Ref, Runtime, type Scope } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { withoutParentSpan } from "../internal/callSpan.js"
import { entryLogger, type LineReader, lineReader } from "../internal/outputLines.js"
import type { Security } from "./AutoMtls.js"
import * as Broker from "./Broker.js"
import { type BrokerError, GoPluginCallError, GoPluginConnectError } from "./GoPluginError.js"
import * as GrpcSession from "./GrpcSession.js"
import type { Handshake } from "./Handshake.js"
import * as HclogLine from "./HclogLine.js"
import { type ConnInfo, HEALTH_SERVICE, type HealthCheckResponse, protocol, type StdioData } from "./Protocol.js"
import type { RpcFailure } from "./Rpc.js"
import { Status, grpc as loadGrpc, statusName } from "../internal/grpcModules.js"

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
  /**
   * Whether `connect` waits for the first SERVING answer (default true); off when the caller pings
   * right after anyway (the container's readiness check), so the start pays for one health check.
   */
  readonly checkServing?: boolean | undefined
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
  /** A grpc-js channel to the plugin, for what needs grpc-js itself; built and connected on first use. */
  readonly client: grpc.Client
  /** One unary call to the plugin over the connection's session: how calls to its own services go. */
  readonly unary: <Req, Res>(method: grpc.MethodDefinition<Req, Res>, request: Req, timeout: Duration.DurationInput) => Effect.Effect<Res, RpcFailure>
  /** Opens a channel to a brokered service's target with this connection's credentials and limits. */
  readonly open: (target: string) => Effect.Effect<grpc.Client, never, Scope.Scope>
  /** Health Check("plugin"): fails unless the plugin answers SERVING within `timeout` (default 2 s). */
  readonly ping: (timeout?: Duration.DurationInput) => Effect.Effect<void, GoPluginCallError>
  readonly broker: Broker.Broker
  /** Closes the broker stream and asks the plugin to exit (`GRPCController.Shutdown`); idempotent. */
  readonly shutdown: Effect.Effect<void>
}

/**
 * The plugin's stdio stream as log entries: each output (stdout, stderr) decoded and split on its own,
 * so a line split across chunks stays whole and a line is bounded (`lineReader`); stderr lines read as
 * hclog. Built on the first chunk of each output: go-plugin < 1.1 never sends one.
 */
const stdioLines = (log: (stream: "stdout" | "stderr", entries: ReadonlyArray<HclogLine.HclogEntry>) => void) => {
  const outputs = new Map<"stdout" | "stderr", { readonly lines: LineReader; readonly entryOf: (line: string) => HclogLine.HclogEntry }>()
  const read = (stream: "stdout" | "stderr", lines: ReadonlyArray<string>, entryOf: (line: string) => HclogLine.HclogEntry) => {
    if (lines.length > 0) log(stream, lines.map(entryOf))
  }
  return {
    push: (chunk: StdioData) => {
      const stream = chunk.channel === "STDERR" ? "stderr" : "stdout"
      let output = outputs.get(stream)
      if (output === undefined) {
        output = { lines: lineReader(), entryOf: stream === "stderr" ? HclogLine.reader() : plainLine }
        outputs.set(stream, output)
      }
      read(stream, output.lines.push(chunk.data), output.entryOf)
    },
    end: () => {
      for (const [stream, output] of outputs) read(stream, output.lines.end(), output.entryOf)
    }
  }
}

const plainLine = (line: string): HclogLine.HclogEntry => ({ level: LogLevel.Info, message: line, fields: {} })

const targetOf = (handshake: Handshake): string =>
  handshake.network === "unix" ? `unix://${handshake.address}` : handshake.address

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
  const clientOf = (address: string) => new (loadGrpc().Client)(address, security.channelCredentials, channelOptions)
  const open = (address: string) =>
    Effect.acquireRelease(Effect.sync(() => clientOf(address)), (client) => Effect.sync(() => client.close()))
  const services = protocol()
  const health = services.Health.service["Check"] as grpc.MethodDefinition<{ service: string }, HealthCheckResponse>
  const runtime = yield* Effect.runtime<never>()
  const runSync = Runtime.runSync(runtime)
  const annotate = Effect.annotateLogs({ host: options.host, plugin: options.plugin })

  const connectFailed = (detail: string) => new GoPluginConnectError({ ...where, address: target, detail })
  const timeout = options.connectTimeout ?? Duration.seconds(10)
  const session = yield* GrpcSession.open({
    endpoint: { network: handshake.network, address: handshake.address },
    tls: security.clientTls,
    maxReceiveBytes: options.maxReceiveBytes ?? DEFAULT_MAX_RECEIVE_BYTES,
    connectTimeout: timeout
  }).pipe(Effect.mapError(connectFailed))
  // grpc-js's channel costs a fraction of a millisecond to build and calls go over `session`, so it is
  // built on first use (`client` is a getter) and closed with the connection if it was.
  let channel: grpc.Client | undefined
  yield* Effect.addFinalizer(() => Effect.sync(() => channel?.close()))
  const channelOf = () => (channel ??= clientOf(target))

  // The first health check leaves right behind the connection preface, and the first Ping takes its
  // answer: its round trip overlaps opening the streams and building the caller.
  const firstCheck = yield* Ref.make(Option.some(session.early(health, { service: HEALTH_SERVICE }, Duration.toMillis(timeout))))
  const check = (limit: Duration.DurationInput) =>
    Effect.flatMap(
      Ref.getAndSet(firstCheck, Option.none()),
      Option.match({ onNone: () => session.unary(health, { service: HEALTH_SERVICE }, limit), onSome: (answer) => answer(limit) })
    )
  const ping = (limit: Duration.DurationInput = Duration.seconds(2)) =>
    check(limit).pipe(
      Effect.mapError((failure: RpcFailure) =>
        new GoPluginCallError({
          ...where,
          method: "grpc.health.v1.Health/Check",
          reason: failure.code === Status.DEADLINE_EXCEEDED ? "timeout" : "refused",
          code: statusName(failure.code),
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
  if (options.checkServing !== false) yield* ping(timeout).pipe(Effect.mapError((error) => connectFailed(error.detail)))

  // The broker's sockets live in a private folder, made when the host first serves a service and
  // removed with the connection; most connections never serve one.
  const madeDir = yield* Ref.make<string | undefined>(undefined)
  yield* Effect.addFinalizer(() =>
    Effect.flatMap(Ref.get(madeDir), (dir) => dir === undefined ? Effect.void : Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true })))
  )
  const socketDir = yield* Effect.cached(
    Effect.tap(Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "goplugin-broker-"))), (dir) => Ref.set(madeDir, dir))
  )
  const streamEnded = (name: string, ignored: ReadonlyArray<grpc.status>) => (status: RpcFailure) =>
    status.code === Status.OK || ignored.includes(status.code)
      ? Effect.void
      : Effect.logDebug(`go-plugin ${name} stream ended: ${statusName(status.code)}: ${status.details}`).pipe(annotate)
  // `send` reaches the stream only once the broker announces something, after the stream is open.
  const send = (info: ConnInfo): Effect.Effect<void, BrokerError> => Effect.sync(() => brokerStream.write(info))
  const broker = yield* Broker.make({ grpc: loadGrpc(), security, socketDir, send })
  const brokerStream = session.stream<ConnInfo, ConnInfo>(services.GRPCBroker.service["StartStream"] as grpc.MethodDefinition<ConnInfo, ConnInfo>, {
    onMessage: (info) => runSync(broker.receive(info)),
    onEnd: (status) => runSync(streamEnded("broker", [Status.CANCELLED])(status))
  })

  // UNIMPLEMENTED: go-plugin < 1.1 has no stdio stream; CANCELLED: we closed it.
  const stdioEnded = streamEnded("stdio", [Status.UNIMPLEMENTED, Status.CANCELLED])
  // The plugin's stdio lines are logged outside any span (the connection's ended long before).
  const logEntries = entryLogger(yield* withoutParentSpan(Effect.runtime<never>()))
  const stdio = stdioLines((stream, entries) =>
    logEntries(entries, (entry) => Effect.logWithLevel(entry.level, entry.message).pipe(annotate, Effect.annotateLogs({ ...entry.fields, stream })))
  )
  const stdioStream = session.stream<object, StdioData>(services.GRPCStdio.service["StreamStdio"] as grpc.MethodDefinition<object, StdioData>, {
    onMessage: stdio.push,
    onEnd: (status) => {
      stdio.end()
      runSync(stdioEnded(status))
    }
  }, {})
  yield* Effect.addFinalizer(() => Effect.sync(() => stdioStream.cancel()))

  const stopped = yield* Ref.make(false)
  const shutdown = Effect.gen(function*() {
    if (yield* Ref.getAndSet(stopped, true)) return
    brokerStream.end()
    const outcome = yield* session.unary(
      services.GRPCController.service["Shutdown"] as grpc.MethodDefinition<object, object>,
      {},
      Duration.seconds(2)
    ).pipe(Effect.either)
    // The plugin stops its server inside the handler, so UNAVAILABLE is the expected answer.
    if (outcome._tag === "Left" && outcome.left.code !== Status.UNAVAILABLE) {
      yield* Effect.logDebug(`go-plugin Shutdown answered ${statusName(outcome.left.code)}: ${outcome.left.details}`)
    }
  }).pipe(annotate, Effect.withSpan("GoPlugin.shutdown", { attributes: where }))

  yield* Effect.addFinalizer(() =>
    shutdown.pipe(Effect.ensuring(Effect.sync(() => brokerStream.cancel())))
  )

  return {
    ...where,
    handshake,
    target,
    get client() {
      return channelOf()
    },
    unary: session.unary,
    open,
    ping,
    broker,
    shutdown
  } satisfies Connection
})
