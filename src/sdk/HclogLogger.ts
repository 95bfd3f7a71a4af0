/**
 * A logger writing hclog JSON lines to stderr (`@level`, `@message`, `@module`, `@timestamp`, then the
 * annotations), the format a go-plugin host turns back into log entries at their level.
 *
 * @since 0.2.0
 */
import * as Cause from "effect/Cause"
import * as HashMap from "effect/HashMap"
import * as Inspectable from "effect/Inspectable"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import type * as LogLevel from "effect/LogLevel"

const hclogLevels: Readonly<Record<LogLevel.LogLevel["_tag"], string>> = {
  All: "trace",
  Trace: "trace",
  Debug: "debug",
  Info: "info",
  Warning: "warn",
  Error: "error",
  Fatal: "error",
  None: "error"
}

const text = (message: unknown): string =>
  Array.isArray(message) ? message.map(text).join(" ") : typeof message === "string" ? message : Inspectable.toStringUnknown(message, 0)

/**
 * One hclog JSON line (without the newline).
 *
 * @since 0.2.0
 */
export const hclogLine = (
  module: string,
  level: LogLevel.LogLevel,
  message: unknown,
  fields: Iterable<readonly [string, unknown]>,
  date: Date
): string => {
  const entry: Record<string, unknown> = {
    "@level": hclogLevels[level._tag],
    "@message": text(message),
    "@module": module,
    "@timestamp": date.toISOString().replace("Z", "000Z")
  }
  // go-plugin's host reads these four keys with Go type assertions to string: an annotation of the same
  // name (a number, say) would panic its log reader, so annotations never replace them.
  for (const [key, value] of fields) entry[key in entry ? `_${key}` : key] = value
  return JSON.stringify(entry, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value))
}

/**
 * The logger; `module` names the plugin in every line.
 *
 * @since 0.2.0
 */
export const hclogLogger = (module: string): Logger.Logger<unknown, void> =>
  Logger.make(({ annotations, cause, date, logLevel, message }) => {
    const fields: Array<readonly [string, unknown]> = [...HashMap.toEntries(annotations)]
    if (!Cause.isEmpty(cause)) fields.push(["error", Cause.pretty(cause)])
    process.stderr.write(`${hclogLine(module, logLevel, message, fields, date)}\n`)
  })

/**
 * Replaces Effect's default logger (which writes to stdout, the handshake channel) with `hclogLogger`.
 *
 * @since 0.2.0
 */
export const hclogLoggerLayer = (module: string): Layer.Layer<never> => Logger.replace(Logger.defaultLogger, hclogLogger(module))
