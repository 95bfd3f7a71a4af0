/**
 * Errors of one domain: plugin manifests and registering them in a config (`Manifest.ts`, `ConfigEditor.ts`).
 * Import them from `PluginError.js`, which re-exports every module of errors.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { Strings, list } from "./internal/errorText.js"

/** A plugin folder (or the path given to `goplugin register`) holds no `goplugin.toml` manifest. */
export class ManifestNotFound extends Schema.TaggedError<ManifestNotFound>()("ManifestNotFound", {
  path: Schema.String,
  /** What went wrong, in words (a system error, what was looked for). */
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `No plugin manifest at ${this.path} (${this.detail}). Pass the plugin's folder that holds ` +
      `goplugin.toml, or the manifest file itself (format: docs/cli.md, "Plugin manifest").`
  }
}

/** A plugin manifest is not valid TOML, a field is missing or wrong, or a path in it leads nowhere. */
export class ManifestInvalid extends Schema.TaggedError<ManifestInvalid>()("ManifestInvalid", {
  file: Schema.String,
  path: Schema.String,
  problem: Schema.String,
  cause: Schema.optional(Schema.Defect)
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
    actual: Schema.String,
    cause: Schema.optional(Schema.Defect)
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
  fields: Strings,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `${this.file}: plugin "${this.plugin}" is already registered with different ${list(this.fields)}. ` +
      `Pass --force to replace [plugins.${this.plugin}] with the manifest's, or rename the plugin in its manifest.`
  }
}
