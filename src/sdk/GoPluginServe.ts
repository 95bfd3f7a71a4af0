/**
 * A TypeScript plugin that a Go program using hashicorp/go-plugin can launch: it checks the magic
 * cookie, picks the application protocol version, serves `grpc.health.v1` ("plugin" is SERVING),
 * `plugin.GRPCController`, `plugin.GRPCStdio`, `plugin.GRPCBroker` and the plugin's own services on a
 * unix socket (mutual TLS when the host sets `PLUGIN_CLIENT_CERT`; in `PLUGIN_UNIX_SOCKET_DIR` and owned by
 * `PLUGIN_UNIX_SOCKET_GROUP` when set; `PLUGIN_MULTIPLEX_GRPC` declined), prints the handshake line, and
 * serves until the host calls Shutdown. Imported from `goplugin-effect/sdk/go-plugin`, so REST and stdio plugins
 * never load gRPC.
 *
 * @since 0.2.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { defaultTeardown } from "@effect/platform/Runtime"
import * as grpc from "@grpc/grpc-js"
import { Deferred, Effect, Exit, Runtime, Schema, type Scope } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { insecure, mutualTls, type Security } from "../goplugin/AutoMtls.js"
import * as Broker from "../goplugin/Broker.js"
import type { BrokerError } from "../goplugin/GoPluginError.js"
import * as Handshake from "../goplugin/Handshake.js"
import { type ConnInfo, HEALTH_SERVICE, protocol } from "../goplugin/Protocol.js"
import * as SelfSignedCertificate from "../goplugin/SelfSignedCertificate.js"
import * as UnixSocketConfig from "../goplugin/UnixSocketConfig.js"
import { hclogLoggerLayer } from "./HclogLogger.js"

/**
 * Why a go-plugin plugin could not serve.
 *
 * @since 0.2.0
 */
export class GoPluginServeError extends Schema.TaggedError<GoPluginServeError>()("GoPluginServeError", {
  reason: Schema.String
}) {
  override get message(): string {
    return `go-plugin plugin cannot serve: ${this.reason}`
  }
}

/**
 * What the plugin's services get: the broker, and channels to services the host announces through it.
 *
 * @since 0.2.0
 */
export interface GoPluginContext {
  readonly broker: Broker.Broker
  /** Waits for the host's announcement of `id` (5 s) and opens a channel to it, closed with the scope. */
  readonly dial: (id: number) => Effect.Effect<grpc.Client, BrokerError, Scope.Scope>
  /** The application protocol version agreed with the host. */
  readonly appVersion: number
  /** The runtime serving runs in (its logger writes hclog lines): run handlers' Effects with it. */
  readonly runtime: Runtime.Runtime<never>
}

/**
 * How to serve.
 *
 * @since 0.2.0
 */
export interface GoPluginServeOptions {
  /** go-plugin's `MagicCookieKey` / `MagicCookieValue`: the host sets the variable, the plugin checks it. */
  readonly magicCookieKey: string
  readonly magicCookieValue: string
  /** Application protocol versions this plugin speaks. */
  readonly protocolVersions: ReadonlyArray<number>
  /** The plugin's own services. */
  readonly services: (context: GoPluginContext) => ReadonlyArray<Broker.BrokeredService>
  /** Defaults to `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
  /** Where the handshake line goes; defaults to stdout. */
  readonly announce?: ((line: string) => void) | undefined
}

/** Set (to anything non-empty) by a go-plugin ≥ 1.6 host that wants yamux multiplexing. */
const MULTIPLEX_ENV = "PLUGIN_MULTIPLEX_GRPC"

const NOT_A_PROGRAM = "this binary is a plugin; it is not meant to be executed directly. Run the program " +
  "that uses it, which starts it with the right environment"

const securityFrom = (clientCert: string | undefined) =>
  Effect.try({
    try: () => {
      if (clientCert === undefined || clientCert === "") return { security: insecure(), certificate: undefined }
      // Parse first: a garbled PLUGIN_CLIENT_CERT is reported, not turned into a server that trusts nothing.
      new crypto.X509Certificate(clientCert)
      const own = SelfSignedCertificate.generate()
      return { security: mutualTls(own, clientCert), certificate: own.der }
    },
    catch: (error) => new GoPluginServeError({ reason: `PLUGIN_CLIENT_CERT is not a PEM certificate: ${String(error)}` })
  })

const ignoreEnded = <A>(call: grpc.ServerWritableStream<unknown, A> | grpc.ServerDuplexStream<unknown, A>) =>
  call.on("error", () => {})

const coreServices = (
  shutdown: () => void,
  openStreams: Set<grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>>,
  onBrokerStream: (call: grpc.ServerDuplexStream<ConnInfo, ConnInfo>) => void
): ReadonlyArray<Broker.BrokeredService> => {
  const services = protocol()
  const keepOpen = (call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>) => {
    ignoreEnded(call)
    openStreams.add(call)
    call.on("cancelled", () => openStreams.delete(call))
  }
  return [
    {
      definition: services.Health.service,
      implementation: {
        Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) =>
          call.request.service === HEALTH_SERVICE || call.request.service === ""
            ? callback(null, { status: "SERVING" })
            : callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` }),
        Watch: (call: grpc.ServerWritableStream<{ service: string }, unknown>) => {
          keepOpen(call)
          call.write({ status: call.request.service === HEALTH_SERVICE || call.request.service === "" ? "SERVING" : "SERVICE_UNKNOWN" })
        }
      }
    },
    {
      definition: services.GRPCController.service,
      implementation: {
        Shutdown: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
          callback(null, {})
          shutdown()
        }
      }
    },
    {
      // The plugin's stdout and stderr are the process's own; the stream stays open and empty.
      definition: services.GRPCStdio.service,
      implementation: { StreamStdio: keepOpen }
    },
    {
      definition: services.GRPCBroker.service,
      implementation: {
        StartStream: (call: grpc.ServerDuplexStream<ConnInfo, ConnInfo>) => {
          keepOpen(call)
          onBrokerStream(call)
        }
      }
    }
  ]
}

/**
 * Serves until the host calls Shutdown (or the effect is interrupted), then closes the server.
 *
 * @since 0.2.0
 */
export const serveGoPlugin = Effect.fn("Sdk.serveGoPlugin")(function*(options: GoPluginServeOptions) {
  const env = options.env ?? process.env
  if (env[options.magicCookieKey] !== options.magicCookieValue) {
    return yield* new GoPluginServeError({ reason: `${options.magicCookieKey} is not set to the expected value: ${NOT_A_PROGRAM}` })
  }
  const appVersion = Handshake.negotiate(env["PLUGIN_PROTOCOL_VERSIONS"], options.protocolVersions)
  const { certificate, security } = yield* securityFrom(env["PLUGIN_CLIENT_CERT"])
  const runtime = yield* Effect.runtime<never>()
  const runFork = Runtime.runFork(runtime)

  // go-plugin ≥ 1.5 hosts may say where sockets go and which group shares them (UnixSocketConfig).
  const sockets = UnixSocketConfig.fromEnv(env)
  const socketGroup = yield* Effect.mapError(
    UnixSocketConfig.resolveGroup(sockets),
    (problem) => new GoPluginServeError({ reason: `${UnixSocketConfig.ENV_GROUP}: ${problem}` })
  )
  // The host's folder is the host's: only the sockets made in it are removed; a private one goes whole.
  const dir = sockets.dir ?? (yield* Effect.acquireRelease(
    Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "plugin"))),
    (folder) => Effect.sync(() => fs.rmSync(folder, { recursive: true, force: true }))
  ))
  const socket = path.join(dir, `plugin${crypto.randomBytes(6).toString("hex")}`)
  const multiplexAsked = (env[MULTIPLEX_ENV] ?? "") !== ""
  const stream = yield* Deferred.make<grpc.ServerDuplexStream<ConnInfo, ConnInfo>>()
  const broker = yield* Broker.make({
    grpc,
    security,
    socketDir: Effect.succeed(dir),
    socketGroup,
    send: (info) => Effect.map(Deferred.await(stream), (call) => void call.write(info))
  })
  const stopRequested = yield* Deferred.make<void>()
  const openStreams = new Set<grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>>()
  const context: GoPluginContext = {
    broker,
    appVersion,
    runtime,
    dial: (id) => Effect.flatMap(broker.dial(id), (target) => openChannel(target, security))
  }
  const services = [
    ...coreServices(
      () => Deferred.unsafeDone(stopRequested, Exit.void),
      openStreams,
      (call) => {
        Deferred.unsafeDone(stream, Exit.succeed(call))
        call.on("data", (info: ConnInfo) => runFork(broker.receive(info)))
        call.on("end", () => call.end())
      }
    ),
    ...options.services(context)
  ]
  const server = new grpc.Server({ "grpc.max_receive_message_length": -1, "grpc.max_send_message_length": -1 })
  for (const service of services) server.addService(service.definition, service.implementation)
  yield* Effect.acquireRelease(
    Effect.async<void, GoPluginServeError>((resume) =>
      server.bindAsync(`unix://${socket}`, security.serverCredentials, (error) =>
        resume(error === null ? Effect.void : Effect.fail(new GoPluginServeError({ reason: `cannot listen on ${socket}: ${error.message}` }))))
    ),
    () =>
      Effect.sync(() => {
        for (const call of openStreams) call.end()
      }).pipe(
        Effect.zipRight(Effect.async<void>((resume) => server.tryShutdown(() => resume(Effect.void)))),
        Effect.timeout("1 second"),
        Effect.ignore,
        Effect.ensuring(Effect.sync(() => {
          server.forceShutdown()
          fs.rmSync(socket, { force: true })
        }))
      )
  )
  if (socketGroup !== undefined) {
    yield* Effect.mapError(UnixSocketConfig.shareWithGroup(socket, socketGroup), (reason) => new GoPluginServeError({ reason }))
  }
  if (multiplexAsked) {
    yield* Effect.logWarning(
      `the host asked for gRPC broker multiplexing (${MULTIPLEX_ENV}), which this plugin does not support: ` +
        "it answers false, and a go-plugin host with GRPCBrokerMultiplex set then refuses it"
    )
  }
  // The 7th field only for a host that asked: older hosts read the 6th field to the end of the line.
  const line = Handshake.format({ appVersion, network: "unix", address: socket, certificate }, multiplexAsked ? false : undefined)
  ;(options.announce ?? ((text: string) => process.stdout.write(`${text}\n`)))(line)
  yield* Effect.logDebug("plugin address").pipe(Effect.annotateLogs({ network: "unix", address: socket, tls: security.tls }))
  yield* Deferred.await(stopRequested)
  yield* Effect.logDebug("shutdown requested by the host")
})

const openChannel = (target: string, security: Security): Effect.Effect<grpc.Client, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => new grpc.Client(target, security.channelCredentials, security.channelOptions)),
    (client) => Effect.sync(() => client.close())
  )

/**
 * The entry point of a go-plugin plugin's main file: serves, logs hclog JSON to stderr, exits 0 after
 * the host's Shutdown and 1 when it cannot serve (e.g. started without the host's cookie).
 *
 * @since 0.2.0
 * @example
 * ```ts
 * runGoPlugin({ magicCookieKey: "KV_PLUGIN_COOKIE", magicCookieValue: "…", protocolVersions: [3],
 *   services: () => [{ definition: kvDefinition, implementation: { Get, Put } }] }, "kv")
 * ```
 */
export const runGoPlugin = (options: GoPluginServeOptions, name = "plugin"): void => {
  process.stderr.on("error", () => {})
  const program = Effect.scoped(serveGoPlugin(options)).pipe(
    Effect.tapError((error) => Effect.logError(error.message)),
    Effect.provide(hclogLoggerLayer(name))
  )
  NodeRuntime.runMain(program, {
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown: (exit) => defaultTeardown(exit, (code) => process.exit(code))
  })
}
