/**
 * Every failure a user of goplugin-effect can meet, as tagged errors carrying the context needed to
 * act on them. Each message says what went wrong, where, and what to do about it.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"

const Strings = Schema.Array(Schema.String)

const tail = (lines: ReadonlyArray<string>): string =>
  lines.length === 0 ? " It wrote nothing to stderr." : `\nLast stderr lines:\n  ${lines.join("\n  ")}`

const list = (names: ReadonlyArray<string>): string => (names.length === 0 ? "(none)" : names.join(", "))

/** No config file was found at any of the places looked at. */
export class ConfigNotFound extends Schema.TaggedError<ConfigNotFound>()("ConfigNotFound", {
  tried: Strings,
  reason: Schema.String
}) {
  override get message(): string {
    return `No goplugin config file found (${this.reason}). Looked at: ${list(this.tried)}. ` +
      `Create config.toml there, or set GOPLUGIN_DIR to the folder (or .toml file) that holds it.`
  }
}

/** The config file is not valid TOML. */
export class ConfigParseError extends Schema.TaggedError<ConfigParseError>()("ConfigParseError", {
  file: Schema.String,
  line: Schema.Number,
  column: Schema.Number,
  problem: Schema.String,
  excerpt: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return `${this.file}:${this.line}:${this.column}: TOML syntax error: ${this.problem}. ` +
      `Fix the file at that line and column.${this.excerpt === undefined ? "" : `\n${this.excerpt}`}`
  }
}

/** The config file is valid TOML but a field is missing, has the wrong type, or refers to nothing. */
export class ConfigInvalid extends Schema.TaggedError<ConfigInvalid>()("ConfigInvalid", {
  file: Schema.String,
  path: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `${this.file}: invalid config at ${this.path || "(top level)"}: ${this.problem}`
  }
}

/** A file could not be read (checksums, manifests). */
export class FileUnreadable extends Schema.TaggedError<FileUnreadable>()("FileUnreadable", {
  file: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `Cannot read ${this.file}: ${this.reason}. Check that the file exists and is readable.`
  }
}

/** The host name has no `[hosts.<name>]` entry in the config. */
export class HostNotFound extends Schema.TaggedError<HostNotFound>()("HostNotFound", {
  file: Schema.String,
  host: Schema.String,
  known: Strings
}) {
  override get message(): string {
    return `Host "${this.host}" is not defined in ${this.file} (hosts defined: ${list(this.known)}). ` +
      `Add a [hosts.${this.host}] table with its plugins list.`
  }
}

/** The plugin name has no `[plugins.<name>]` entry in the config. */
export class PluginNotFound extends Schema.TaggedError<PluginNotFound>()("PluginNotFound", {
  host: Schema.String,
  plugin: Schema.String,
  known: Strings
}) {
  override get message(): string {
    return `Plugin "${this.plugin}" (asked for by host "${this.host}") is not defined ` +
      `(plugins defined: ${list(this.known)}). Add a [plugins.${this.plugin}] table to the config.`
  }
}

/** The plugin exists but the host's ACL (`[hosts.<name>].plugins`) does not list it. */
export class PluginNotAllowed extends Schema.TaggedError<PluginNotAllowed>()("PluginNotAllowed", {
  host: Schema.String,
  plugin: Schema.String,
  allowed: Strings
}) {
  override get message(): string {
    return `Host "${this.host}" is not allowed to use plugin "${this.plugin}" ` +
      `(it may use: ${list(this.allowed)}). Add "${this.plugin}" to [hosts.${this.host}].plugins if it should.`
  }
}

/** The plugin's `exec` (or `exec_file`) does not resolve to an existing file. */
export class ExecutableNotFound extends Schema.TaggedError<ExecutableNotFound>()("ExecutableNotFound", {
  plugin: Schema.String,
  field: Schema.Literal("exec", "exec_file"),
  value: Schema.String,
  tried: Strings
}) {
  override get message(): string {
    return `Plugin "${this.plugin}": ${this.field} "${this.value}" was not found (looked at: ${list(this.tried)}). ` +
      `Use an absolute path, a path relative to the config file's folder, or a command on PATH.`
  }
}

/** The executable's digest differs from the one in the config: it may have been changed or replaced. */
export class ChecksumMismatch extends Schema.TaggedError<ChecksumMismatch>()("ChecksumMismatch", {
  plugin: Schema.String,
  file: Schema.String,
  algorithm: Schema.Literal("md5", "sha256"),
  expected: Schema.String,
  actual: Schema.String
}) {
  override get message(): string {
    return `Plugin "${this.plugin}": ${this.algorithm} of ${this.file} is ${this.actual}, but the config expects ` +
      `${this.expected}. The file changed since it was registered; if the change is trusted, update ` +
      `${this.algorithm} in [plugins.${this.plugin}] (goplugin md5 <file> prints it).`
  }
}

/** The operating system refused to start the plugin's process. */
export class PluginStartError extends Schema.TaggedError<PluginStartError>()("PluginStartError", {
  host: Schema.String,
  plugin: Schema.String,
  exec: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `Host "${this.host}" could not start plugin "${this.plugin}" (${this.exec}): ${this.reason}. ` +
      `Check that the file is executable and its interpreter exists.`
  }
}

/** The plugin started but did not answer a Ping within its `exec_time`. */
export class PluginNotReady extends Schema.TaggedError<PluginNotReady>()("PluginNotReady", {
  host: Schema.String,
  plugin: Schema.String,
  waitedMillis: Schema.Number,
  lastError: Schema.String,
  lastStderr: Strings
}) {
  override get message(): string {
    return `Plugin "${this.plugin}" (host "${this.host}") did not answer Ping within ${this.waitedMillis} ms ` +
      `(last attempt: ${this.lastError}); it was stopped. Raise exec_time in [plugins.${this.plugin}] if it ` +
      `needs longer, or check that it listens on the port given by --port.${tail(this.lastStderr)}`
  }
}

/** The plugin's process exited (at start, or while it was expected to run). */
export class PluginExited extends Schema.TaggedError<PluginExited>()("PluginExited", {
  host: Schema.String,
  plugin: Schema.String,
  pid: Schema.Number,
  exitCode: Schema.NullOr(Schema.Number),
  signal: Schema.NullOr(Schema.String),
  lastStderr: Strings
}) {
  override get message(): string {
    const how = this.signal !== null ? `was killed by ${this.signal}` : `exited with code ${this.exitCode}`
    return `Plugin "${this.plugin}" (host "${this.host}", pid ${this.pid}) ${how}.${tail(this.lastStderr)}`
  }
}

/** `run` was asked for a plugin that this container already runs. */
export class PluginAlreadyRunning extends Schema.TaggedError<PluginAlreadyRunning>()("PluginAlreadyRunning", {
  host: Schema.String,
  plugin: Schema.String,
  pid: Schema.Number
}) {
  override get message(): string {
    return `Plugin "${this.plugin}" already runs in this container of host "${this.host}" (pid ${this.pid}). ` +
      `Use container.caller("${this.plugin}") to reach it, or kill it first.`
  }
}

/** A caller was asked for a plugin that this container does not run. */
export class PluginNotRunning extends Schema.TaggedError<PluginNotRunning>()("PluginNotRunning", {
  host: Schema.String,
  plugin: Schema.String
}) {
  override get message(): string {
    return `Plugin "${this.plugin}" is not running in this container of host "${this.host}". ` +
      `Start it with container.run("${this.plugin}").`
  }
}

/** No caller driver is registered for the plugin's `comm_type`. */
export class UnsupportedProtocol extends Schema.TaggedError<UnsupportedProtocol>()("UnsupportedProtocol", {
  plugin: Schema.String,
  commType: Schema.String,
  known: Strings
}) {
  override get message(): string {
    return `Plugin "${this.plugin}" uses comm_type "${this.commType}", which has no driver ` +
      `(drivers: ${list(this.known)}). Change comm_type, or provide a driver with CallerFactory.withDriver.`
  }
}

/** Why a call failed: the kind decides what a caller may reasonably do next. */
export const CallFailure = Schema.Literal(
  "connect",
  "timeout",
  "status",
  "protocol",
  "remote",
  "interrupted",
  "exited",
  "refused"
)

/** A Ping or Exec call to a running plugin failed. Exec is never retried automatically. */
export class CallError extends Schema.TaggedError<CallError>()("CallError", {
  host: Schema.String,
  plugin: Schema.String,
  operation: Schema.Literal("ping", "exec"),
  command: Schema.optional(Schema.String),
  reason: CallFailure,
  detail: Schema.String
}) {
  override get message(): string {
    const what = this.operation === "exec" ? `exec "${this.command ?? ""}"` : "ping"
    const advice: Record<typeof this.reason, string> = {
      connect: "Is the plugin still running and listening?",
      timeout: "Raise the call timeout if the command is slow, or check the plugin for a hang.",
      status: "The plugin answered with an unexpected status.",
      protocol: "The plugin's answer does not follow the wire protocol (docs/protocol.md).",
      remote: "The plugin reported this failure itself.",
      interrupted: "The call was cancelled before it finished.",
      exited: "The plugin's process ended without a valid answer; its stderr is in the host's log.",
      refused: "The plugin was not started: fix what the detail names first."
    }
    return `Plugin "${this.plugin}" (host "${this.host}"): ${what} failed (${this.reason}): ${this.detail}. ` +
      advice[this.reason]
  }
}

/**
 * For plugin authors using the SDK: a handler fails with this to answer an error to the host.
 * `kind` picks the wire status (REST 400/404/500, gRPC INVALID_ARGUMENT/NOT_FOUND/INTERNAL).
 */
export class CommandFailed extends Schema.TaggedError<CommandFailed>()("CommandFailed", {
  command: Schema.String,
  kind: Schema.Literal("invalid_argument", "not_found", "internal"),
  detail: Schema.String
}) {
  override get message(): string {
    return `command "${this.command}" failed: ${this.detail}`
  }
}

/** Every error that discovering and installing plugins can produce. */
export type ConfigError = ConfigNotFound | ConfigParseError | ConfigInvalid

/** Every error that verifying a plugin's executable can produce. */
export type VerifyError = ExecutableNotFound | ChecksumMismatch | FileUnreadable

/** Every error that starting a plugin can produce. */
export type StartError =
  | VerifyError
  | PluginNotFound
  | PluginNotAllowed
  | PluginStartError
  | PluginNotReady
  | PluginExited
  | PluginAlreadyRunning
  | UnsupportedProtocol
