/**
 * The typed shape of `config.toml`: `[meta]`, `[settings]`, `[plugins.<name>]` and `[hosts.<name>]`,
 * decoded with `effect`'s `Schema`. See `docs/configuration.md` for every field.
 *
 * @since 0.1.0
 */
import { Duration, Schema } from "effect"
import { GoPluginSettings } from "./goplugin/GoPluginSettings.js"

const hexDigest = (length: number, name: string) =>
  Schema.String.pipe(
    Schema.pattern(new RegExp(`^[0-9a-fA-F]{${length}}$`), {
      message: () => `expected ${name}: ${length} hexadecimal characters`
    })
  )

const Seconds = Schema.Number.pipe(
  Schema.greaterThan(0, { message: () => "expected a number of seconds greater than 0" })
)

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
    version: Schema.optional(Schema.String),
    author: Schema.optional(Schema.String),
    contributors: Schema.optional(Schema.Array(Schema.String))
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

const Count = Schema.Int.pipe(Schema.positive({ message: () => "expected a whole number greater than 0" }))

/** `[settings]`: defaults for every plugin. Times are in seconds. */
export const Settings = Schema.Struct({
  debug: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** Time limit of one call (a plugin's own `call_timeout` overrides it). */
  call_timeout: Schema.optionalWith(Seconds, { default: () => 5 }),
  /** Time between SIGTERM and SIGKILL when a plugin is stopped. */
  stop_grace: Schema.optionalWith(Seconds, { default: () => 2 }),
  /** Largest answer accepted from a plugin, in bytes. */
  max_response_bytes: Schema.optionalWith(Count, { default: () => 64 * 1024 * 1024 }),
  /** Restart plugins that exit or stop answering (a plugin's own `restart` overrides it). */
  restart: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** Time between health Pings of a running plugin. */
  health_interval: Schema.optionalWith(Seconds, { default: () => 5 }),
  /** A health Ping slower than this counts as failed. */
  health_timeout: Schema.optionalWith(Seconds, { default: () => 2 }),
  /** Failed health Pings in a row that make a plugin unhealthy (it is then restarted). */
  unhealthy_after: Schema.optionalWith(Count, { default: () => 3 }),
  /** Restarts allowed within `restart_window` before the supervisor gives up. */
  max_restarts: Schema.optionalWith(Count, { default: () => 5 }),
  /** The crash budget's window. */
  restart_window: Schema.optionalWith(Seconds, { default: () => 60 })
})
/** The decoded `[settings]` table. */
export type Settings = typeof Settings.Type

/** `[plugins.<name>]`: one plugin executable and how to reach it. */
export const PluginSpec = Schema.Struct({
  author: Schema.optional(Schema.String),
  md5: hexDigest(32, "an md5 digest"),
  sha256: Schema.optional(hexDigest(64, "a sha256 digest")),
  exec: Schema.NonEmptyTrimmedString,
  exec_args: Schema.optionalWith(Schema.Array(Schema.String), { default: () => [] }),
  exec_file: Schema.optional(Schema.NonEmptyTrimmedString),
  exec_time: Schema.optionalWith(Seconds, { default: () => 5 }),
  comm_type: Schema.NonEmptyTrimmedString,
  comm_port: Schema.optional(CommPort),
  call_timeout: Schema.optional(Seconds),
  restart: Schema.optional(Schema.Boolean),
  go_plugin: Schema.optional(GoPluginSettings)
})
/** The decoded `[plugins.<name>]` table. */
export type PluginSpec = typeof PluginSpec.Type

/** `[hosts.<name>]`: the plugins a host may use (its ACL). */
export const HostSpec = Schema.Struct({
  plugins: Schema.Array(Schema.String)
})
/** The decoded `[hosts.<name>]` table. */
export type HostSpec = typeof HostSpec.Type

/** The whole file as TOML gives it; `file` and `dir` are added after decoding. */
export const PluginConfigFile = Schema.Struct({
  meta: Schema.optionalWith(Meta, { default: () => ({}) }),
  settings: Schema.optionalWith(Settings, { default: () => Settings.make({}) }),
  plugins: Schema.optionalWith(Schema.Record({ key: Schema.String, value: PluginSpec }), { default: () => ({}) }),
  hosts: Schema.optionalWith(Schema.Record({ key: Schema.String, value: HostSpec }), { default: () => ({}) })
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
  Duration.seconds(spec.call_timeout ?? config.settings.call_timeout)

/** The port a plugin is told to use: an explicit `--port` in `exec_args` wins over `comm_port`. */
export const configuredPort = (spec: PluginSpec): number | undefined => {
  const fromArgs = portInArgs(spec.exec_args)
  if (fromArgs !== undefined) return fromArgs
  return spec.comm_port === undefined || spec.comm_port === 0 ? undefined : spec.comm_port
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
