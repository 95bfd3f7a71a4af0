/**
 * Starting a go-plugin binary through the ProcessRegistry: the cookie, the offered versions and (with
 * AutoMTLS) a fresh host certificate in its environment; its first stdout line read as the handshake;
 * its stderr read as hclog lines into the logger; then a {@link Connection} to the announced address.
 * Closing the scope sends `GRPCController.Shutdown`, gives the plugin 2 s to exit, then the registry's
 * usual stop (SIGTERM to the group, grace, SIGKILL) runs.
 *
 * @since 0.2.0
 */
import { Deferred, Duration, Effect, Exit, Runtime } from "effect"
import { PluginExited } from "../PluginError.js"
import { type PluginProcess, ProcessRegistry } from "../ProcessRegistry.js"
import { insecure, mutualTls } from "./AutoMtls.js"
import { connect, type Connection } from "./Connection.js"
import { HandshakeError } from "./GoPluginError.js"
import type { GoPluginSettings } from "./GoPluginSettings.js"
import * as Handshake from "./Handshake.js"
import * as HclogLine from "./HclogLine.js"
import * as SelfSignedCertificate from "./SelfSignedCertificate.js"

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
 * The go-plugin variables of a launch: the magic cookie, `PLUGIN_PROTOCOL_VERSIONS` and, with
 * AutoMTLS, `PLUGIN_CLIENT_CERT` (the host's certificate, PEM).
 *
 * @since 0.2.0
 */
export const launchEnv = (
  settings: Pick<GoPluginSettings, "magic_cookie_key" | "magic_cookie_value" | "protocol_versions">,
  hostCertificatePem: string | undefined
): Record<string, string> => ({
  [settings.magic_cookie_key]: settings.magic_cookie_value,
  PLUGIN_PROTOCOL_VERSIONS: settings.protocol_versions.join(","),
  ...(hostCertificatePem === undefined ? {} : { PLUGIN_CLIENT_CERT: hostCertificatePem })
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
  const own = settings.auto_mtls ? SelfSignedCertificate.generate() : undefined
  const runSync = Runtime.runSync(yield* Effect.runtime<never>())
  const firstLine = yield* Deferred.make<string>()
  let handshakeSeen = false
  let stderrState = HclogLine.initial
  const onLine = (stream: "stdout" | "stderr", line: string) => {
    if (stream === "stdout" && !handshakeSeen) {
      handshakeSeen = true
      return Deferred.unsafeDone(firstLine, Exit.succeed(line))
    }
    if (stream === "stdout") return runSync(Effect.logInfo(line).pipe(Effect.annotateLogs({ ...where, stream })))
    const [entry, next] = HclogLine.readLine(line, stderrState)
    stderrState = next
    runSync(Effect.logWithLevel(entry.level, entry.message).pipe(Effect.annotateLogs({ ...entry.fields, ...where, stream })))
  }

  const process = yield* registry.start({
    ...where,
    exec: request.exec,
    args: request.args,
    cwd: request.cwd,
    env: { ...request.env, ...launchEnv(settings, own?.certificatePem) },
    grace: request.grace,
    onLine
  })

  const exited = process.awaitExit.pipe(
    Effect.flatMap((info) =>
      Effect.fail(
        new PluginExited({ ...where, pid: process.pid, exitCode: info.code, signal: info.signal, lastStderr: process.stderrTail() })
      )
    )
  )
  const noLine = new HandshakeError({
    ...where,
    line: "",
    problem: `the plugin printed no handshake line within ${settings.handshake_timeout} s`
  })
  const connected = Effect.gen(function*() {
    const line = yield* Effect.raceFirst(Deferred.await(firstLine), exited).pipe(
      Effect.timeoutFail({ duration: Duration.seconds(settings.handshake_timeout), onTimeout: () => noLine })
    )
    const handshake = yield* Handshake.parse(line, { ...where, offered: settings.protocol_versions })
    if (own !== undefined && handshake.certificate === undefined) {
      return yield* new HandshakeError({
        ...where,
        line,
        problem: "auto_mtls is on but the plugin announced no certificate (it does not support AutoMTLS); " +
          `set auto_mtls = false in [plugins.${request.plugin}.go_plugin] if plain gRPC is acceptable`
      })
    }
    const security = own === undefined || handshake.certificate === undefined
      ? insecure()
      : mutualTls(own, SelfSignedCertificate.derToPem(handshake.certificate))
    // Runs after the connection's Shutdown and before the registry's stop: let the plugin exit by itself.
    // Finalizers are uninterruptible; the wait must not be, or the timeout could not end it.
    yield* Effect.addFinalizer(() => process.awaitExit.pipe(Effect.interruptible, Effect.timeout("2 seconds"), Effect.ignore))
    const connection: Connection = yield* connect({ ...where, handshake, security, maxReceiveBytes: settings.max_receive_bytes })
    return { process, handshake, connection } satisfies Launched
  })
  // Any failure, defect or interruption after the spawn stops the process at once.
  return yield* connected.pipe(Effect.onError(() => process.stop))
})
