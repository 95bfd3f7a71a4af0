/**
 * Errors of one domain: a plugin's executable: finding it and checking its digest.
 * Import them from `PluginError.js`, which re-exports every module of errors.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { Strings, list } from "./internal/errorText.js"

/** A file could not be read (checksums, manifests). */
export class FileUnreadable extends Schema.TaggedError<FileUnreadable>()("FileUnreadable", {
  file: Schema.String,
  /** What went wrong, in words (a system error, what was looked for). */
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `Cannot read ${this.file}: ${this.detail}. Check that the file exists and is readable.`
  }
}

/** The plugin's `exec` (or `exec_file`) does not resolve to an existing file. */
export class ExecutableNotFound extends Schema.TaggedError<ExecutableNotFound>()("ExecutableNotFound", {
  plugin: Schema.String,
  field: Schema.Literal("exec", "exec_file"),
  value: Schema.String,
  tried: Strings,
  cause: Schema.optional(Schema.Defect)
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
  manifestDir: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const fix = this.manifestDir === undefined
      ? `update ${this.algorithm} in [plugins.${this.plugin}] (goplugin md5 <file> prints it)`
      : `register it again: goplugin register ${this.manifestDir} --force`
    return `Plugin "${this.plugin}": ${this.algorithm} of ${this.file} is ${this.actual}, but the config expects ` +
      `${this.expected}. The file changed since it was registered; if the change is trusted, ${fix}.`
  }
}

/** Every error that verifying a plugin's executable can produce. */
export type VerifyError = ExecutableNotFound | ChecksumMismatch | FileUnreadable
