/**
 * Starting a go-plugin binary outside a container, for programs that want the {@link Connection}
 * itself (its broker, its channel): the cookie, the offered versions and (with AutoMTLS) a fresh host
 * certificate in its environment; its first stdout line read as the handshake; its stderr read as
 * hclog lines into the logger; then a {@link Connection} to the announced address. Closing the scope
 * sends `GRPCController.Shutdown`, gives the plugin {@link EXIT_GRACE} to exit, then the registry's
 * usual stop (SIGTERM to the group, grace, SIGKILL) runs. The container's `comm_type = "go-plugin"`
 * driver (`GoPluginDriver`) uses the same pieces.
 *
 * @since 0.2.0
 */
import { Duration, Effect, Either } from "effect"
import { announcement, letExitOnItsOwn, type PluginProcess, ProcessRegistry } from "../ProcessRegistry.js"
import { insecure, mutualTls, type Security } from "./AutoMtls.js"
import { connect, type Connection } from "./Connection.js"
import { HandshakeError } from "./GoPluginError.js"
import type { GoPluginSettings } from "./GoPluginSettings.js"
import * as Handshake from "./Handshake.js"
import * as HclogLine from "./HclogLine.js"
import * as SelfSignedCertificate from "./SelfSignedCertificate.js"

/**
 * How long a plugin may take to exit by itself after `Shutdown` before the registry's SIGTERM.
 *
 * @since 0.2.0
 */
export const EXIT_GRACE = Duration.seconds(2)

/**
 * What to start.
 *
 * @since 0.2.0
 */
export interface LaunchRequest {
  readonly host: string
  readonly plugin: string
  readonly exec: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  /** Added to the host's environment, before the go-plugin variables. */
  readonly env?: Readonly<Record<string, string>> | undefined
  /** Time between SIGTERM and SIGKILL when the plugin does not exit after Shutdown. */
  readonly grace: Duration.DurationInput
  readonly settings: GoPluginSettings
}

/**
 * The go-plugin variables of a launch: the magic cookie, `PLUGIN_PROTOCOL_VERSIONS`, and
 * `PLUGIN_CLIENT_CERT` (the host's certificate, PEM, with AutoMTLS). The plugin inherits the host's
 * environment, so two variables a go-plugin plugin reads are always set here, empty when unwanted
 * (go-plugin treats empty as unset): `PLUGIN_CLIENT_CERT`, or a host that is itself a plugin of a Go
 * host under AutoMTLS would hand its own host's certificate down to a plugin it runs without AutoMTLS;
 * and `PLUGIN_MULTIPLEX_GRPC`, which makes go-plugin ≥ 1.6 multiplex over yamux (not supported here).
 *
 * @since 0.2.0
 */
export const launchEnv = (
  settings: Pick<GoPluginSettings, "magicCookieKey" | "magicCookieValue" | "protocolVersions">,
  hostCertificatePem: string | undefined
): Record<string, string> => ({
  [settings.magicCookieKey]: settings.magicCookieValue,
  PLUGIN_PROTOCOL_VERSIONS: settings.protocolVersions.join(","),
  PLUGIN_CLIENT_CERT: hostCertificatePem ?? "",
  PLUGIN_MULTIPLEX_GRPC: ""
})

/**
 * A handshake line accepted for a launch: parsed against the offered versions, and with AutoMTLS
 * (`own` present) refused unless the plugin announced its certificate, which is then the only one trusted.
 *
 * @since 0.2.0
 */
export const accept = (
  line: string,
  where: { readonly host: string; readonly plugin: string },
  settings: Pick<GoPluginSettings, "protocolVersions">,
  own: SelfSignedCertificate.CertificateAndKey | undefined
): Either.Either<{ readonly handshake: Handshake.Handshake; readonly security: Security }, HandshakeError> =>
  Either.flatMap(Handshake.parse(line, { ...where, offered: settings.protocolVersions }), (handshake) => {
    if (own === undefined) return Either.right({ handshake, security: insecure() })
    if (handshake.certificate === undefined) {
      return Either.left(
        new HandshakeError({
          ...where,
          line: line.trim(),
          problem: "auto_mtls is on but the plugin announced no certificate (it does not support AutoMTLS); " +
            `set auto_mtls = false in [plugins.${where.plugin}.go_plugin] if plain gRPC is acceptable`
        })
      )
    }
    return Either.right({ handshake, security: mutualTls(own, SelfSignedCertificate.derToPem(handshake.certificate)) })
  })

/**
 * A started and connected plugin.
 *
 * @since 0.2.0
 */
export interface Launched {
  readonly process: PluginProcess
  readonly handshake: Handshake.Handshake
  readonly connection: Connection
}

/**
 * Starts the plugin and connects to it; fails with the start error, `PluginExited` (with its stderr,
 * e.g. a wrong cookie), `HandshakeError` or `GoPluginConnectError`, having stopped the process.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const { connection } = yield* Launch.launch({ host: "app", plugin: "kv", exec: "/plugins/kv", args: [],
 *   cwd: "/plugins", grace: "2 seconds", settings })
 * yield* connection.ping()
 * ```
 */
export const launch = Effect.fn("GoPlugin.launch")(function*(request: LaunchRequest) {
  const registry = yield* ProcessRegistry
  const { settings } = request
  const where = { host: request.host, plugin: request.plugin }
  const own = settings.autoMtls ? SelfSignedCertificate.generate() : undefined
  const process = yield* registry.start({
    ...where,
    exec: request.exec,
    args: request.args,
    cwd: request.cwd,
    env: { ...request.env, ...launchEnv(settings, own?.certificatePem) },
    grace: request.grace,
    announce: true,
    stderrEntries: HclogLine.reader
  })

  const noLine = (problem: string) => new HandshakeError({ ...where, line: "", problem })
  const connected = Effect.gen(function*() {
    const line = yield* announcement(process, noLine).pipe(
      Effect.timeoutFail({
        duration: settings.handshakeTimeout,
        onTimeout: () => noLine(`the plugin printed no handshake line within ${Duration.format(settings.handshakeTimeout)}`)
      })
    )
    const { handshake, security } = yield* accept(line, where, settings, own)
    // Runs between the connection's Shutdown and the registry's stop: the plugin may exit by itself.
    yield* letExitOnItsOwn(process, EXIT_GRACE)
    const connection: Connection = yield* connect({ ...where, handshake, security, maxReceiveBytes: settings.maxReceiveBytes })
    return { process, handshake, connection } satisfies Launched
  })
  // Any failure, defect or interruption after the spawn stops the process at once.
  return yield* connected.pipe(Effect.onError(() => process.stop))
})
