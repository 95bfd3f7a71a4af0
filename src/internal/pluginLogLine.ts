/**
 * Reads one line a plugin wrote (stderr, or stdout of a network plugin) as a log entry: its level,
 * its message and any fields it carries. Plugins log in many shapes; the ones recognised are
 *
 * - a level word first: `INFO listening`, `WARN: slow`, `error disk full` (the goplugin SDK, Python);
 * - a bracketed level, possibly after a timestamp: `[INFO] ready`, `2024-05-01T10:00:00Z [WARN]  x`
 *   (hclog's text format, many Go and shell loggers);
 * - a JSON object: hclog's `@level`/`@message`, or `level`/`msg`/`message`/`severity` (pino, bunyan,
 *   zap, slog), numeric pino levels included; the other keys become fields.
 *
 * Anything else is the whole line at the default level. Pure, so that it is tested without processes.
 *
 * @since 0.2.0
 */
import { Effect, LogLevel } from "effect"

/** One plugin line read as a log entry. */
export interface PluginLogLine {
  readonly level: LogLevel.LogLevel
  readonly message: string
  /** Extra fields of a structured (JSON) line, without its level, message and timestamp. */
  readonly fields: Readonly<Record<string, unknown>>
}

const levelByWord: Readonly<Record<string, LogLevel.LogLevel>> = {
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  dbg: LogLevel.Debug,
  info: LogLevel.Info,
  information: LogLevel.Info,
  notice: LogLevel.Info,
  warn: LogLevel.Warning,
  warning: LogLevel.Warning,
  error: LogLevel.Error,
  err: LogLevel.Error,
  fatal: LogLevel.Fatal,
  critical: LogLevel.Fatal,
  crit: LogLevel.Fatal,
  panic: LogLevel.Fatal
}

/** The Effect level a level word names (`INFO`, `warning`, `Err`…), if it names one. */
export const levelOfWord = (word: string): LogLevel.LogLevel | undefined =>
  Object.hasOwn(levelByWord, word.toLowerCase()) ? levelByWord[word.toLowerCase()] : undefined

/** pino and bunyan number their levels: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal. */
const levelOfNumber = (n: number): LogLevel.LogLevel =>
  n >= 60 ? LogLevel.Fatal : n >= 50 ? LogLevel.Error : n >= 40 ? LogLevel.Warning : n >= 30
  ? LogLevel.Info
  : n >= 20
  ? LogLevel.Debug
  : LogLevel.Trace

const levelKeys = ["@level", "level", "severity", "lvl"] as const
const messageKeys = ["@message", "msg", "message"] as const
const timestampKeys = ["@timestamp", "time", "timestamp", "ts"] as const

/** A timestamp, optionally followed by `[LEVEL]` or `LEVEL`: hclog and most text loggers. */
const timestamp = String.raw`(?:\d{4}-\d{2}-\d{2}[T ][\d:.,]+(?:Z|[+-]\d{2}:?\d{2})?\s+)?`
const bracketed = new RegExp(String.raw`^${timestamp}\[([A-Za-z]+)\]:?\s*(.*)$`, "s")
const leadingWord = new RegExp(String.raw`^${timestamp}([A-Za-z]+)(:?)(?:\s+(.*))?$`, "s")

const fromJson = (line: string, fallback: LogLevel.LogLevel): PluginLogLine | undefined => {
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return undefined
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined
  const record = parsed as Record<string, unknown>
  const levelKey = levelKeys.find((key) => key in record)
  const messageKey = messageKeys.find((key) => typeof record[key] === "string")
  if (levelKey === undefined && messageKey === undefined) return undefined
  const rawLevel = levelKey === undefined ? undefined : record[levelKey]
  const level = typeof rawLevel === "number"
    ? levelOfNumber(rawLevel)
    : typeof rawLevel === "string"
    ? levelOfWord(rawLevel) ?? fallback
    : fallback
  const fields: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(record)) {
    if (key !== levelKey && key !== messageKey && !(timestampKeys as ReadonlyArray<string>).includes(key)) {
      fields[key] = value
    }
  }
  return { level, message: messageKey === undefined ? "" : String(record[messageKey]), fields }
}

/**
 * Reads a plugin's line. `fallback` is the level of a line that names none (Info for the host's
 * default).
 */
export const parsePluginLogLine = (line: string, fallback: LogLevel.LogLevel = LogLevel.Info): PluginLogLine => {
  const trimmed = line.trimEnd()
  if (trimmed.startsWith("{")) {
    const structured = fromJson(trimmed, fallback)
    if (structured !== undefined) return structured
  }
  const inBrackets = bracketed.exec(trimmed)
  const level = inBrackets?.[1] === undefined ? undefined : levelOfWord(inBrackets[1])
  if (level !== undefined) return { level, message: inBrackets?.[2] ?? "", fields: {} }
  const [, word = "", colon = "", rest = ""] = leadingWord.exec(trimmed) ?? []
  const wordLevel = levelOfWord(word)
  // Only capitals or a colon make a leading word a level: "error handling is done" stays a message.
  if (wordLevel !== undefined && (word === word.toUpperCase() || colon !== "")) {
    return { level: wordLevel, message: rest, fields: {} }
  }
  return { level: fallback, message: trimmed, fields: {} }
}

/** Where a plugin line came from: the fields every one of its log lines carries. */
export interface PluginLineSource {
  readonly host: string
  readonly plugin: string
  readonly pid: number
  readonly stream: "stdout" | "stderr"
}

/** Logs one plugin line as one log entry, at the plugin's own level, annotated with where it came from. */
export const logPluginLine = (source: PluginLineSource, line: string): Effect.Effect<void> =>
  logParsedLine(source, parsePluginLogLine(line))

/** Logs a line already read as a log entry, annotated with where it came from. */
export const logParsedLine = (source: PluginLineSource, { fields, level, message }: PluginLogLine): Effect.Effect<void> =>
  Effect.logWithLevel(level, message).pipe(
    Effect.annotateLogs({ ...fields, host: source.host, plugin: source.plugin, pid: source.pid, stream: source.stream })
  )
