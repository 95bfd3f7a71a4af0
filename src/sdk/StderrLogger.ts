/**
 * Plugins log to stderr only: stdout is the answer channel of stdio plugins, and the host mirrors every
 * stderr line as a log line of the plugin.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"

const text = (message: unknown): string =>
  Array.isArray(message)
    ? message.map(text).join(" ")
    : typeof message === "string"
    ? message
    : Inspectable.toStringUnknown(message, 0)

/** A logger that writes `LEVEL message key=value…` lines, then any cause, to the process's stderr. */
export const stderrLogger: Logger.Logger<unknown, void> = Logger.make(({ annotations, cause, logLevel, message }) => {
  let line = `${logLevel.label} ${text(message)}`
  for (const [key, value] of HashMap.toEntries(annotations)) {
    line += ` ${key}=${typeof value === "string" ? value : Inspectable.toStringUnknown(value, 0)}`
  }
  if (!Cause.isEmpty(cause)) line += `\n${Cause.pretty(cause, { renderErrorCause: true })}`
  process.stderr.write(`${line}\n`)
})

/**
 * Replaces Effect's default logger (which writes to stdout) with `stderrLogger`. Marked pure so that a
 * bundle which never uses it (a stdio plugin, see `StdioMain`) leaves Layer's machinery out.
 */
export const stderrLoggerLayer: Layer.Layer<never> = /* @__PURE__ */ Logger.replace(Logger.defaultLogger, stderrLogger)

/**
 * `effect` with `stderrLogger` in place of Effect's default logger, without building a Layer.
 *
 * @since 0.2.0
 */
export const withStderrLogger = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.locallyWith(
    effect,
    FiberRef.currentLoggers,
    (loggers) => HashSet.add(HashSet.remove(loggers, Logger.defaultLogger), stderrLogger)
  )
