/**
 * `comm_type = "go-plugin"` in the container: a launcher ({@link AnnouncedLauncher}) that starts the
 * binary with the cookie, the offered versions and, under AutoMTLS, a fresh host certificate, and reads
 * its handshake line; and a transport that connects to the announced socket ({@link Connection}) and
 * makes a {@link Caller} of it. Ping is the health service's Check("plugin"); `exec("pkg.Service/Method",
 * JSON)` calls a unary method of the entry's `.proto` files and answers JSON. Checksum, ACL,
 * supervision, process group and the orphan guard come from the container like for any plugin.
 *
 * Stopping a generation closes its scope: the connection sends `GRPCController.Shutdown`, the process
 * gets {@link EXIT_GRACE} to exit by itself, then the registry's SIGTERM, grace, SIGKILL.
 *
 * @since 0.2.0
 */
import type * as grpc from "@grpc/grpc-js"
import { Context, Duration, Effect, Either, Layer, type Scope } from "effect"
import * as AnnouncedLauncher from "../AnnouncedLauncher.js"
import type { Caller, CallOptions } from "../Caller.js"
import type { Launcher, LaunchPlan, TargetBase, Transport } from "../Launcher.js"
import { CallError, PluginStartError } from "../PluginError.js"
import type { ProcessRegistry } from "../ProcessRegistry.js"
import type { Security } from "./AutoMtls.js"
import { connect, type Connection } from "./Connection.js"
import type { BrokerTlsUnsupported, GoPluginCallError } from "./GoPluginError.js"
import * as GoPluginSession from "./GoPluginSession.js"
import { type GoPluginSettings, resolvePaths } from "./GoPluginSettings.js"
import type { Handshake } from "./Handshake.js"
import * as HclogLine from "./HclogLine.js"
import { accept, EXIT_GRACE, launchEnv } from "./Launch.js"
import { callFailed } from "./Rpc.js"
import * as SelfSignedCertificate from "./SelfSignedCertificate.js"
import { BASE64_BYTES, loadProtos, METHOD, type Protos, serviceDefinition } from "./ServiceClient.js"

/**
 * The `comm_type` of go-plugin entries.
 *
 * @since 0.2.0
 */
export const COMM_TYPE = "go-plugin"

/**
 * A launched go-plugin plugin: its handshake, the TLS to use, and its settings with absolute paths.
 *
 * @since 0.2.0
 */
export interface GoPluginTarget extends TargetBase {
  readonly handshake: Handshake
  readonly security: Security
  readonly settings: GoPluginSettings
}

interface Prepared {
  readonly settings: GoPluginSettings
  readonly own: SelfSignedCertificate.CertificateAndKey | undefined
}

const prepare = (plan: LaunchPlan) => {
  const settings = plan.plugin.spec.goPlugin
  if (settings === undefined) {
    return Effect.fail(
      new PluginStartError({
        host: plan.host,
        plugin: plan.plugin.name,
        exec: plan.plugin.exec,
        detail: `comm_type is "${COMM_TYPE}" but [plugins.${plan.plugin.name}.go_plugin] is missing: add it with ` +
          "magic_cookie_key, magic_cookie_value and protocol_versions (docs/configuration.md)"
      })
    )
  }
  return Effect.sync(() => {
    const own = settings.autoMtls ? SelfSignedCertificate.generate() : undefined
    const secret: Prepared = { settings: resolvePaths(settings, plan.plugin.cwd), own }
    return { env: launchEnv(settings, own?.certificatePem), secret }
  })
}

const parse = (line: string, base: TargetBase, _plan: LaunchPlan, secret: Prepared): Either.Either<GoPluginTarget, string> =>
  accept(line, base, secret.settings, secret.own).pipe(
    Either.map(({ handshake, security }) => ({ ...base, handshake, security, settings: secret.settings })),
    Either.mapLeft((error) => error.problem)
  )

/**
 * The go-plugin launcher.
 *
 * @since 0.2.0
 */
export class GoPluginLauncher extends Context.Tag("goplugin-effect/GoPluginLauncher")<GoPluginLauncher, Launcher<GoPluginTarget>>() {}

/**
 * Builds the go-plugin launcher over the process registry.
 *
 * @since 0.2.0
 */
export const makeLauncher: Effect.Effect<Launcher<GoPluginTarget>, never, ProcessRegistry> = AnnouncedLauncher.make({
  kind: COMM_TYPE,
  prepare,
  parse,
  stderrEntries: HclogLine.reader,
  exitGrace: EXIT_GRACE
})

/**
 * The go-plugin launcher as a layer.
 *
 * @since 0.2.0
 */
export const launcherLayer: Layer.Layer<GoPluginLauncher, never, ProcessRegistry> = Layer.effect(GoPluginLauncher, makeLauncher)

/** Distinct commands whose method a caller remembers (a bound against callers inventing names). */
const MAX_RESOLVED = 1024


const decoder = new TextDecoder("utf-8", { fatal: true })
const encoder = new TextEncoder()

/**
 * The request of a JSON call: an object (an empty payload is `{}`), or why not.
 *
 * @since 0.2.0
 */
export const requestOf = (payload: Uint8Array): Either.Either<object, string> => {
  if (payload.length === 0) return Either.right({})
  return Either.try({ try: () => JSON.parse(decoder.decode(payload)) as unknown, catch: (error) => `the payload is not UTF-8 JSON: ${String(error)}` })
    .pipe(Either.flatMap((value) =>
      typeof value === "object" && value !== null && !Array.isArray(value)
        ? Either.right(value)
        : Either.left("the payload must be a JSON object (the request message)")
    ))
}

const makeCaller = (target: GoPluginTarget, connection: Connection) =>
  Effect.gen(function*() {
    const where = { host: target.host, plugin: target.plugin }
    const { settings } = target
    // `bytes` fields decode to base64 strings, as protobuf's JSON mapping writes them.
    const protos = yield* Effect.cached(loadProtos(target.plugin, settings.protoFiles, settings.protoInclude, BASE64_BYTES))
    const failed = (operation: "ping" | "exec", command: string | undefined) => (error: GoPluginCallError | BrokerTlsUnsupported) =>
      new CallError({
        ...where,
        operation,
        command,
        reason: error._tag === "GoPluginCallError" ? error.reason : "remote",
        detail: error._tag === "GoPluginCallError" ? `${error.method}: ${error.code}: ${error.detail}` : error.message,
        cause: error
      })
    const refused = (command: string, detail: string) => new CallError({ ...where, operation: "exec", command, reason: "refused", detail })
    const methodOf = (command: string, loaded: Protos) => {
      const match = METHOD.exec(command)
      if (match === null) return Either.left(`"${command}" is not package.Service/Method, e.g. kv.KV/Get`)
      const [, service, method] = match as unknown as [string, string, string]
      if (settings.services.length > 0 && !settings.services.includes(service)) {
        return Either.left(`service ${service} is not one of the entry's services (${settings.services.join(", ")})`)
      }
      return serviceDefinition(loaded, service).pipe(
        Either.mapLeft((error) => error.message),
        Either.flatMap((definition) => {
          const found = definition[method]
          return found === undefined || found.requestStream || found.responseStream
            ? Either.left(`${service} has no unary method ${method}`)
            : Either.right(found as grpc.MethodDefinition<object, unknown>)
        })
      )
    }
    // Resolved methods by command, so a call does not parse its name and search the protos again.
    const methods = new Map<string, grpc.MethodDefinition<object, unknown>>()
    const resolve = (command: string, loaded: Protos) => {
      const known = methods.get(command)
      if (known !== undefined) return Either.right(known)
      return Either.map(methodOf(command, loaded), (method) => {
        if (methods.size < MAX_RESOLVED) methods.set(command, method)
        return method
      })
    }
    // The protos once loaded, so that a call skips `Effect.cached`'s lookup (a clock read and a ref).
    let loadedProtos: Protos | undefined
    const protosOf = (command: string): Effect.Effect<Protos, CallError> =>
      loadedProtos !== undefined ? Effect.succeed(loadedProtos) : protos.pipe(
        Effect.tap((loaded) => Effect.sync(() => void (loadedProtos = loaded))),
        Effect.mapError((error) => refused(command, error.message))
      )
    // One step per call on the hot path: resolving the method and reading the request are plain functions.
    const exec = (command: string, payload: Uint8Array, options?: CallOptions): Effect.Effect<Uint8Array, CallError> =>
      Effect.flatMap(protosOf(command), (loaded) => {
        const method = resolve(command, loaded)
        if (Either.isLeft(method)) return Effect.fail(refused(command, method.left))
        const request = requestOf(payload)
        if (Either.isLeft(request)) return Effect.fail(refused(command, request.left))
        return connection.unary(method.right, request.right, options?.timeout ?? target.timeout).pipe(
          Effect.mapBoth({
            onFailure: (failure) => failed("exec", command)(callFailed(where, command, failure)),
            onSuccess: (answer) => encoder.encode(JSON.stringify(answer))
          })
        )
      })
    const caller: Caller = {
      ...where,
      protocol: COMM_TYPE,
      ping: Effect.as(Effect.mapError(connection.ping(target.timeout), failed("ping", undefined)), "SERVING"),
      exec: target.traceCalls
        ? (command, payload, options) =>
          Effect.withSpan(exec(command, payload, options), "GoPlugin.exec", { attributes: { ...where, command } })
        : exec
    }
    return caller
  })

/** A caller whose every call fails with why the connection could not be made (readiness then reports it). */
const unreachable = (target: GoPluginTarget, detail: string): Caller => {
  const fail = (operation: "ping" | "exec", command?: string) =>
    Effect.fail(new CallError({ host: target.host, plugin: target.plugin, operation, command, reason: "refused", detail }))
  return { host: target.host, plugin: target.plugin, protocol: COMM_TYPE, ping: fail("ping"), exec: (command) => fail("exec", command) }
}

/**
 * The go-plugin transport: one connection per generation, closed (Shutdown first) with its scope.
 *
 * @since 0.2.0
 */
export const transport: Transport<GoPluginTarget> = {
  protocol: COMM_TYPE,
  make: (target: GoPluginTarget): Effect.Effect<Caller, never, Scope.Scope> =>
    connect({
      host: target.host,
      plugin: target.plugin,
      handshake: target.handshake,
      security: target.security,
      maxReceiveBytes: target.settings.maxReceiveBytes,
      connectTimeout: Duration.max(target.timeout, Duration.seconds(2)),
      // The container's readiness check pings (health Check) right after: one check, not two.
      checkServing: false
    }).pipe(
      Effect.flatMap((connection) => Effect.flatMap(makeCaller(target, connection), (caller) => GoPluginSession.attach(caller, connection))),
      Effect.catchAll((error) => Effect.succeed(unreachable(target, error.message)))
    )
}
