/**
 * Pipelines: a TOML file of `[[steps]]`, each calling one plugin's command with a payload, run in order;
 * consecutive `parallel = true` steps run concurrently. `${vars.NAME}`, `${env.NAME}` and
 * `${steps.NAME.output}` are substituted into later steps' payloads. Plugins come from a host's config
 * or are declared inline in the pipeline file; every plugin started for a pipeline stops when it ends.
 * See `docs/pipelines.md`.
 *
 * @since 0.1.0
 */
import { Clock, Effect, Either, FiberRef, Layer } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { PipelineContext } from "./Caller.js"
import * as Executor from "./Executor.js"
import {
  type CallError,
  type ConfigParseError,
  FileUnreadable,
  type HostNotFound,
  type PipelineInvalid,
  type PipelineNeedsExecutor,
  PipelineNotFound,
  PipelineStepFailed,
  PipelineVariableConflict,
  PipelineVariableInvalid,
  type StartError,
  type SubstitutionError
} from "./PluginError.js"
import { decodePipeline, type Pipeline, type PipelineStep } from "./PipelineConfig.js"
import * as PluginServices from "./PluginServices.js"
import { isFile } from "./internal/files.js"
import { resolvePlugins } from "./internal/pipelinePlugins.js"
import { applyUpdates, mergeGroup, readUpdates, type Vars } from "./internal/pipelineVars.js"
import { buildPayload } from "./internal/substitute.js"

export type { Pipeline, PipelineStep } from "./PipelineConfig.js"

/** The file name looked for when no pipeline file is given. */
export const defaultFileName = "pipeline.toml"

/** Every error loading a pipeline file can produce. */
export type LoadError = PipelineNotFound | FileUnreadable | ConfigParseError | PipelineInvalid | SubstitutionError

/** Every error that stops a pipeline before its first step: the plugins it names cannot be resolved. */
export type RunError = PipelineInvalid | PipelineNeedsExecutor | HostNotFound

/**
 * Why one step failed: its payload could not be built, its plugin could not start, its call failed, or
 * the variables its plugin set were unusable or disagreed with another step of its parallel group.
 */
export type StepError = SubstitutionError | StartError | CallError | PipelineVariableInvalid | PipelineVariableConflict

/** What happened to one step. `output` is set when it succeeded, `error` when it failed. */
export interface StepResult {
  readonly name: string
  readonly plugin: string
  readonly command: string
  readonly status: "succeeded" | "failed" | "skipped"
  /** When the step started; undefined for a skipped step. */
  readonly startedAt: Date | undefined
  /** When the step finished; undefined for a skipped step. */
  readonly finishedAt: Date | undefined
  /** 0 for a skipped step. */
  readonly durationMillis: number
  readonly output: Uint8Array | undefined
  readonly error: StepError | undefined
  /**
   * The variables this step's plugin set (its answer's `vars`), as applied for later steps; empty
   * unless the step succeeded. See {@link finalVars}.
   *
   * @since 0.2.0
   */
  readonly vars: Readonly<Record<string, string>>
}

/** Progress of a running pipeline, for progress displays such as the CLI's `goplugin run`. */
export type PipelineEvent =
  | { readonly _tag: "StepStarted"; readonly step: PipelineStep; readonly startedAt: Date }
  | { readonly _tag: "StepFinished"; readonly step: PipelineStep; readonly result: StepResult }
  | { readonly _tag: "StepSkipped"; readonly step: PipelineStep; readonly result: StepResult; readonly because: string }

/** Options of {@link run}; every field has a default. */
export interface RunOptions {
  /** The host whose config plugins the steps use; overrides the file's `host` key. */
  readonly host?: string | undefined
  /** Called for every step start, finish and skip, in the order they happen. */
  readonly onEvent?: ((event: PipelineEvent) => Effect.Effect<void>) | undefined
  /** Where `${env.NAME}` is read; default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined
}

/** Options of {@link load}. */
export interface LoadOptions {
  /** The folder a relative path resolves against and the upward search starts from; default the current one. */
  readonly cwd?: string | undefined
}

/** The services a pipeline needs besides an optional {@link Executor.Executor} (for plugins of a host's config). */
export type PipelineServices = PluginServices.PluginServices

/**
 * The services of a pipeline whose plugins are all inline, without a goplugin config file. To use
 * plugins of a host's config as well, provide `GoPlugin.layer()` instead.
 */
export const standaloneLayer: Layer.Layer<PipelineServices> = PluginServices.layer()

/** Looks for `pipeline.toml` in `from` and every folder above it up to the filesystem root. */
export const find = (from: string): Effect.Effect<string, PipelineNotFound> =>
  Effect.gen(function*() {
    const tried: Array<string> = []
    let dir = path.resolve(from)
    for (;;) {
      const candidate = path.join(dir, defaultFileName)
      tried.push(candidate)
      if (yield* isFile(candidate)) return candidate
      const parent = path.dirname(dir)
      if (parent === dir) break
      dir = parent
    }
    return yield* new PipelineNotFound({ tried, detail: `searched from ${path.resolve(from)} up to the filesystem root` })
  })

/**
 * Reads and decodes a pipeline file: the given one, else `pipeline.toml` found from the current folder
 * upwards.
 *
 * @example
 * ```ts
 * const pipeline = yield* Pipeline.load()                 // ./pipeline.toml, ../pipeline.toml, …
 * const results = yield* Pipeline.run(pipeline)
 * ```
 */
export const load: (file?: string, options?: LoadOptions) => Effect.Effect<Pipeline, LoadError> = Effect.fn("Pipeline.load")(
  function*(file?: string, options: LoadOptions = {}) {
    const cwd = options.cwd ?? process.cwd()
    const located = file === undefined ? yield* find(cwd) : path.resolve(cwd, file)
    const text = yield* Effect.tryPromise({
      try: () => fs.readFile(located, "utf8"),
      catch: (error) =>
        (error as NodeJS.ErrnoException).code === "ENOENT"
          ? new PipelineNotFound({ tried: [located], detail: "the given pipeline file does not exist" })
          : new FileUnreadable({ file: located, detail: (error as Error).message })
    })
    return yield* decodePipeline(located, text)
  }
)

const dateOfNanos = (nanos: bigint): Date => new Date(Number(nanos / 1_000_000n))

/**
 * Runs the pipeline's steps and answers one result per step, in file order. A failed step skips the
 * rest unless it sets `continue_on_error`; a parallel group always runs to its end. The effect itself
 * fails only when the steps' plugins cannot be resolved; every plugin started stops when it ends.
 *
 * @example
 * ```ts
 * const results = yield* Pipeline.run(pipeline, {
 *   onEvent: (event) => Effect.log(event._tag, event.step.name)
 * })
 * for (const r of results) console.log(r.name, r.status, r.durationMillis)
 * ```
 */
export const run: (
  pipeline: Pipeline,
  options?: RunOptions
) => Effect.Effect<ReadonlyArray<StepResult>, RunError, PipelineServices> = Effect.fn("Pipeline.run")(
  function*(pipeline: Pipeline, options: RunOptions = {}) {
    return yield* Effect.scoped(runSteps(pipeline, options)).pipe(Effect.annotateLogs("pipeline", pipeline.file))
  }
)

const runSteps = (pipeline: Pipeline, options: RunOptions) =>
  Effect.gen(function*() {
    const callers = yield* resolvePlugins(pipeline, options.host ?? pipeline.host)
    // Long-lived plugins log for the whole pipeline, not for the step that happened to start them.
    const pluginAnnotations = yield* FiberRef.get(FiberRef.currentLogAnnotations)
    const emit = options.onEvent ?? (() => Effect.void)
    const results = new Map<string, StepResult>()
    const env = options.env ?? process.env
    const pipelineName = pipeline.name ?? pipeline.file

    /** Runs one step on the variables `vars` (its group's snapshot); the caller records and announces its end. */
    const runStep = (step: PipelineStep, vars: Vars, context: PipelineContext) =>
      Effect.gen(function*() {
        const startNanos = yield* Clock.currentTimeNanos
        const startedAt = dateOfNanos(startNanos)
        yield* emit({ _tag: "StepStarted", step, startedAt })
        yield* Effect.logDebug(`step "${step.name}" started: ${step.plugin} ${step.command}`)
        const outcome = yield* Effect.gen(function*() {
          const payload = yield* buildPayload({ file: pipeline.file, vars, env, results }, step)
          const caller = yield* Effect.locally(callers.get(step.plugin)!, FiberRef.currentLogAnnotations, pluginAnnotations)
          let answered: unknown
          const output = yield* caller.exec(step.command, payload, {
            ...(step.timeout === undefined ? {} : { timeout: step.timeout }),
            pipeline: context,
            onVars: (raw) => {
              answered = raw
            }
          })
          const updates = yield* Either.mapLeft(readUpdates(answered), ({ problem, variable }) =>
            new PipelineVariableInvalid({
              file: pipeline.file,
              step: step.name,
              plugin: step.plugin,
              command: step.command,
              variable: variable ?? "",
              problem
            }))
          return { output, updates }
        }).pipe(Effect.either)
        const endNanos = yield* Clock.currentTimeNanos
        const result: StepResult = {
          name: step.name,
          plugin: step.plugin,
          command: step.command,
          status: Either.isRight(outcome) ? "succeeded" : "failed",
          startedAt,
          finishedAt: dateOfNanos(endNanos),
          durationMillis: Number(endNanos - startNanos) / 1e6,
          output: Either.isRight(outcome) ? outcome.right.output : undefined,
          error: Either.isLeft(outcome) ? outcome.left : undefined,
          vars: Either.isRight(outcome) ? outcome.right.updates : {}
        }
        return result
      }).pipe(
        Effect.annotateLogs("step", step.name),
        Effect.withSpan("Pipeline.step", { attributes: { step: step.name, plugin: step.plugin, command: step.command } })
      )

    /** Records a step's final result and announces it. */
    const finish = (step: PipelineStep, result: StepResult) =>
      Effect.suspend(() => {
        results.set(step.name, result)
        const set = Object.keys(result.vars)
        return Effect.zipRight(
          result.error === undefined
            ? Effect.logDebug(`step "${step.name}" succeeded in ${result.durationMillis.toFixed(1)} ms` +
              (set.length === 0 ? "" : `; it set ${set.join(", ")}`))
            : Effect.logDebug(`step "${step.name}" failed: ${result.error.message}`),
          emit({ _tag: "StepFinished", step, result })
        ).pipe(Effect.annotateLogs("step", step.name))
      })

    const skip = (step: PipelineStep, because: string) =>
      Effect.suspend(() => {
        const result: StepResult = {
          name: step.name,
          plugin: step.plugin,
          command: step.command,
          status: "skipped",
          startedAt: undefined,
          finishedAt: undefined,
          durationMillis: 0,
          output: undefined,
          error: undefined,
          vars: {}
        }
        results.set(step.name, result)
        return emit({ _tag: "StepSkipped", step, result, because })
      })

    /**
     * Runs a group on one snapshot of the variables. A step that set variables in a group of two or
     * more is announced only when the group ends: whether it conflicts depends on the steps before it in
     * the file, which may finish after it.
     */
    const runGroup = (group: ReadonlyArray<PipelineStep>, vars: Vars) =>
      Effect.gen(function*() {
        const deferred = (result: StepResult) => group.length > 1 && Object.keys(result.vars).length > 0
        const ran = yield* Effect.forEach(group, (step, index) =>
          runStep(step, vars, { name: pipelineName, step: step.name, parallel: group.length > 1, index, size: group.length })
            .pipe(Effect.tap((result) => (deferred(result) ? Effect.void : finish(step, result)))), { concurrency: "unbounded" })
        const { accepted, conflicts } = mergeGroup(ran.map((result) => ({ step: result.name, vars: result.vars })))
        const finished = ran.map((result): StepResult => {
          const conflict = conflicts.find((c) => c.step === result.name)
          if (conflict === undefined) return result
          const error = new PipelineVariableConflict({ file: pipeline.file, ...conflict })
          return { ...result, status: "failed", output: undefined, error, vars: {} }
        })
        yield* Effect.forEach(group, (step, i) => (deferred(ran[i]!) ? finish(step, finished[i]!) : Effect.void), { discard: true })
        return { finished, vars: applyUpdates(vars, accepted.map((update) => update.vars)) }
      })

    const groups = groupSteps(pipeline.steps)
    let stoppedBy: string | undefined
    let vars: Vars = pipeline.vars
    for (const group of groups) {
      if (stoppedBy !== undefined) {
        yield* Effect.forEach(group, (step) => skip(step, stoppedBy!), { discard: true })
        continue
      }
      const outcome = yield* runGroup(group, vars)
      const finished = outcome.finished
      vars = outcome.vars
      const blocking = group.find((step, i) => finished[i]!.status === "failed" && !step.continue_on_error)
      if (blocking !== undefined) stoppedBy = `step "${blocking.name}" failed`
    }
    return pipeline.steps.map((step) => results.get(step.name)!)
  })

/** The steps in their groups: consecutive `parallel = true` steps form one group, every other step its own. */
export const groupSteps = (steps: ReadonlyArray<PipelineStep>): ReadonlyArray<ReadonlyArray<PipelineStep>> => {
  const groups: Array<Array<PipelineStep>> = []
  for (const step of steps) {
    const last = groups[groups.length - 1]
    if (last !== undefined && last[0]!.group === step.group) last.push(step)
    else groups.push([step])
  }
  return groups
}

/**
 * The variables after the pipeline: `[vars]` with every succeeded step's updates applied in file order
 * (the order a run applies them in).
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const results = yield* Pipeline.run(pipeline)
 * const vars = Pipeline.finalVars(pipeline, results)      // { region: "eu-west-1", token: "…" }
 * ```
 */
export const finalVars = (pipeline: Pipeline, results: ReadonlyArray<StepResult>): Readonly<Record<string, string>> =>
  applyUpdates(pipeline.vars, results.filter((result) => result.status === "succeeded").map((result) => result.vars))

/** The failure that stopped the pipeline (the first failed step without `continue_on_error`), if any. */
export const stoppingFailure = (pipeline: Pipeline, results: ReadonlyArray<StepResult>): PipelineStepFailed | undefined => {
  const failed = results.find((result) => {
    const step = pipeline.steps.find((s) => s.name === result.name)
    return result.status === "failed" && step !== undefined && !step.continue_on_error
  })
  if (failed === undefined) return undefined
  return new PipelineStepFailed({
    file: pipeline.file,
    step: failed.name,
    plugin: failed.plugin,
    command: failed.command,
    detail: failed.error?.message ?? "unknown error",
    skipped: results.filter((result) => result.status === "skipped").map((result) => result.name)
  })
}

/**
 * Fails with `PipelineStepFailed` when a step without `continue_on_error` failed; passes the results
 * through otherwise. For programs that treat a stopped pipeline as an error.
 *
 * @example
 * ```ts
 * const results = yield* Pipeline.run(pipeline).pipe(Effect.flatMap(Pipeline.ensureSucceeded(pipeline)))
 * ```
 */
export const ensureSucceeded = (pipeline: Pipeline) =>
(results: ReadonlyArray<StepResult>): Effect.Effect<ReadonlyArray<StepResult>, PipelineStepFailed> => {
  const failure = stoppingFailure(pipeline, results)
  return failure === undefined ? Effect.succeed(results) : Effect.fail(failure)
}
