/**
 * Errors of one domain: pipeline files (`Pipeline.ts`) and their steps.
 * Import them from `PluginError.js`, which re-exports every module of errors.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { Strings, list } from "./internal/errorText.js"

/** No pipeline file was found: neither the given path nor `pipeline.toml` in the folder or any folder above. */
export class PipelineNotFound extends Schema.TaggedError<PipelineNotFound>()("PipelineNotFound", {
  tried: Strings,
  /** What went wrong, in words (a system error, what was looked for). */
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `No pipeline file found (${this.detail}). Looked at: ${list(this.tried)}. ` +
      `Create pipeline.toml in the current folder or a parent folder, or pass the pipeline file's path.`
  }
}

/** The pipeline file is valid TOML but a key is missing, has the wrong type, or refers to nothing. */
export class PipelineInvalid extends Schema.TaggedError<PipelineInvalid>()("PipelineInvalid", {
  file: Schema.String,
  path: Schema.String,
  problem: Schema.String,
  cause: Schema.optional(Schema.Defect)
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
  problem: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `${this.file}: step "${this.step}", ${this.field}: cannot substitute ${this.reference}: ${this.problem}`
  }
}

/** Steps use plugins of a host's config, but `Pipeline.run` was given no `Executor` (no config loaded). */
export class PipelineNeedsExecutor extends Schema.TaggedError<PipelineNeedsExecutor>()("PipelineNeedsExecutor", {
  file: Schema.String,
  host: Schema.String,
  plugins: Strings,
  cause: Schema.optional(Schema.Defect)
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
  skipped: Strings,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const skipped = this.skipped.length === 0 ? "" : ` The steps after it were skipped: ${list(this.skipped)}.`
    return `${this.file}: step "${this.step}" (plugin "${this.plugin}", command "${this.command}") failed: ` +
      `${this.detail}${skipped} Fix the cause, or set continue_on_error = true on the step if the ` +
      `pipeline may go on without it.`
  }
}

/**
 * A pipeline step's plugin answered variable updates (`data.vars`) that cannot be used: not an object,
 * a name that is not a variable name, or a value that is not a string, number or boolean. The step fails.
 *
 * @since 0.2.0
 */
export class PipelineVariableInvalid extends Schema.TaggedError<PipelineVariableInvalid>()("PipelineVariableInvalid", {
  file: Schema.String,
  step: Schema.String,
  plugin: Schema.String,
  command: Schema.String,
  /** The variable concerned, or "" when `vars` as a whole is unusable. */
  variable: Schema.String,
  problem: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `${this.file}: step "${this.step}" (plugin "${this.plugin}", command "${this.command}") answered ` +
      `variable updates that cannot be used: ${this.problem}. A plugin sets variables with "vars" beside ` +
      `"response" in its answer's "data": an object whose names have only letters, digits, '_' and '-' and ` +
      `whose values are strings, numbers or booleans (docs/pipelines.md). Fix the plugin.`
  }
}

/**
 * Two steps of one parallel group set the same variable to different values. The later step (in file
 * order) fails with this error; the earlier one's updates are applied.
 *
 * @since 0.2.0
 */
export class PipelineVariableConflict extends Schema.TaggedError<PipelineVariableConflict>()("PipelineVariableConflict", {
  file: Schema.String,
  variable: Schema.String,
  step: Schema.String,
  value: Schema.String,
  otherStep: Schema.String,
  otherValue: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `${this.file}: steps "${this.otherStep}" and "${this.step}" run in one parallel group and both set ` +
      `variable "${this.variable}", to ${JSON.stringify(this.otherValue)} and ${JSON.stringify(this.value)}. ` +
      `The updates of a group are applied together when it ends, so they must agree: step "${this.step}" ` +
      `fails and "${this.otherStep}"'s value is kept. Let one of the steps set it, use two names, or set ` +
      `parallel = false on one of them so that it runs after the other.`
  }
}

