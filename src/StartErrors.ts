/**
 * Errors of one domain: choosing, starting and reaching a plugin of a host.
 * Import them from `PluginError.js`, which re-exports every module of errors.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { Strings, tail, list } from "./internal/errorText.js"
import type { VerifyError } from "./VerifyErrors.js"

/** The host name has no `[hosts.<name>]` entry in the config. */
export class HostNotFound extends Schema.TaggedError<HostNotFound>()("HostNotFound", {
  file: Schema.String,
  host: Schema.String,
  known: Strings,
  cause: Schema.optional(Schema.Defect)
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
  known: Strings,
  cause: Schema.optional(Schema.Defect)
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
  allowed: Strings,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `Host "${this.host}" is not allowed to use plugin "${this.plugin}" ` +
      `(it may use: ${list(this.allowed)}). Add "${this.plugin}" to [hosts.${this.host}].plugins if it should.`
  }
}

/** The operating system refused to start the plugin's process. */
export class PluginStartError extends Schema.TaggedError<PluginStartError>()("PluginStartError", {
  host: Schema.String,
  plugin: Schema.String,
  exec: Schema.String,
  /** What went wrong, in words (a system error, what was looked for). */
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `Host "${this.host}" could not start plugin "${this.plugin}" (${this.exec}): ${this.detail}. ` +
      `Check that the file is executable and its interpreter exists.`
  }
}

/**
 * The plugin's port is held by a process outside the plugin's process group: nothing (no token, no
 * Ping, no payload) was sent to it.
 *
 * @since 0.2.0
 */
export class PortInUse extends Schema.TaggedError<PortInUse>()("PortInUse", {
  host: Schema.String,
  plugin: Schema.String,
  port: Schema.Number,
  /** The process listening on the port, when the host can see it. */
  squatterPid: Schema.optional(Schema.Number),
  /** When the squatter was found: before the plugin was started, or after, in place of the plugin. */
  found: Schema.Literal("before-start", "after-start"),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const who = this.squatterPid === undefined ? "another process" : `process ${this.squatterPid}`
    const when = this.found === "before-start"
      ? "before the plugin was started"
      : "instead of the plugin, which started but does not own that listener"
    return `Plugin "${this.plugin}" (host "${this.host}"): port ${this.port} is held by ${who}, found ${when}. ` +
      `Nothing was sent to it. Stop that process, or set a free comm_port (or none, to let the host pick one).`
  }
}

/** The plugin started but did not answer a Ping within its `exec_time`. */
export class PluginNotReady extends Schema.TaggedError<PluginNotReady>()("PluginNotReady", {
  host: Schema.String,
  plugin: Schema.String,
  waitedMillis: Schema.Number,
  lastError: Schema.String,
  lastStderr: Strings,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const seen = /[.?!]$/.test(this.lastError) ? this.lastError : `${this.lastError}.`
    return `Plugin "${this.plugin}" (host "${this.host}") was not ready within ${this.waitedMillis} ms of its ` +
      `start (exec_time) and was stopped; the last thing seen: ${seen} Raise exec_time in ` +
      `[plugins.${this.plugin}] if it needs longer, or check that it listens where the host looks for it ` +
      `(the port given by --port; for a go-plugin binary, the address in its handshake line) and answers ` +
      `Ping.${tail(this.lastStderr)}`
  }
}

/** The plugin's process exited (at start, or while it was expected to run). */
export class PluginExited extends Schema.TaggedError<PluginExited>()("PluginExited", {
  host: Schema.String,
  plugin: Schema.String,
  pid: Schema.Number,
  exitCode: Schema.NullOr(Schema.Number),
  signal: Schema.NullOr(Schema.String),
  lastStderr: Strings,
  cause: Schema.optional(Schema.Defect)
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
  /** The running process; absent for plugins started once per call (stdio). */
  pid: Schema.optional(Schema.Number),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const where = this.pid === undefined ? "one process per call" : `pid ${this.pid}`
    return `Plugin "${this.plugin}" already runs in this container of host "${this.host}" (${where}). ` +
      `Use container.caller("${this.plugin}") to reach it, or kill it first.`
  }
}

/** A caller was asked for a plugin that this container does not run. */
export class PluginNotRunning extends Schema.TaggedError<PluginNotRunning>()("PluginNotRunning", {
  host: Schema.String,
  plugin: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `Plugin "${this.plugin}" is not running in this container of host "${this.host}". ` +
      `Start it with container.run("${this.plugin}").`
  }
}

/**
 * The plugin's driver (its launcher or transport) failed unexpectedly while starting it: a defect, such
 * as an exception thrown by a custom driver, kept as the cause with its stack. The start's resources
 * (the process, its connection) were released.
 *
 * @since 0.2.0
 */
export class DriverFailed extends Schema.TaggedError<DriverFailed>()("DriverFailed", {
  host: Schema.String,
  plugin: Schema.String,
  commType: Schema.String,
  /** The defect, in words. */
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `Host "${this.host}" could not start plugin "${this.plugin}": its comm_type "${this.commType}" driver failed ` +
      `unexpectedly (${this.detail}). This is a bug in the driver, not in the plugin: report it to the driver's author ` +
      `with the stack of this error's cause.`
  }
}

/** No caller driver is registered for the plugin's `comm_type`. */
export class UnsupportedProtocol extends Schema.TaggedError<UnsupportedProtocol>()("UnsupportedProtocol", {
  plugin: Schema.String,
  commType: Schema.String,
  known: Strings,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `Plugin "${this.plugin}" uses comm_type "${this.commType}", which has no driver ` +
      `(drivers: ${list(this.known)}). Change comm_type, or provide a driver: GoPlugin.layer({ drivers }).`
  }
}

/** Every error that starting a plugin can produce. */
export type StartError =
  | VerifyError
  | PluginNotFound
  | PluginNotAllowed
  | PluginStartError
  | DriverFailed
  | PortInUse
  | PluginNotReady
  | PluginExited
  | PluginAlreadyRunning
  | UnsupportedProtocol
