/**
 * What `goplugin up` does once its command line is parsed (upCommand.ts defines the command; this
 * module is loaded when it runs, see handledBy.ts).
 *
 * @since 0.2.0
 */
import { Console, Effect, FiberRef, HashMap, HashSet, Inspectable, Logger, LogLevel, Option, Stream } from "effect"
import type { Container } from "../Container.js"
import * as Executor from "../Executor.js"
import type { SupervisorEvent } from "../Supervisor.js"
import { colourAllowed } from "./helpText.js"
import { goPluginLayer } from "./libraryLayers.js"
import { logLevelGiven } from "./output.js"

/** ANSI colours for plugin prefixes, in order; none when stdout is not a terminal or NO_COLOR is set. */
const palette = [36, 33, 32, 35, 34, 31] as const

/** Prints `name | text` lines with one colour per plugin, names padded to the longest. */
const prefixer = (names: ReadonlyArray<string>) => {
  const width = Math.max(8, ...names.map((name) => name.length))
  const colour = colourAllowed()
  return (name: string, text: string): string => {
    const index = names.indexOf(name)
    const label = `${name.padEnd(width)} |`
    return colour && index >= 0 ? `\u001b[${palette[index % palette.length]}m${label}\u001b[0m ${text}` : `${label} ${text}`
  }
}

const describe = (event: SupervisorEvent): string => {
  switch (event._tag) {
    case "PluginCrashed":
      return `crashed: pid ${event.pid} ${event.signal !== null ? `killed by ${event.signal}` : `exited with code ${event.exitCode}`}`
    case "PluginUnhealthy":
      return `unhealthy: pid ${event.pid}: ${event.reason}`
    case "PluginRestarting":
      return `restarting (attempt ${event.attempt}, after ${event.delayMillis} ms)`
    case "PluginRestarted":
      return `restarted as pid ${event.pid} (attempt ${event.attempt})`
    case "PluginRestartFailed":
      return `restart attempt ${event.attempt} failed: ${event.error.message.split("\n")[0]}`
    case "PluginGaveUp":
      return `gave up after ${event.restarts} restarts: ${event.reason}`
  }
}

/** An event as a JSON line: its fields, with a start error reduced to its tag and message. */
const eventJson = (event: SupervisorEvent) =>
  JSON.stringify({
    type: "event",
    ...event,
    event: event._tag,
    ...(event._tag === "PluginRestartFailed" ? { error: { tag: event.error._tag, message: event.error.message } } : {})
  })

const text = (message: unknown): string =>
  (Array.isArray(message) ? message : [message]).map((part) => (typeof part === "string" ? part : Inspectable.toStringUnknown(part, 0)))
    .join(" ")

/**
 * The logger of `up`: plugin lines (they carry a `stream` annotation) get their plugin's prefix; the
 * container's own log of supervisor events is left out, since `up` prints the events themselves.
 */
const upLogger = (json: boolean, line: (name: string, text: string) => string) =>
  Logger.make<unknown, void>(({ annotations, logLevel, message }) => {
    const plugin = Option.getOrUndefined(HashMap.get(annotations, "plugin"))
    const stream = HashMap.has(annotations, "stream")
    if (plugin !== undefined && !stream) return
    const body = text(message)
    if (json) {
      const fields = Object.fromEntries(HashMap.toEntries(annotations))
      process.stdout.write(`${JSON.stringify({ type: "log", level: logLevel.label, message: body, ...fields })}\n`)
      return
    }
    const level = logLevel === LogLevel.Info ? "" : `${logLevel.label} `
    process.stdout.write(`${line(plugin === undefined ? "goplugin" : String(plugin), `${level}${body}`)}\n`)
  })

/** Starts the plugins one by one, prints events as they come and the ready line, then waits for a signal. */
const runAll = (
  container: Container,
  host: string,
  names: ReadonlyArray<string>,
  json: boolean,
  line: (name: string, text: string) => string
) =>
  Effect.gen(function*() {
    const print = (name: string, body: string) => Console.log(line(name, body))
    // Subscribed before the first plugin starts, so no event is missed.
    const events = yield* container.events
    yield* Effect.forkScoped(
      Stream.runForEach(events, (event) => json ? Console.log(eventJson(event)) : print(event.plugin, describe(event)))
    )
    for (const name of names) {
      yield* json ? Console.log(JSON.stringify({ type: "starting", host, plugin: name })) : print(name, "starting")
      yield* container.run(name)
    }
    const summary = (yield* container.running).map((p) => ({ plugin: p.name, pid: p.process?.pid ?? null, port: p.port ?? null }))
    yield* Console.log(
      json
        ? JSON.stringify({ type: "ready", host, plugins: summary })
        : `ready: ${
          summary.map((p) => `${p.plugin} (pid ${p.pid ?? "-"}${p.port === null ? "" : `, port ${p.port}`})`).join(", ")
        }; Ctrl-C stops them all`
    )
    return yield* Effect.never
  }).pipe(
    Effect.onInterrupt(() =>
      Console.log(json ? JSON.stringify({ type: "stopping", host }) : `stopping ${names.join(", ")}`)
    )
  )

/** `goplugin up <host> [plugin...]`. */
export const up = (
  { host, json, plugins }: { readonly host: string; readonly plugins: ReadonlyArray<string>; readonly json: boolean }
) =>
  Effect.gen(function*() {
    const container = yield* Executor.fromHost(host)
    const names = plugins.length > 0 ? plugins : container.installed.allowed
    const line = prefixer(names)
    yield* Effect.locally(
      runAll(container, host, names, json, line),
      FiberRef.currentLoggers,
      HashSet.make(upLogger(json, line))
    )
  }).pipe(
    Effect.scoped,
    Effect.provide(goPluginLayer),
    // Plugin lines are what `up` is for: Info unless --log-level or [settings] log_level say otherwise.
    (effect) =>
      Effect.flatMap(FiberRef.get(logLevelGiven), (given) => given ? effect : Logger.withMinimumLogLevel(effect, LogLevel.Info))
  )
