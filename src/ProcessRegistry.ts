/**
 * Starts, tracks and stops plugin processes. Every process is a scoped resource in its own process
 * group: closing its scope stops it and its children (SIGTERM, grace, SIGKILL, wait). The registry's
 * own scope kills whatever is still running when the application ends.
 *
 * Output is read as lines (`internal/outputLines`) and logged one entry per line, annotated with host,
 * plugin, pid and stream. The lines are logged outside any span: Effect's tracer logger appends every
 * log entry to the current span's events, and a span that lives as long as a chatty plugin would keep
 * every line.
 *
 * @since 0.1.0
 */
import { Context, Deferred, Duration, Effect, ExecutionStrategy, Exit, HashMap, Layer, LogLevel, MutableRef, Option, Ref, Runtime, Scope } from "effect"
import { withoutParentSpan } from "./internal/callSpan.js"
import { type CollectedOutput, type ExitInfo, spawnGroup, stopGroup, terminateGroup } from "./internal/processGroup.js"
import * as OrphanGuardModule from "./internal/orphanGuard.js"
import type { OrphanGuard } from "./internal/orphanGuard.js"
import { entryLogger, readLines } from "./internal/outputLines.js"
import { logParsedLine, parsePluginLogLine, type PluginLogLine } from "./internal/pluginLogLine.js"
import { PluginExited, PluginStartError } from "./PluginError.js"

export type { CollectedOutput, ExitInfo } from "./internal/processGroup.js"

/**
 * What to start. `env` is added to the host's own environment.
 *
 * @since 0.1.0
 */
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
   * answer is the process's stdout (stdio). Passing the limit stops the process at once.
   */
  readonly collectStdout?: number | undefined
  /** The first stdout line is the plugin's announcement (e.g. an address), read by `announced`; later lines are logged. */
  readonly announce?: boolean | undefined
  /**
   * How the plugin's stderr lines become log entries, for protocols with a log format of their own
   * (go-plugin's hclog, where every line after a Go panic is an error): called once per process for
   * a reader of its lines, in order, which may keep state across them. Default: {@link parsePluginLogLine}
   * on each line.
   */
  readonly stderrEntries?: (() => (line: string) => PluginLogLine) | undefined
}

/**
 * A running (or exited) plugin process.
 *
 * @since 0.1.0
 */
export interface PluginProcess {
  /** Registry-wide id, stable for the process's life. */
  readonly id: number
  readonly host: string
  readonly plugin: string
  readonly pid: number
  /** Waits for the process to exit (and, for a moment, for its last output lines). */
  readonly awaitExit: Effect.Effect<ExitInfo>
  /** The exit status if the process has exited. */
  readonly exitStatus: () => ExitInfo | undefined
  /** The last lines the process wrote to stderr, oldest first. */
  readonly stderrTail: Effect.Effect<ReadonlyArray<string>>
  /** With `announce`: the first stdout line, or why there is none (stdout closed, or the process exited, first). */
  readonly announced: Effect.Effect<string, string>
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
  readonly terminate: Effect.Effect<void>
}

/**
 * Tracks plugin processes and stops them.
 *
 * @since 0.1.0
 */
export class ProcessRegistry extends Context.Tag("goplugin-effect/ProcessRegistry")<ProcessRegistry, {
  /** Starts a process whose lifetime is the current scope. */
  readonly start: (request: StartRequest) => Effect.Effect<PluginProcess, PluginStartError, Scope.Scope>
  /** Stops one process by registry id; `false` if no such process runs. */
  readonly kill: (id: number) => Effect.Effect<boolean>
  /** Stops every process concurrently; returns how many were stopped. */
  readonly killAll: Effect.Effect<number>
  /** The processes currently tracked. */
  readonly list: Effect.Effect<ReadonlyArray<PluginProcess>>
  /** The orphan guard's pid (started with the first plugin, or by this query); none when it is off or could not start. */
  readonly orphanGuardPid: Effect.Effect<Option.Option<number>>
}>() {}

/** How many stderr lines a process keeps for error messages. */
const TAIL_LINES = 20

/** How long `awaitExit` waits for the output readers after the exit, so errors carry every last line. */
const OUTPUT_SETTLE_MILLIS = 100

/** What a reader that ended with an error logs (the lines before it were logged). */
const readerEnded = (what: string, error: Error) => Effect.logDebug(`${what} reader ended with an error: ${error.message}`)

/**
 * Fails with `PluginExited` (exit status and last stderr lines) once the process exits: raced against
 * a start, it turns an early death into the error that says why.
 *
 * @since 0.2.0
 */
export const exitFailure = (process: PluginProcess): Effect.Effect<never, PluginExited> =>
  Effect.flatMap(process.awaitExit, (info) =>
    Effect.flatMap(process.stderrTail, (lastStderr) =>
      new PluginExited({
        host: process.host,
        plugin: process.plugin,
        pid: process.pid,
        exitCode: info.code,
        signal: info.signal,
        lastStderr
      })))

/**
 * The process's announcement (its first stdout line, see `StartRequest.announce`), or why there is
 * none. A plugin that refuses to run closes stdout as it exits, and its exit (with its stderr) says more
 * than "no line": unless the line came, the exit is awaited for a second (it is immediate when the
 * process has exited) and reported as `PluginExited`, before `noLine` is used.
 *
 * @since 0.2.0
 */
export const announcement = <E>(
  process: PluginProcess,
  noLine: (problem: string) => E
): Effect.Effect<string, E | PluginExited> =>
  Effect.catchAll(process.announced, (problem) =>
    exitFailure(process).pipe(Effect.timeoutFail({ duration: Duration.seconds(1), onTimeout: () => noLine(problem) })))

/**
 * Adds a finalizer that gives the process up to `grace` to exit by itself, for protocols whose own
 * shutdown (closed by a finalizer added after this one, so it runs first) ends the plugin. The
 * registry's stop (SIGTERM, grace, SIGKILL), added before, runs after it.
 *
 * @since 0.2.0
 */
export const letExitOnItsOwn = (process: PluginProcess, grace: Duration.DurationInput): Effect.Effect<void, never, Scope.Scope> =>
  // Finalizers are uninterruptible; the wait must not be, or the timeout could not end it.
  Effect.addFinalizer(() => process.awaitExit.pipe(Effect.interruptible, Effect.timeout(grace), Effect.ignore))

/**
 * Options of a registry.
 *
 * @since 0.2.0
 */
export interface RegistryOptions {
  /**
   * Start the orphan guard (default true): a tiny `sh` process that SIGKILLs every plugin's process
   * group if the host dies without stopping them, even by SIGKILL. See docs/security.md.
   */
  readonly orphanGuard?: boolean | undefined
}

/**
 * Builds a registry; its scope's end kills every process it still tracks.
 *
 * @since 0.2.0
 */
export const makeWith = (options: RegistryOptions = {}) => Effect.gen(function*() {
  const processes = yield* Ref.make(HashMap.empty<number, PluginProcess>())
  const ids = yield* Ref.make(1)
  // Forked before killAll's finalizer is added, so it closes after it: by then every group is stopped
  // and unlisted, and the guard just exits.
  const guardScope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
  const noGuard: Effect.Effect<Option.Option<OrphanGuard>> = Effect.succeed(Option.none())
  const guard = options.orphanGuard === false ? noGuard : yield* Effect.cached(
    Scope.extend(OrphanGuardModule.make, guardScope).pipe(
      Effect.map(Option.some),
      Effect.catchAll((reason) => Effect.as(Effect.logWarning(`${reason}; plugins may outlive a host killed by SIGKILL`), Option.none()))
    )
  )
  const withGuard = (tell: (guard: OrphanGuard) => Effect.Effect<void>) =>
    Effect.flatMap(guard, Option.match({ onNone: () => Effect.void, onSome: tell }))

  const killAll = Effect.gen(function*() {
    const all = Array.from(HashMap.values(yield* Ref.get(processes)))
    yield* Effect.forEach(all, (p) => p.terminate, { discard: true })
    yield* Effect.forEach(all, (p) => p.stop, { concurrency: "unbounded", discard: true })
    return all.length
  }).pipe(Effect.withSpan("ProcessRegistry.killAll"))

  yield* Effect.addFinalizer(() => killAll)

  const spawn = (request: StartRequest) =>
    Effect.gen(function*() {
      const id = yield* Ref.getAndUpdate(ids, (n) => n + 1)
      const stopped = yield* Deferred.make<ExitInfo>()
      const stopStarted = yield* Ref.make(false)
      // Written by the stderr callback, read by error messages.
      const tail = MutableRef.make<ReadonlyArray<string>>([])
      const announcement = yield* Deferred.make<string, string>()
      const group = yield* spawnGroup({
        exec: request.exec,
        args: request.args,
        cwd: request.cwd,
        env: { ...process.env, ...request.env },
        collectStdout: request.collectStdout
      }).pipe(
        Effect.mapError((reason) => new PluginStartError({ host: request.host, plugin: request.plugin, exec: request.exec, detail: reason }))
      )
      const pid = group.pid
      yield* withGuard((g) => g.watch(pid))
      // Lines are logged by the start's runtime (its logger, level and annotations), outside its span.
      const runtime = yield* withoutParentSpan(Effect.runtime<never>())
      const logEntries = entryLogger(runtime)
      const stderrDone = yield* Deferred.make<void>()
      const stdoutDone = yield* Deferred.make<void>()
      const ended = (what: "stdout" | "stderr", done: Deferred.Deferred<void>) => (error: Error | undefined) => {
        if (error !== undefined) Runtime.runFork(runtime)(readerEnded(what, error))
        Deferred.unsafeDone(done, Exit.void)
      }
      const stderrSource = { host: request.host, plugin: request.plugin, pid, stream: "stderr" } as const
      const entryOf = request.stderrEntries?.() ?? ((line: string) => parsePluginLogLine(line))
      readLines(group.child.stderr!, (lines) => {
        MutableRef.update(tail, (kept) => [...kept, ...lines].slice(-TAIL_LINES))
        // Read here, in order, so that a reader's state follows the lines as they came.
        logEntries(lines.map(entryOf), (entry) => logParsedLine(stderrSource, entry))
      }, ended("stderr", stderrDone))
      if (request.collectStdout !== undefined) {
        Deferred.unsafeDone(stdoutDone, Exit.void)
      } else {
        const stdoutSource = { host: request.host, plugin: request.plugin, pid, stream: "stdout" } as const
        let awaitingAnnouncement = request.announce === true
        readLines(group.child.stdout!, (lines) => {
          let logged = lines
          if (awaitingAnnouncement) {
            awaitingAnnouncement = false
            Deferred.unsafeDone(announcement, Exit.succeed(lines[0]!))
            logged = lines.slice(1)
          }
          logEntries(logged.map((line) => parsePluginLogLine(line)), (entry) => logParsedLine(stdoutSource, entry))
        }, (error) => {
          Deferred.unsafeDone(announcement, Exit.fail("the plugin closed its stdout without announcing anything"))
          ended("stdout", stdoutDone)(error)
        })
        // Waiting for the line ends with the process (a line it wrote just before is still read for a
        // moment, as the exit waits for output): `announcement` then reports the exit.
        group.child.once("exit", () =>
          setTimeout(
            () => Deferred.unsafeDone(announcement, Exit.fail("the plugin exited without announcing anything")),
            OUTPUT_SETTLE_MILLIS
          ).unref())
      }
      const stop = Effect.flatMap(Ref.getAndSet(stopStarted, true), (already) =>
        already
          ? Deferred.await(stopped)
          : stopGroup(group, request.grace).pipe(
            Effect.tap((info) => Deferred.succeed(stopped, info)),
            Effect.ensuring(Effect.zipRight(Ref.update(processes, HashMap.remove(id)), withGuard((g) => g.unwatch(pid)))),
            Effect.withSpan("ProcessRegistry.stop", { attributes: { plugin: request.plugin, pid } })
          ))
      const handle: PluginProcess = {
        id,
        host: request.host,
        plugin: request.plugin,
        pid,
        awaitExit: Deferred.await(group.exit).pipe(
          Effect.zipLeft(
            Effect.timeout(Effect.zip(Deferred.await(stderrDone), Deferred.await(stdoutDone)), Duration.millis(OUTPUT_SETTLE_MILLIS)).pipe(
              Effect.ignore
            )
          )
        ),
        exitStatus: group.exited,
        stderrTail: Effect.sync(() => MutableRef.get(tail)),
        announced: Deferred.await(announcement),
        send: (bytes) => Effect.sync(() => group.child.stdin?.end(bytes)),
        terminate: Effect.sync(() => terminateGroup(group)),
        collectedStdout: group.collectedStdout,
        stop
      }
      yield* Ref.update(processes, HashMap.set(id, handle))
      // Checked first: the annotations cost more than the log when it is dropped.
      yield* Effect.whenLogLevel(
        Effect.logDebug(`started ${request.exec} ${request.args.join(" ")}`).pipe(
          Effect.annotateLogs({ host: request.host, plugin: request.plugin, pid })
        ),
        LogLevel.Debug
      )
      return handle
    })

  const start = Effect.fn("ProcessRegistry.start")(function*(request: StartRequest) {
    return yield* Effect.acquireRelease(spawn(request), (p) => p.stop)
  })

  return ProcessRegistry.of({
    start,
    kill: (id) =>
      Effect.flatMap(Ref.get(processes), (map) =>
        Option.match(HashMap.get(map, id), { onNone: () => Effect.succeed(false), onSome: (p) => Effect.as(p.stop, true) })),
    killAll,
    list: Effect.map(Ref.get(processes), (map) => Array.from(HashMap.values(map))),
    orphanGuardPid: options.orphanGuard === false ? Effect.succeedNone : Effect.map(guard, Option.map((g) => g.pid))
  })
})

/**
 * A registry with the default options (orphan guard on).
 *
 * @since 0.1.0
 */
export const make = makeWith()

/**
 * The registry as a scoped layer: when the layer is released, every tracked process is stopped.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<ProcessRegistry> = Layer.scoped(ProcessRegistry, make)

/**
 * A registry layer with options, e.g. `{ orphanGuard: false }`.
 *
 * @since 0.2.0
 */
export const layerWith = (options: RegistryOptions): Layer.Layer<ProcessRegistry> => Layer.scoped(ProcessRegistry, makeWith(options))
