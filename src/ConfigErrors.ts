/**
 * Errors of one domain: the config file: finding, reading, parsing, decoding and writing it.
 * Import them from `PluginError.js`, which re-exports every module of errors.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { Strings, list } from "./internal/errorText.js"

/** No config file was found at any of the places looked at. */
export class ConfigNotFound extends Schema.TaggedError<ConfigNotFound>()("ConfigNotFound", {
  tried: Strings,
  /** What went wrong, in words (a system error, what was looked for). */
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `No goplugin config file found (${this.detail}). Looked at: ${list(this.tried)}. ` +
      `Create config.toml there, or set GOPLUGIN_DIR to the folder (or .toml file) that holds it.`
  }
}

/**
 * Why a config file that exists cannot be used as text: it is a folder, the process may not read it,
 * it is not UTF-8, or reading it failed otherwise.
 *
 * @since 0.2.0
 */
export const ConfigUnreadableReason = Schema.Literal("directory", "permission", "encoding", "io")

/**
 * The config path exists but cannot be read as text.
 *
 * @since 0.2.0
 */
export class ConfigUnreadable extends Schema.TaggedError<ConfigUnreadable>()("ConfigUnreadable", {
  file: Schema.String,
  reason: ConfigUnreadableReason,
  /** What the system said, or where the first bad byte is. */
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const advice: Record<typeof this.reason, string> = {
      directory: "it is a folder, not a file. Point GOPLUGIN_DIR at the folder that holds config.toml, or at the .toml file itself",
      permission: "this process may not read it. Fix the file's permissions or owner",
      encoding: "it is not valid UTF-8, which TOML requires. Save it as UTF-8",
      io: "reading it failed. Check the disk and the path"
    }
    return `Cannot read the goplugin config ${this.file}: ${advice[this.reason]} (${this.detail}).`
  }
}

/** The config file is not valid TOML. */
export class ConfigParseError extends Schema.TaggedError<ConfigParseError>()("ConfigParseError", {
  file: Schema.String,
  line: Schema.Number,
  column: Schema.Number,
  problem: Schema.String,
  excerpt: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
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
  problem: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `${this.file}: invalid config at ${this.path || "(top level)"}: ${this.problem}`
  }
}

/** The config file (or its folder) could not be created or written. */
export class ConfigWriteError extends Schema.TaggedError<ConfigWriteError>()("ConfigWriteError", {
  file: Schema.String,
  /** What went wrong, in words (a system error, what was looked for). */
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `Cannot write ${this.file}: ${this.detail}. Check the folder's permissions, or point GOPLUGIN_DIR ` +
      `at a folder you can write to.`
  }
}

/** Every error that discovering and installing plugins can produce. */
export type ConfigError = ConfigNotFound | ConfigUnreadable | ConfigParseError | ConfigInvalid
