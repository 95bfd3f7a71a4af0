/**
 * A host's log, one line per entry: `[17:22:46.275] INFO  ts_rest pid=4242 host=demo: listening on …`.
 * Plugin lines carry their plugin, pid and host as fields of that same line; other annotations and
 * a plugin's JSON fields follow the message as `key=value`. Effect's own `Logger.logFmt` and
 * `Logger.json` layers work as well: every plugin line is one entry with the same annotations.
 *
 * @since 0.2.0
 */
import { Cause, HashMap, Inspectable, Layer, Logger, LogLevel } from "effect"
import { levelOfWord } from "./internal/pluginLogLine.js"
import type { Settings } from "./PluginConfig.js"

/** Options of {@link make} and {@link layer}. */
export interface HostLoggerOptions {
  /** Start each line with the local time (`[17:22:46.275]`); default true. */
  readonly time?: boolean | undefined
  /** Print the level in lower case in brackets (`[warn]`) instead of `WARN `; default false. */
  readonly compactLevel?: boolean | undefined
}

const valueText = (value: unknown): string => {
  const text = typeof value === "string" ? value : Inspectable.toStringUnknown(value, 0)
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text)
}

const messageText = (message: unknown): string =>
  (Array.isArray(message) ? message : [message])
    .map((part) => (typeof part === "string" ? part : Inspectable.toStringUnknown(part, 0)))
    .join(" ")
    .replace(/\r?\n/g, " | ")

const clock = (date: Date): string =>
  `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}:` +
  `${String(date.getSeconds()).padStart(2, "0")}.${String(date.getMilliseconds()).padStart(3, "0")}`

/** The fields a plugin line always has, printed first and in this order. */
const leading = ["plugin", "pid", "host"] as const

/**
 * The host log format as a `Logger` that returns the line (compose it with `Logger.withConsoleError`
 * or `Logger.withConsoleLog`).
 *
 * @since 0.2.0
 */
export const make = (options: HostLoggerOptions = {}): Logger.Logger<unknown, string> =>
  Logger.make(({ annotations, cause, date, logLevel, message }) => {
    const level = options.compactLevel === true ? `[${logLevel.label.toLowerCase()}]` : logLevel.label.padEnd(5)
    const parts: Array<string> = options.time === false ? [level] : [`[${clock(date)}]`, level]
    const plugin = HashMap.get(annotations, "plugin")
    if (plugin._tag === "Some") parts.push(String(plugin.value))
    for (const key of leading.slice(1)) {
      const value = HashMap.get(annotations, key)
      if (value._tag === "Some") parts.push(`${key}=${valueText(value.value)}`)
    }
    const fields: Array<string> = []
    for (const [key, value] of HashMap.toEntries(annotations)) {
      // stderr is where plugins log; only the unusual stdout is worth a field.
      if ((leading as ReadonlyArray<string>).includes(key) || (key === "stream" && value === "stderr")) continue
      fields.push(`${key}=${valueText(value)}`)
    }
    if (!Cause.isEmpty(cause)) fields.push(`cause=${JSON.stringify(Cause.pretty(cause))}`)
    const head = parts.join(" ")
    const text = messageText(message)
    return `${plugin._tag === "Some" ? `${head}:` : head} ${text}${fields.length > 0 ? ` ${fields.join(" ")}` : ""}`
  })

/**
 * The minimum level a `[settings] log_level` names (`"warn"` → `LogLevel.Warning`, `"none"` →
 * `LogLevel.None`).
 *
 * @since 0.2.0
 */
export const levelOfSetting = (setting: NonNullable<Settings["logLevel"]>): LogLevel.LogLevel =>
  setting === "none" ? LogLevel.None : levelOfWord(setting) ?? LogLevel.Info

/**
 * Replaces Effect's default logger (or the pretty one `NodeRuntime.runMain` installs) with the host
 * log format on stderr, and sets the minimum level when one is given.
 *
 * @example
 * ```ts
 * program.pipe(Effect.provide(HostLogger.layer({ minimumLevel: LogLevel.Debug })), NodeRuntime.runMain)
 * ```
 *
 * @since 0.2.0
 */
export const layer = (
  options: HostLoggerOptions & { readonly minimumLevel?: LogLevel.LogLevel | undefined } = {}
): Layer.Layer<never> => {
  // NodeRuntime.runMain swaps the default logger for the pretty one: replace whichever is there.
  const replaced = Layer.flatMap(
    Logger.remove(Logger.prettyLoggerDefault),
    () => Logger.replace(Logger.defaultLogger, Logger.withConsoleError(make(options)))
  )
  return options.minimumLevel === undefined ? replaced : Layer.merge(replaced, Logger.minimumLogLevel(options.minimumLevel))
}
