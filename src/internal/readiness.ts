/**
 * Readiness of a freshly started plugin: first it listens (its port accepts a connection), then a
 * Ping succeeds. Both are polled every few milliseconds. Also the loopback free-port picker.
 *
 * @internal
 */
import { Duration, Effect, LogLevel, Ref, Schedule, type Scope } from "effect"
import * as net from "node:net"
import type { Generation } from "../CallerFactory.js"
import type { Launcher, LaunchPlan, Transport } from "../Launcher.js"
import { PluginNotReady, type StartError } from "../PluginError.js"
import { exitFailure, type PluginProcess } from "../ProcessRegistry.js"

/** One attempt to open a TCP connection to the loopback port; succeeds once something listens. */
export const portAccepts = (port: number): Effect.Effect<void, string> =>
  Effect.async<void, string>((resume) => {
    const socket = net.connect({ port, host: "127.0.0.1" })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.void)
    })
    socket.once("error", (error: NodeJS.ErrnoException) => {
      socket.destroy()
      resume(Effect.fail(`port ${port}: ${error.code ?? error.message}`))
    })
    return Effect.sync(() => socket.destroy())
  })

/** How often readiness is polled; small because a refused loopback connection costs microseconds. */
export const pollInterval = Schedule.spaced("2 millis")

/**
 * Starts one generation: launch, build its caller, and, when a process runs, wait until it listens
 * and answers Ping, racing its exit, all of it within `exec_time`. A plugin ready after 40 ms is
 * used after ~40 ms. On timeout the error says what was tried, for how long, and what it printed.
 */
export const startGeneration = <Target>(
  plan: LaunchPlan,
  launcher: Launcher<Target>,
  transport: Transport<Target>
): Effect.Effect<Generation, StartError, Scope.Scope> =>
  Effect.gen(function*() {
    const { host } = plan
    const plugin = plan.plugin.name
    const progress = yield* Ref.make(`waiting for the ${launcher.kind} launcher to start the process`)
    const started = yield* Ref.make<PluginProcess | undefined>(undefined)
    const note = (reason: string) => Ref.set(progress, reason)
    const attempt = Effect.gen(function*() {
      const launched = yield* launcher.launch(plan)
      const caller = yield* transport.make(launched.target)
      const process = launched.process
      if (process === undefined) return { caller, process, port: launched.port }
      yield* Ref.set(started, process)
      yield* note(`pid ${process.pid} started; waiting for it to listen`)
      const ready = launched.listening.pipe(
        Effect.tapError((reason) => (typeof reason === "string" ? note(`pid ${process.pid}: ${reason}`) : Effect.void)),
        Effect.retry({ schedule: pollInterval, while: (reason) => typeof reason === "string" }),
        Effect.catchIf((reason): reason is string => typeof reason === "string", Effect.die),
        Effect.zipRight(
          caller.ping.pipe(
            Effect.tapError((error) => note(`pid ${process.pid} listens but Ping failed: ${error.detail}`)),
            Effect.retry(pollInterval),
            Effect.orDie
          )
        )
      )
      yield* Effect.raceFirst(ready, exitFailure(process))
      yield* Effect.whenLogLevel(
        Effect.logDebug(`ready${launched.port === undefined ? "" : ` on port ${launched.port}`}`).pipe(
          Effect.annotateLogs({ host, plugin, pid: process.pid })
        ),
        LogLevel.Debug
      )
      return { caller, process, port: launched.port }
    })
    const waitedMillis = Duration.toMillis(plan.execTime)
    return yield* attempt.pipe(
      Effect.timeout(plan.execTime),
      Effect.catchTag("TimeoutException", () =>
        Effect.gen(function*() {
          const process = yield* Ref.get(started)
          return yield* new PluginNotReady({
            host,
            plugin,
            waitedMillis,
            lastError: yield* Ref.get(progress),
            lastStderr: process === undefined ? [] : yield* process.stderrTail
          })
        }))
    )
  })

/** Ports handed out recently, with when: a port is not handed out twice while its plugin may still be starting. */
const recentlyHandedOut = new Map<number, number>()
const REUSE_AFTER_MILLIS = 60_000

const bindEphemeral: Effect.Effect<number, string> = Effect.async<number, string>((resume) => {
  const server = net.createServer()
  server.unref()
  server.once("error", (error) => resume(Effect.fail(`cannot find a free port: ${error.message}`)))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/**
 * Asks the kernel for a free loopback port (bind port 0, release it). Two plugins started at the same
 * moment could otherwise be told the same port, so a port handed out in the last minute is skipped.
 */
export const freePort: Effect.Effect<number, string> = Effect.gen(function*() {
  const now = Date.now()
  for (const [port, at] of recentlyHandedOut) if (now - at > REUSE_AFTER_MILLIS) recentlyHandedOut.delete(port)
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = yield* bindEphemeral
    if (!recentlyHandedOut.has(port)) {
      recentlyHandedOut.set(port, now)
      return port
    }
  }
  return yield* Effect.fail("cannot find a free port: the kernel kept offering ports already handed out")
})
