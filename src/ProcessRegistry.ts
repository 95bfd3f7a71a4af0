/**
 * Starts, tracks and stops plugin processes. Every process is a scoped resource in its own process
 * group: closing its scope stops it and its children (SIGTERM, grace, SIGKILL, wait). The registry's
 * own scope kills whatever is still running when the application ends.
 *
 * @since 0.1.0
 */
import { Context, Deferred, Duration, Effect, Layer, Runtime, type Scope } from "effect"
import {
  type CollectedOutput,
  type ExitInfo,
  type GroupChild,
  outputClosedWithin,
  spawnGroup,
  stopGroup,
  terminateGroup
} from "./internal/processGroup.js"
import { PluginStartError } from "./PluginError.js"

export type { CollectedOutput, ExitInfo } from "./internal/processGroup.js"

/** What to start. `env` is added to the host's own environment. */
export interface StartRequest {
  readonly host: string
  readonly plugin: string
  readonly exec: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  /** How long to wait after SIGTERM before SIGKILL. */
  readonly grace: Duration.DurationInput
  /**
   * Collect stdout as bytes, up to this many, instead of logging its lines: for transports whose
   * answer is the process's stdout (stdio).
   */
  readonly collectStdout?: number | undefined
  /** Receives every output line instead of the log (transports that read stdout, e.g. go-plugin's handshake). */
  readonly onLine?: ((stream: "stdout" | "stderr", line: string) => void) | undefined
}

/** A running (or exited) plugin process. */
export interface PluginProcess {
  /** Registry-wide id, stable for the process's life. */
  readonly id: number
  readonly host: string
  readonly plugin: string
  readonly pid: number
  /** Waits for the process to exit. */
  readonly awaitExit: Effect.Effect<ExitInfo>
  /** The exit status if the process has exited. */
  readonly exitStatus: () => ExitInfo | undefined
  /** The last lines the process wrote to stderr. */
  readonly stderrTail: () => ReadonlyArray<string>
  /** Writes bytes to the process's stdin and closes it (one request, then end-of-file). */
  readonly send: (bytes: Uint8Array) => Effect.Effect<void>
  /** With `collectStdout`: the bytes written to stdout so far (complete once `awaitExit` returns). */
  readonly collectedStdout: () => CollectedOutput
  /** Stops the process group; idempotent, and every caller waits for the same stop. */
  readonly stop: Effect.Effect<ExitInfo>
  /**
   * Sends the stop signal (stdin closed, SIGTERM to the group) without waiting, so that stopping many
   * processes lets all of them shut down at once; `stop` then waits.
   */
  readonly terminate: () => void
}

/** Tracks plugin processes and stops them. */
export class ProcessRegistry extends Context.Tag("goplugin-effect/ProcessRegistry")<ProcessRegistry, {
  /** Starts a process whose lifetime is the current scope. */
  readonly start: (request: StartRequest) => Effect.Effect<PluginProcess, PluginStartError, Scope.Scope>
  /** Stops one process by registry id; `false` if no such process runs. */
  readonly kill: (id: number) => Effect.Effect<boolean>
  /** Stops every process concurrently; returns how many were stopped. */
  readonly killAll: Effect.Effect<number>
  /** The processes currently tracked. */
  readonly list: Effect.Effect<ReadonlyArray<PluginProcess>>
}>() {}

const toProcess = (
  id: number,
  request: StartRequest,
  group: GroupChild,
  onStopped: () => void
): Effect.Effect<PluginProcess> =>
  Effect.map(Deferred.make<ExitInfo>(), (stopped) => {
    let stopping = false
    const stop = Effect.suspend(() => {
      if (stopping) return Deferred.await(stopped)
      stopping = true
      return stopGroup(group, request.grace).pipe(
        Effect.tap((info) => Deferred.succeed(stopped, info)),
        Effect.ensuring(Effect.sync(onStopped)),
        Effect.withSpan("ProcessRegistry.stop", { attributes: { plugin: request.plugin, pid: group.pid } })
      )
    })
    return {
      id,
      host: request.host,
      plugin: request.plugin,
      pid: group.pid,
      // 'exit' can precede the last stderr chunk; give the pipes a moment so error messages carry every line.
      awaitExit: Deferred.await(group.exit).pipe(Effect.zipLeft(outputClosedWithin(group, 100))),
      exitStatus: group.exited,
      stderrTail: group.stderrTail,
      send: (bytes) => Effect.sync(() => group.child.stdin?.end(bytes)),
      terminate: () => terminateGroup(group),
      collectedStdout: group.collectedStdout,
      stop
    }
  })

/** Builds a registry; its scope's end kills every process it still tracks. */
export const make = Effect.gen(function*() {
  const processes = new Map<number, PluginProcess>()
  let nextId = 1

  const killAll = Effect.suspend(() => {
    const all = Array.from(processes.values())
    for (const p of all) p.terminate()
    return Effect.forEach(all, (p) => p.stop, { concurrency: "unbounded", discard: true }).pipe(Effect.as(all.length))
  }).pipe(Effect.withSpan("ProcessRegistry.killAll"))

  yield* Effect.addFinalizer(() => killAll)

  const start = Effect.fn("ProcessRegistry.start")(function*(request: StartRequest) {
    const runtime = yield* Effect.runtime<never>()
    const runLog = Runtime.runSync(runtime)
    const id = nextId++
    let pid = 0
    const onLine = request.onLine ?? ((stream: "stdout" | "stderr", line: string) =>
      runLog(
        Effect.logInfo(line).pipe(
          Effect.annotateLogs({ host: request.host, plugin: request.plugin, pid, stream })
        )
      ))
    const acquire = spawnGroup({
      exec: request.exec,
      args: request.args,
      cwd: request.cwd,
      env: { ...process.env, ...request.env },
      collectStdout: request.collectStdout,
      onLine
    }).pipe(
      Effect.mapError((reason) =>
        new PluginStartError({ host: request.host, plugin: request.plugin, exec: request.exec, reason })
      ),
      Effect.flatMap((group) => {
        pid = group.pid
        return toProcess(id, request, group, () => processes.delete(id))
      }),
      Effect.tap((p) => {
        processes.set(id, p)
        return Effect.logDebug(`started ${request.exec} ${request.args.join(" ")}`).pipe(
          Effect.annotateLogs({ host: request.host, plugin: request.plugin, pid: p.pid })
        )
      })
    )
    return yield* Effect.acquireRelease(acquire, (p) => p.stop)
  })

  return ProcessRegistry.of({
    start,
    kill: (id) => {
      const p = processes.get(id)
      return p === undefined ? Effect.succeed(false) : Effect.as(p.stop, true)
    },
    killAll,
    list: Effect.sync(() => Array.from(processes.values()))
  })
})

/** The registry as a scoped layer: when the layer is released, every tracked process is stopped. */
export const layer: Layer.Layer<ProcessRegistry> = Layer.scoped(ProcessRegistry, make)
