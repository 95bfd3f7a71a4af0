/**
 * One line of a go-plugin plugin's stderr read as a log entry, as go-plugin's own host reads it: hclog
 * JSON lines (`@level`, `@message`, `@module`, `@timestamp`, then fields) at their level; other lines at
 * the level of a `[TRACE]`…`[ERROR]` prefix, else debug; and once a line starts with `panic: ` or
 * `fatal error: ` (a Go crash), that line and every later one at error.
 *
 * @since 0.2.0
 */
import * as LogLevel from "effect/LogLevel"

/** A log entry read from one stderr line. */
export interface HclogEntry {
  readonly level: LogLevel.LogLevel
  readonly message: string
  /** `@module`, `@timestamp` and the entry's own key/value pairs. */
  readonly fields: Readonly<Record<string, unknown>>
}

/** Whether the lines read so far included a Go crash: then every later line is an error. */
export interface HclogState {
  readonly crashed: boolean
}

/** The state before the first line. */
export const initial: HclogState = { crashed: false }

const levels: Readonly<Record<string, LogLevel.LogLevel>> = {
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  warning: LogLevel.Warning,
  error: LogLevel.Error
}

const prefixes: ReadonlyArray<readonly [string, LogLevel.LogLevel]> = [
  ["[TRACE]", LogLevel.Trace],
  ["[DEBUG]", LogLevel.Debug],
  ["[INFO]", LogLevel.Info],
  ["[WARN]", LogLevel.Warning],
  ["[ERR]", LogLevel.Error],
  ["[ERROR]", LogLevel.Error]
]

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const fromJson = (line: string): HclogEntry | undefined => {
  if (!line.startsWith("{")) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return undefined
  }
  if (!isRecord(parsed)) return undefined
  const { "@level": level, "@message": message, ...rest } = parsed
  const fields: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(rest)) fields[key.startsWith("@") ? key.slice(1) : key] = value
  return {
    level: (typeof level === "string" ? levels[level.toLowerCase()] : undefined) ?? LogLevel.Debug,
    message: typeof message === "string" ? message : "",
    fields
  }
}

/**
 * Reads one line given the state left by the previous ones; answers the entry and the next state.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const [entry] = readLine(`{"@level":"warn","@message":"slow","@module":"kv","ms":12}`, initial)
 * // entry: { level: LogLevel.Warning, message: "slow", fields: { module: "kv", ms: 12 } }
 * ```
 */
export const readLine = (line: string, state: HclogState): readonly [HclogEntry, HclogState] => {
  if (state.crashed) return [{ level: LogLevel.Error, message: line, fields: {} }, state]
  if (line.startsWith("panic: ") || line.startsWith("fatal error: ")) {
    return [{ level: LogLevel.Error, message: line, fields: {} }, { crashed: true }]
  }
  const json = fromJson(line)
  if (json !== undefined) return [json, state]
  const prefix = prefixes.find(([p]) => line.startsWith(p))
  return [{ level: prefix?.[1] ?? LogLevel.Debug, message: line, fields: {} }, state]
}

/**
 * A reader of one output's lines (one process's stderr, one stdio channel): {@link readLine} on each,
 * in order, with the state (a Go crash seen) carried from line to line.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const read = reader()
 * read("panic: runtime error") // level Error
 * read(`{"@level":"info","@message":"after the panic"}`) // level Error too: the plugin crashed
 * ```
 */
export const reader = (): ((line: string) => HclogEntry) => {
  let state = initial
  return (line) => {
    const [entry, next] = readLine(line, state)
    state = next
    return entry
  }
}
