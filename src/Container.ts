/**
 * A host's container: the plugins one host runs, isolated from other containers (two containers
 * running the same plugin get a process each). Closing the container's scope stops all of them.
 *
 * @since 0.1.0
 */
import { Duration, Effect, Either, Exit, Option, Scope } from "effect"
import type { Caller, CallerDriver, CallTarget } from "./Caller.js"
import { CallerFactory } from "./CallerFactory.js"
import * as Host from "./Host.js"
import { Md5Checker } from "./Md5Checker.js"
import { callTimeoutOf, configuredPort, hasPortArg } from "./PluginConfig.js"
import {
  PluginAlreadyRunning,
  PluginExited,
  PluginNotReady,
  PluginNotRunning,
  PluginStartError,
  type StartError
} from "./PluginError.js"
import { type PluginProcess, ProcessRegistry } from "./ProcessRegistry.js"
import { awaitPort, freePort, pollInterval } from "./internal/readiness.js"
import { makeVerifyCache } from "./internal/verifyCache.js"

/** A plugin this container runs. */
export interface RunningPlugin {
  readonly name: string
  readonly caller: Caller
  /** The long-lived process, absent for one-process-per-call transports such as stdio. */
  readonly process: PluginProcess | undefined
  readonly port: number | undefined
}

/** Limits that apply to every plugin of a container. */
export interface ContainerOptions {
  /** Largest answer accepted from a plugin, in bytes. */
  readonly maxResponseBytes: number
}

/** The plugins of one host. */
export interface Container {
  readonly host: string
  /** What the host may run, and what failed verification and why. */
  readonly installed: Host.InstalledHost
  /**
   * Verifies the plugin again, starts it, waits until it answers Ping (at most `exec_time`), and
   * returns its caller. The process lives until `kill`, `killAll` or the container's scope closes.
   */
  readonly run: (plugin: string) => Effect.Effect<Caller, StartError>
  /** The caller of a plugin this container runs. */
  readonly caller: (plugin: string) => Effect.Effect<Caller, PluginNotRunning>
  /** Stops one plugin. */
  readonly kill: (plugin: string) => Effect.Effect<void, PluginNotRunning>
  /** Stops every plugin of this container, concurrently. */
  readonly killAll: Effect.Effect<void>
  /** The plugins running now. */
  readonly running: Effect.Effect<ReadonlyArray<RunningPlugin>>
}

interface Slot {
  readonly scope: Scope.CloseableScope
  running?: RunningPlugin
}

const argsWithPort = (args: ReadonlyArray<string>, port: number | undefined): ReadonlyArray<string> =>
  port === undefined || hasPortArg(args) ? args : [...args, "--port", String(port)]

/** Creates a container for an installed host; its scope's end stops every plugin it started. */
export const make = (installed: Host.InstalledHost, options: ContainerOptions) =>
  Effect.gen(function*() {
    const registry = yield* ProcessRegistry
    const factory = yield* CallerFactory
    const checker = yield* Md5Checker
    const host = installed.name
    const settings = installed.config.settings
    const grace = Duration.seconds(settings.stop_grace)
    const slots = new Map<string, Slot>()
    const verifyCached = makeVerifyCache()

    const release = (name: string) =>
      Effect.suspend(() => {
        const slot = slots.get(name)
        slots.delete(name)
        return slot === undefined ? Effect.void : Scope.close(slot.scope, Exit.void)
      })

    const killAll = Effect.suspend(() =>
      Effect.forEach(Array.from(slots.keys()), release, { concurrency: "unbounded", discard: true })
    ).pipe(Effect.withSpan("Container.killAll", { attributes: { host } }))

    yield* Effect.addFinalizer(() => killAll)

    const awaitReady = (
      plugin: Host.InstalledPlugin,
      driver: CallerDriver,
      process: PluginProcess,
      target: CallTarget,
      scope: Scope.Scope
    ) =>
      Effect.gen(function*() {
        let lastError = "no attempt finished yet"
        const waited = Duration.toMillis(Duration.seconds(plugin.spec.exec_time))
        const exited = Effect.flatMap(process.awaitExit, (info) =>
          new PluginExited({
            host,
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
        return yield* Effect.raceFirst(ready, exited).pipe(
          Effect.timeoutFail({
            duration: Duration.millis(waited),
            onTimeout: () =>
              new PluginNotReady({
                host,
                plugin: plugin.name,
                waitedMillis: waited,
                lastError,
                lastStderr: process.stderrTail()
              })
          })
        )
      })

    const start = (plugin: Host.InstalledPlugin, driver: CallerDriver, scope: Scope.Scope) =>
      Effect.gen(function*() {
        const port = driver.usesPort
          ? configuredPort(plugin.spec) ??
            (yield* Effect.mapError(freePort, (reason) =>
              new PluginStartError({ host, plugin: plugin.name, exec: plugin.exec, reason })))
          : undefined
        const args = argsWithPort(plugin.spec.exec_args, port)
        const env: Record<string, string> = { GOPLUGIN_HOST: host, GOPLUGIN_PLUGIN: plugin.name }
        if (port !== undefined) env["GOPLUGIN_PORT"] = String(port)
        const startProcess = (collectStdout?: number) =>
          registry.start({ host, plugin: plugin.name, exec: plugin.exec, args, cwd: plugin.cwd, env, grace, collectStdout })
        const target: CallTarget = {
          host,
          plugin: plugin.name,
          port,
          timeout: callTimeoutOf(installed.config, plugin.spec),
          maxResponseBytes: options.maxResponseBytes,
          exec: plugin.exec,
          args,
          cwd: plugin.cwd,
          verify: verifyCached(plugin.name, plugin.execFile, plugin.spec).pipe(Effect.provideService(Md5Checker, checker)),
          start: (startOptions) => startProcess(startOptions.collectStdout)
        }
        if (!driver.longLived) {
          const caller = yield* Scope.extend(driver.make(target), scope)
          return { name: plugin.name, caller, process: undefined, port } satisfies RunningPlugin
        }
        const process = yield* Scope.extend(startProcess(), scope)
        const caller = yield* awaitReady(plugin, driver, process, target, scope)
        yield* Effect.logDebug(`ready on port ${port}`).pipe(
          Effect.annotateLogs({ host, plugin: plugin.name, pid: process.pid })
        )
        return { name: plugin.name, caller, process, port } satisfies RunningPlugin
      })

    const run = Effect.fn("Container.run")(function*(name: string) {
      const existing = slots.get(name)
      if (existing !== undefined) {
        return yield* new PluginAlreadyRunning({ host, plugin: name, pid: existing.running?.process?.pid ?? 0 })
      }
      const plugin = yield* Either.match(Host.lookup(installed, name), { onLeft: Effect.fail, onRight: Effect.succeed })
      const driver = yield* factory.driverFor(name, plugin.spec.comm_type)
      const scope = yield* Scope.make()
      const slot: Slot = { scope }
      slots.set(name, slot)
      const started = yield* Host.reverify(plugin).pipe(
        Effect.provideService(Md5Checker, checker),
        Effect.zipRight(start(plugin, driver, scope)),
        Effect.onExit((exit) =>
          Exit.isSuccess(exit)
            ? Effect.void
            : Effect.zipRight(Effect.sync(() => slots.delete(name)), Scope.close(scope, exit))
        )
      )
      slot.running = started
      return started.caller
    })

    const lookupRunning = (name: string) =>
      Option.fromNullable(slots.get(name)?.running).pipe(
        Effect.mapError(() => new PluginNotRunning({ host, plugin: name }))
      )

    return {
      host,
      installed,
      run,
      caller: (name) => Effect.map(lookupRunning(name), (running) => running.caller),
      kill: (name) => Effect.zipRight(lookupRunning(name), release(name)),
      killAll,
      running: Effect.sync(() =>
        Array.from(slots.values()).flatMap((slot) => (slot.running === undefined ? [] : [slot.running]))
      )
    } satisfies Container
  })
