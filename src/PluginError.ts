/**
 * Every failure a user of goplugin-effect can meet, as tagged errors carrying the context needed to
 * act on them. Each message says what went wrong, where, and what to do about it.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

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
  actual: Schema.String,
  /** The folder of a plugin manifest (goplugin.toml) found beside the file: the plugin was likely registered from it. */
  manifestDir: Schema.optional(Schema.String)
}) {
  override get message(): string {
    const fix = this.manifestDir === undefined
      ? `update ${this.algorithm} in [plugins.${this.plugin}] (goplugin md5 <file> prints it)`
      : `register it again: goplugin register ${this.manifestDir} --force`
    return `Plugin "${this.plugin}": ${this.algorithm} of ${this.file} is ${this.actual}, but the config expects ` +
      `${this.expected}. The file changed since it was registered; if the change is trusted, ${fix}.`
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
  "refused",
  "restarting",
  "stopped"
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
      exited: "The plugin's process ended without a valid answer: its exit status and last stderr lines say why.",
      refused: "The plugin was not started: fix what the detail names first.",
      restarting: "The supervisor is restarting the plugin; retry later or raise the call timeout.",
      stopped: "The plugin is not running any more: run it again (container.run) once the cause is fixed."
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

// --- Pipelines (src/Pipeline.ts) ---

/** No pipeline file was found: neither the given path nor `pipeline.toml` in the folder or any folder above. */
export class PipelineNotFound extends Schema.TaggedError<PipelineNotFound>()("PipelineNotFound", {
  tried: Strings,
  reason: Schema.String
}) {
  override get message(): string {
    return `No pipeline file found (${this.reason}). Looked at: ${list(this.tried)}. ` +
      `Create pipeline.toml in the current folder or a parent folder, or pass the pipeline file's path.`
  }
}

/** The pipeline file is valid TOML but a key is missing, has the wrong type, or refers to nothing. */
export class PipelineInvalid extends Schema.TaggedError<PipelineInvalid>()("PipelineInvalid", {
  file: Schema.String,
  path: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `${this.file}: invalid pipeline at ${this.path || "(top level)"}: ${this.problem}`
  }
}

/** A `${...}` reference in a step's payload or config cannot be substituted. */
export class SubstitutionError extends Schema.TaggedError<SubstitutionError>()("SubstitutionError", {
  file: Schema.String,
  step: Schema.String,
  field: Schema.String,
  reference: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `${this.file}: step "${this.step}", ${this.field}: cannot substitute ${this.reference}: ${this.problem}`
  }
}

/** Steps use plugins of a host's config, but `Pipeline.run` was given no `Executor` (no config loaded). */
export class PipelineNeedsExecutor extends Schema.TaggedError<PipelineNeedsExecutor>()("PipelineNeedsExecutor", {
  file: Schema.String,
  host: Schema.String,
  plugins: Strings
}) {
  override get message(): string {
    return `${this.file}: steps use plugins ${list(this.plugins)} of host "${this.host}", but no goplugin config ` +
      `is loaded. Provide GoPlugin.layer() (it reads config.toml) to Pipeline.run, or declare those plugins ` +
      `inline under [plugins.<name>] in the pipeline file.`
  }
}

/** A step failed and stopped the pipeline, because it does not set `continue_on_error = true`. */
export class PipelineStepFailed extends Schema.TaggedError<PipelineStepFailed>()("PipelineStepFailed", {
  file: Schema.String,
  step: Schema.String,
  plugin: Schema.String,
  command: Schema.String,
  detail: Schema.String,
  skipped: Strings
}) {
  override get message(): string {
    const skipped = this.skipped.length === 0 ? "" : ` The steps after it were skipped: ${list(this.skipped)}.`
    return `${this.file}: step "${this.step}" (plugin "${this.plugin}", command "${this.command}") failed: ` +
      `${this.detail}${skipped} Fix the cause, or set continue_on_error = true on the step if the ` +
      `pipeline may go on without it.`
  }
}

/** A plugin folder (or the path given to `goplugin register`) holds no `goplugin.toml` manifest. */
export class ManifestNotFound extends Schema.TaggedError<ManifestNotFound>()("ManifestNotFound", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `No plugin manifest at ${this.path} (${this.reason}). Pass the plugin's folder that holds ` +
      `goplugin.toml, or the manifest file itself (format: docs/cli.md, "Plugin manifest").`
  }
}

/** A plugin manifest is not valid TOML, a field is missing or wrong, or a path in it leads nowhere. */
export class ManifestInvalid extends Schema.TaggedError<ManifestInvalid>()("ManifestInvalid", {
  file: Schema.String,
  path: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `${this.file}: invalid plugin manifest at ${this.path || "(top level)"}: ${this.problem}. ` +
      `Fix the manifest (relative paths in it resolve against its folder).`
  }
}

/** The file a manifest names hashes to something else than the digest the manifest's author claims. */
export class ManifestChecksumMismatch extends Schema.TaggedError<ManifestChecksumMismatch>()(
  "ManifestChecksumMismatch",
  {
    manifest: Schema.String,
    plugin: Schema.String,
    file: Schema.String,
    algorithm: Schema.Literal("md5", "sha256"),
    claimed: Schema.String,
    actual: Schema.String
  }
) {
  override get message(): string {
    return `${this.manifest}: plugin "${this.plugin}" claims ${this.algorithm} ${this.claimed} for ${this.file}, ` +
      `but the file's ${this.algorithm} is ${this.actual}: it is not the file the author shipped (or the ` +
      `manifest is stale). Rebuild or re-download the plugin; if you trust this file, register it with ` +
      `--trust-file and the actual digest is recorded.`
  }
}

/** `register` would replace a plugin entry that already exists with different settings. */
export class PluginConflict extends Schema.TaggedError<PluginConflict>()("PluginConflict", {
  file: Schema.String,
  plugin: Schema.String,
  fields: Strings
}) {
  override get message(): string {
    return `${this.file}: plugin "${this.plugin}" is already registered with different ${list(this.fields)}. ` +
      `Pass --force to replace [plugins.${this.plugin}] with the manifest's, or rename the plugin in its manifest.`
  }
}

/** The config file (or its folder) could not be created or written. */
export class ConfigWriteError extends Schema.TaggedError<ConfigWriteError>()("ConfigWriteError", {
  file: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `Cannot write ${this.file}: ${this.reason}. Check the folder's permissions, or point GOPLUGIN_DIR ` +
      `at a folder you can write to.`
  }
}
