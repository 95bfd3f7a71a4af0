/**
 * The shape of `config.toml`: `[meta]`, `[settings]`, `[plugins.<name>]` and `[hosts.<name>]`. The
 * schemas' encoded side is the TOML as written (snake_case keys, times in seconds); their decoded side
 * is the domain model the rest of the library uses (camelCase, `Duration`s). The file is decoded once,
 * by `Discover`, and nothing below it sees seconds or snake_case. Encoding a decoded config gives the
 * TOML shape back (with every default filled in). See `docs/configuration.md` for every field.
 *
 * @since 0.1.0
 */
import { Duration, Schema } from "effect"
import { GoPluginSettings } from "./goplugin/GoPluginSettings.js"
import { Seconds } from "./internal/seconds.js"

const hexDigest = (length: number, name: string) =>
  Schema.String.pipe(
    Schema.pattern(new RegExp(`^[0-9a-fA-F]{${length}}$`), {
      message: () => `expected ${name}: ${length} hexadecimal characters`
    })
  )

/** Times in seconds decoded as `Duration`s, and their upper bound (defined beside the protocol tables that use them too). */
export { maxDurationMillis, Seconds } from "./internal/seconds.js"

/**
 * A port as the spec writes it (the string "8080") or as a TOML integer; "0" or omitted means "pick a
 * free port at start".
 */
export const CommPort = Schema.Union(
  Schema.Int.pipe(Schema.between(0, 65535, { message: () => "expected a port number from 0 to 65535" })),
  Schema.NumberFromString.pipe(
    Schema.int(),
    Schema.between(0, 65535, { message: () => "expected a port number from 0 to 65535" })
  )
)

/** `[meta]`: free-form information about the config; unknown keys are kept. */
export const Meta = Schema.Struct(
  {
    version: Schema.optionalWith(Schema.String, { exact: true }),
    author: Schema.optionalWith(Schema.String, { exact: true }),
    contributors: Schema.optionalWith(Schema.Array(Schema.String), { exact: true })
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

const Count = Schema.Int.pipe(Schema.positive({ message: () => "expected a whole number greater than 0" }))

/** An optional TOML key `key` with a default, decoded under another (camelCase) name. */
const withDefault = <A, I, R>(schema: Schema.Schema<A, I, R>, key: string, value: () => A) =>
  Schema.optionalWith(schema, { default: value, exact: true }).pipe(Schema.fromKey(key))

/** `[settings]`: defaults for every plugin. Times are written in seconds and decoded as `Duration`s. */
export const Settings = Schema.Struct({
  debug: Schema.optionalWith(Schema.Boolean, { default: () => false, exact: true }),
  /** The minimum level of log lines, plugin lines included; unset leaves the host's own minimum. */
  logLevel: Schema.optionalWith(
    Schema.Literal("trace", "debug", "info", "warn", "warning", "error", "fatal", "none"),
    { exact: true }
  ).pipe(Schema.fromKey("log_level")),
  /** Time limit of one call (a plugin's own `call_timeout` overrides it). */
  callTimeout: withDefault(Seconds, "call_timeout", () => Duration.seconds(5)),
  /** Time between SIGTERM and SIGKILL when a plugin is stopped. */
  stopGrace: withDefault(Seconds, "stop_grace", () => Duration.seconds(2)),
  /** Largest answer accepted from a plugin, in bytes. */
  maxResponseBytes: withDefault(Count, "max_response_bytes", () => 64 * 1024 * 1024),
  /** Restart plugins that exit or stop answering (a plugin's own `restart` overrides it). */
  restart: Schema.optionalWith(Schema.Boolean, { default: () => true, exact: true }),
  /** Time between health Pings of a running plugin. */
  healthInterval: withDefault(Seconds, "health_interval", () => Duration.seconds(5)),
  /** A health Ping slower than this counts as failed. */
  healthTimeout: withDefault(Seconds, "health_timeout", () => Duration.seconds(2)),
  /** Failed health Pings in a row that make a plugin unhealthy (it is then restarted). */
  unhealthyAfter: withDefault(Count, "unhealthy_after", () => 3),
  /** Restarts allowed within `restart_window` before the supervisor gives up. */
  maxRestarts: withDefault(Count, "max_restarts", () => 5),
  /** The crash budget's window. */
  restartWindow: withDefault(Seconds, "restart_window", () => Duration.seconds(60)),
  /** How many plugins of one container may be starting at once (default: twice the CPU count, at least 4). */
  startConcurrency: Schema.optionalWith(Count, { exact: true }).pipe(Schema.fromKey("start_concurrency"))
})
/** The decoded `[settings]` table. */
export type Settings = typeof Settings.Type

/** `[plugins.<name>]`: one plugin executable and how to reach it. */
export const PluginSpec = Schema.Struct({
  author: Schema.optionalWith(Schema.String, { exact: true }),
  md5: hexDigest(32, "an md5 digest"),
  sha256: Schema.optionalWith(hexDigest(64, "a sha256 digest"), { exact: true }),
  exec: Schema.NonEmptyTrimmedString,
  /** Arguments given to `exec`. */
  execArgs: withDefault(Schema.Array(Schema.String), "exec_args", () => []),
  /** The file whose checksum is verified, when it is not `exec` itself (a script run by an interpreter). */
  execFile: Schema.optionalWith(Schema.NonEmptyTrimmedString, { exact: true }).pipe(Schema.fromKey("exec_file")),
  /** How long the plugin may take to answer its first Ping. */
  execTime: withDefault(Seconds, "exec_time", () => Duration.seconds(5)),
  /** The transport: `grpc`, `rest` or `stdio` (or a driver's own name). */
  commType: Schema.propertySignature(Schema.NonEmptyTrimmedString).pipe(Schema.fromKey("comm_type")),
  /** The port to listen on; 0 or absent picks a free one (see {@link configuredPort}). */
  commPort: Schema.optionalWith(CommPort, { exact: true }).pipe(Schema.fromKey("comm_port")),
  /** This plugin's call time limit, overriding `[settings] call_timeout`. */
  callTimeout: Schema.optionalWith(Seconds, { exact: true }).pipe(Schema.fromKey("call_timeout")),
  restart: Schema.optionalWith(Schema.Boolean, { exact: true }),
  /** `[plugins.<name>.go_plugin]`: the go-plugin handshake and services, for `comm_type = "go-plugin"`. */
  goPlugin: Schema.optionalWith(GoPluginSettings, { exact: true }).pipe(Schema.fromKey("go_plugin"))
})
/** The decoded `[plugins.<name>]` table. */
export type PluginSpec = typeof PluginSpec.Type

/** `[hosts.<name>]`: the plugins a host may use (its ACL). */
export const HostSpec = Schema.Struct({
  plugins: Schema.Array(Schema.String)
})
/** The decoded `[hosts.<name>]` table. */
export type HostSpec = typeof HostSpec.Type

/** The whole file; `file` and `dir` are added after decoding. */
export const PluginConfigFile = Schema.Struct({
  meta: Schema.optionalWith(Meta, { default: () => ({}), exact: true }),
  settings: Schema.optionalWith(Settings, { default: () => Settings.make({}), exact: true }),
  plugins: Schema.optionalWith(Schema.Record({ key: Schema.String, value: PluginSpec }), { default: () => ({}), exact: true }),
  hosts: Schema.optionalWith(Schema.Record({ key: Schema.String, value: HostSpec }), { default: () => ({}), exact: true })
})

/** A decoded config, with the absolute path of the file it came from. */
export interface PluginConfig extends Schema.Schema.Type<typeof PluginConfigFile> {
  /** Absolute path of the config file. */
  readonly file: string
  /** Its folder: relative `exec` and `exec_file` paths resolve against it, and plugins start in it. */
  readonly dir: string
}

/** How long a call to this plugin may take before it fails with a timeout. */
export const callTimeoutOf = (config: PluginConfig, spec: PluginSpec): Duration.Duration =>
  spec.callTimeout ?? config.settings.callTimeout

/** The port a plugin is told to use: an explicit `--port` in `exec_args` wins over `comm_port`. */
export const configuredPort = (spec: PluginSpec): number | undefined => {
  const fromArgs = portInArgs(spec.execArgs)
  if (fromArgs !== undefined) return fromArgs
  return spec.commPort === undefined || spec.commPort === 0 ? undefined : spec.commPort
}

/** The value of `--port N` or `--port=N` in an argument list, if any. */
export const portInArgs = (args: ReadonlyArray<string>): number | undefined => {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    const raw = arg === "--port" ? args[i + 1] : arg.startsWith("--port=") ? arg.slice(7) : undefined
    if (raw !== undefined) {
      const port = Number(raw)
      return Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined
    }
  }
  return undefined
}

/** Whether the argument list already carries a `--port` flag. */
export const hasPortArg = (args: ReadonlyArray<string>): boolean =>
  args.some((arg) => arg === "--port" || arg.startsWith("--port="))
