/**
 * The typed shape of a pipeline file (`pipeline.toml`): `host`, `[settings]`, `[vars]`, inline
 * `[plugins.<name>]` and `[[steps]]`, decoded with `Schema` and checked as a whole (unique step names,
 * `${...}` references that can be resolved). See `docs/pipelines.md` for every key.
 *
 * @since 0.1.0
 */
import { Either, Schema } from "effect"
import * as path from "node:path"
import { PluginSpec, Seconds, Settings } from "./PluginConfig.js"
import { type ConfigParseError, PipelineInvalid, SubstitutionError } from "./PluginError.js"
import { decodeStrict, parseTomlText } from "./internal/tomlDecode.js"
import { parseTemplate, referencesOf, referenceText, type Segment, stringLeaves } from "./internal/substitute.js"

const NAME = /^[A-Za-z0-9_-]+$/

/** A step or variable name: letters, digits, `_` and `-`, so that `${steps.NAME.output}` can name it. */
export const ReferenceName = Schema.String.pipe(
  Schema.pattern(NAME, { message: () => "expected a name of letters, digits, '_' and '-'" })
)

/**
 * `[plugins.<name>]` in a pipeline file: the keys of a config file's plugin, but `md5` is optional. A
 * plugin with `md5` (or `sha256`) is verified like any other; one without runs unverified, with a warning.
 */
export const InlinePluginSpec = Schema.Struct({
  ...PluginSpec.fields,
  md5: Schema.optional(PluginSpec.fields.md5)
})
/** A decoded inline plugin. */
export type InlinePluginSpec = typeof InlinePluginSpec.Type

/** `[[steps]]`: one call of one plugin's command. */
export const Step = Schema.Struct({
  name: ReferenceName,
  plugin: Schema.NonEmptyTrimmedString,
  command: Schema.NonEmptyTrimmedString,
  /** The payload as text (sent as its UTF-8 bytes); `${...}` references are substituted. */
  payload: Schema.optional(Schema.String),
  /** The payload as a table, sent as JSON bytes; `${...}` references in its strings are substituted. */
  config: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  parallel: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  continue_on_error: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** Time limit of the step's call, written in seconds; default the plugin's `call_timeout`. */
  timeout: Schema.optionalWith(Seconds, { exact: true })
})

/** The whole pipeline file as TOML gives it. */
export const PipelineFile = Schema.Struct({
  name: Schema.optional(Schema.String),
  /** The host whose config plugins the steps may use (its ACL applies). */
  host: Schema.optional(Schema.NonEmptyTrimmedString),
  /** Settings of the inline plugins, as in a config file's `[settings]`. */
  settings: Schema.optionalWith(Settings, { default: () => Settings.make({}) }),
  vars: Schema.optionalWith(
    Schema.Record({ key: ReferenceName, value: Schema.Union(Schema.String, Schema.Number, Schema.Boolean) }),
    { default: () => ({}) }
  ),
  plugins: Schema.optionalWith(Schema.Record({ key: ReferenceName, value: InlinePluginSpec }), { default: () => ({}) }),
  steps: Schema.NonEmptyArray(Step)
})

/** One step of a decoded pipeline, with its position and its group (consecutive parallel steps share one). */
export interface PipelineStep extends Schema.Schema.Type<typeof Step> {
  readonly index: number
  readonly group: number
}

/** A decoded pipeline file. */
export interface Pipeline {
  /** Absolute path of the pipeline file. */
  readonly file: string
  /** Its folder: inline plugins' relative paths resolve against it, and they start in it. */
  readonly dir: string
  readonly name: string | undefined
  readonly host: string | undefined
  readonly settings: Settings
  /** `[vars]`, numbers and booleans turned into their text. */
  readonly vars: Readonly<Record<string, string>>
  readonly plugins: Readonly<Record<string, InlinePluginSpec>>
  readonly steps: ReadonlyArray<PipelineStep>
}

/** The templates of a step with the field each sits in (`payload`, `config.a.b[0]`). */
export const templatesOf = (step: Schema.Schema.Type<typeof Step>): ReadonlyArray<{ field: string; template: string }> => [
  ...(step.payload === undefined ? [] : [{ field: "payload", template: step.payload }]),
  ...(step.config === undefined ? [] : stringLeaves(step.config, "config").map((leaf) => ({ field: leaf.path, template: leaf.value })))
]

const decodeShape = (file: string, raw: unknown): Either.Either<typeof PipelineFile.Type, PipelineInvalid> =>
  Either.mapLeft(decodeStrict(PipelineFile, raw), ({ path, problem }) => new PipelineInvalid({ file, path, problem }))

const withGroups = (steps: ReadonlyArray<Schema.Schema.Type<typeof Step>>): ReadonlyArray<PipelineStep> => {
  let group = -1
  return steps.map((step, index) => {
    const joinsPrevious = step.parallel && index > 0 && steps[index - 1]!.parallel
    if (!joinsPrevious) group += 1
    return { ...step, index, group }
  })
}

/** Checks names, payload/config exclusivity and every `${...}` reference that can be checked before running. */
const checkSteps = (
  file: string,
  vars: Readonly<Record<string, string>>,
  steps: ReadonlyArray<PipelineStep>
): Either.Either<void, PipelineInvalid | SubstitutionError> => {
  const byName = new Map<string, PipelineStep>()
  for (const step of steps) {
    const earlier = byName.get(step.name)
    if (earlier !== undefined) {
      return Either.left(new PipelineInvalid({
        file,
        path: `steps[${step.index}].name`,
        problem: `the step name "${step.name}" is already used by steps[${earlier.index}]; give every step its own name`
      }))
    }
    byName.set(step.name, step)
  }
  for (const step of steps) {
    if (step.payload !== undefined && step.config !== undefined) {
      return Either.left(new PipelineInvalid({
        file,
        path: `steps[${step.index}]`,
        problem: `step "${step.name}" sets both payload and config; keep one (payload is text, config is sent as JSON)`
      }))
    }
    for (const { field, template } of templatesOf(step)) {
      const fail = (reference: string, problem: string) =>
        Either.left(new SubstitutionError({ file, step: step.name, field, reference, problem }))
      const parsed: Either.Either<ReadonlyArray<Segment>, { reference: string; problem: string }> = parseTemplate(template)
      if (Either.isLeft(parsed)) return fail(parsed.left.reference, parsed.left.problem)
      for (const reference of referencesOf(parsed.right)) {
        const text = referenceText(reference)
        // After the first group a plugin may have set the variable, so only a run can tell.
        if (reference.kind === "vars" && step.group === 0 && !Object.hasOwn(vars, reference.name)) {
          const known = Object.keys(vars)
          return fail(text, `[vars] has no "${reference.name}" (defined: ${known.length === 0 ? "(none)" : known.join(", ")}); ` +
            `add it to [vars] (no step runs before this one, so no plugin can have set it)`)
        }
        if (reference.kind !== "steps") continue
        const source = byName.get(reference.name)
        if (source === undefined) {
          return fail(text, `there is no step named "${reference.name}" (steps: ${steps.map((s) => s.name).join(", ")})`)
        }
        if (source.index === step.index) return fail(text, "a step cannot use its own output")
        if (source.group === step.group) {
          return fail(text, `step "${source.name}" runs in the same parallel group, so its output is not ready; ` +
            `set parallel = false on one of them or move this step after the group`)
        }
        if (source.index > step.index) {
          return fail(text, `step "${source.name}" runs after this step; only earlier steps' outputs can be used`)
        }
      }
    }
  }
  return Either.right(undefined)
}

/**
 * Parses and decodes pipeline text read from `file` (used for error messages and to resolve relative
 * paths). Pure apart from its inputs, so tests and the CLI can decode text that is not on disk.
 */
export const decodePipeline = (
  file: string,
  text: string
): Either.Either<Pipeline, ConfigParseError | PipelineInvalid | SubstitutionError> =>
  Either.gen(function*() {
    const absolute = path.resolve(file)
    const raw = yield* parseTomlText(absolute, text)
    const decoded = yield* decodeShape(absolute, raw)
    const vars = Object.fromEntries(Object.entries(decoded.vars).map(([key, value]) => [key, String(value)]))
    const steps = withGroups(decoded.steps)
    yield* checkSteps(absolute, vars, steps)
    return {
      file: absolute,
      dir: path.dirname(absolute),
      name: decoded.name,
      host: decoded.host,
      settings: decoded.settings,
      vars,
      plugins: decoded.plugins,
      steps
    } satisfies Pipeline
  })
