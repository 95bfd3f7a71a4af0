/**
 * Launching one generation of a plugin: verify its checksum again, pick its port, give it a fresh
 * token, start its process group, and wait until it answers Ping (bounded by `exec_time`).
 *
 * @internal
 */
import { Duration, Effect, Scope } from "effect"
import * as crypto from "node:crypto"
import type { Caller, CallerDriver, CallTarget } from "../Caller.js"
import type { InstalledPlugin } from "../Host.js"
import { Md5Checker } from "../Md5Checker.js"
import { callTimeoutOf, configuredPort, hasPortArg, type PluginConfig } from "../PluginConfig.js"
import { PluginExited, PluginNotReady, PluginStartError, type StartError } from "../PluginError.js"
import type { PluginProcess, ProcessRegistry } from "../ProcessRegistry.js"
import { awaitPort, freePort, pollInterval } from "./readiness.js"
import { makeVerifyCache } from "./verifyCache.js"

/** A started generation: its caller, its process (absent for per-call transports) and its port. */
export interface Launched {
  readonly caller: Caller
  readonly process: PluginProcess | undefined
  readonly port: number | undefined
}

/** What launching needs from the container. */
export interface LaunchContext {
  readonly host: string
  readonly config: PluginConfig
  readonly registry: ProcessRegistry["Type"]
  readonly checker: Md5Checker["Type"]
  readonly verifyCached: ReturnType<typeof makeVerifyCache>
  readonly maxResponseBytes: number
}

const argsWithPort = (args: ReadonlyArray<string>, port: number | undefined): ReadonlyArray<string> =>
  port === undefined || hasPortArg(args) ? args : [...args, "--port", String(port)]

/** A fresh secret per launch: only the host that started a plugin can call it. */
const newToken = (): string => crypto.randomBytes(32).toString("hex")

const awaitReady = (
  context: LaunchContext,
  plugin: InstalledPlugin,
  driver: CallerDriver,
  process: PluginProcess,
  target: CallTarget,
  scope: Scope.Scope
): Effect.Effect<Caller, PluginExited | PluginNotReady> =>
  Effect.suspend(() => {
    let lastError = "no attempt finished yet"
    const waited = Duration.toMillis(Duration.seconds(plugin.spec.exec_time))
    const exited = Effect.flatMap(process.awaitExit, (info) =>
      new PluginExited({
        host: context.host,
        plugin: plugin.name,
        pid: process.pid,
        exitCode: info.code,
        signal: info.signal,
        lastStderr: process.stderrTail()
      }))
    const ready = Effect.gen(function*() {
      if (driver.usesPort && target.port !== undefined) {
        yield* awaitPort(target.port, (reason) => (lastError = reason))
      }
      const caller = yield* Scope.extend(driver.make(target), scope)
      yield* caller.ping.pipe(
        Effect.tapError((error) => Effect.sync(() => (lastError = error.detail))),
        Effect.retry(pollInterval),
        Effect.orDie
      )
      return caller
    })
    return Effect.raceFirst(ready, exited).pipe(
      Effect.timeoutFail({
        duration: Duration.millis(waited),
        onTimeout: () =>
          new PluginNotReady({
            host: context.host,
            plugin: plugin.name,
            waitedMillis: waited,
            lastError,
            lastStderr: process.stderrTail()
          })
      })
    )
  })

/**
 * Launches one generation of the plugin into `scope`: closing the scope stops its process and
 * releases its caller. A long-lived plugin is verified in full right before it starts, so a file
 * swapped since install is refused.
 */
export const launch = (
  context: LaunchContext,
  plugin: InstalledPlugin,
  driver: CallerDriver,
  scope: Scope.Scope
): Effect.Effect<Launched, StartError> =>
  Effect.gen(function*() {
    const { host } = context
    const verifyFull = context.checker.verify(plugin.name, plugin.execFile, plugin.spec)
    if (driver.longLived) yield* verifyFull
    const port = driver.usesPort
      ? configuredPort(plugin.spec) ??
        (yield* Effect.mapError(freePort, (reason) =>
          new PluginStartError({ host, plugin: plugin.name, exec: plugin.exec, reason })))
      : undefined
    const args = argsWithPort(plugin.spec.exec_args, port)
    const token = newToken()
    const env: Record<string, string> = { GOPLUGIN_HOST: host, GOPLUGIN_PLUGIN: plugin.name, GOPLUGIN_TOKEN: token }
    if (port !== undefined) env["GOPLUGIN_PORT"] = String(port)
    const grace = Duration.seconds(context.config.settings.stop_grace)
    const startProcess = (collectStdout?: number) =>
      context.registry.start({ host, plugin: plugin.name, exec: plugin.exec, args, cwd: plugin.cwd, env, grace, collectStdout })
    const target: CallTarget = {
      host,
      plugin: plugin.name,
      port,
      token,
      timeout: callTimeoutOf(context.config, plugin.spec),
      maxResponseBytes: context.maxResponseBytes,
      exec: plugin.exec,
      args,
      cwd: plugin.cwd,
      verify: context.verifyCached(plugin.name, plugin.execFile, plugin.spec).pipe(
        Effect.provideService(Md5Checker, context.checker)
      ),
      start: (options) => startProcess(options.collectStdout)
    }
    if (!driver.longLived) {
      const caller = yield* Scope.extend(driver.make(target), scope)
      return { caller, process: undefined, port }
    }
    const process = yield* Scope.extend(startProcess(), scope)
    const caller = yield* awaitReady(context, plugin, driver, process, target, scope)
    yield* Effect.logDebug(`ready on port ${port}`).pipe(
      Effect.annotateLogs({ host, plugin: plugin.name, pid: process.pid })
    )
    return { caller, process, port }
  })
