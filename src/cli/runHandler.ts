/**
 * What `goplugin run` does once its command line is parsed (runCommand.ts defines the command; this
 * module is loaded when it runs, see handledBy.ts).
 *
 * @since 0.2.0
 */
import { Console, Effect, Option } from "effect"
import * as Pipeline from "../Pipeline.js"
import { PipelineInvalid } from "../PluginError.js"
import { printableText } from "./callHandlers.js"
import { goPluginLayer } from "./libraryLayers.js"
import { errorJson, oneLine, printJson, table } from "./output.js"

/** A step's output for display: text when it is printable UTF-8, else hex; null when there is none. */
const outputOf = (bytes: Uint8Array | undefined) => {
  if (bytes === undefined) return { encoding: null, output: null }
  const text = printableText(bytes)
  return text !== undefined
    ? { encoding: "utf8" as const, output: text }
    : { encoding: "hex" as const, output: Buffer.from(bytes).toString("hex") }
}

/** One step of the `--json` document. */
const stepJson = (result: Pipeline.StepResult) => ({
  name: result.name,
  plugin: result.plugin,
  command: result.command,
  status: result.status,
  startedAt: result.startedAt?.toISOString() ?? null,
  finishedAt: result.finishedAt?.toISOString() ?? null,
  durationMillis: Math.round(result.durationMillis * 10) / 10,
  bytes: result.output?.length ?? null,
  ...outputOf(result.output),
  error: result.error === undefined ? null : errorJson(result.error),
  vars: result.vars
})

const shorten = (text: string, width: number): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`
}

/** Prints progress lines as steps start, finish and are skipped. */
const progress = (total: number) => (event: Pipeline.PipelineEvent): Effect.Effect<void> => {
  const position = `[${event.step.index + 1}/${total}]`
  switch (event._tag) {
    case "StepStarted":
      return Console.log(`${position} start  ${event.step.name}: ${event.step.plugin} ${event.step.command}`)
    case "StepFinished": {
      const { result } = event
      const took = `${result.durationMillis.toFixed(1)} ms`
      const set = Object.keys(result.vars)
      return result.status === "succeeded"
        ? Console.log(`${position} ok     ${result.name} (${took})${set.length === 0 ? "" : `, set ${set.join(", ")}`}`)
        : Console.log(`${position} FAIL   ${result.name} (${took}): ${oneLine(result.error?.message ?? "failed", result.error?._tag)}`)
    }
    case "StepSkipped":
      return Console.log(`${position} skip   ${event.step.name}: ${event.because}`)
  }
}

const summary = (results: ReadonlyArray<Pipeline.StepResult>): string =>
  table(
    ["STEP", "PLUGIN", "COMMAND", "STATUS", "TIME", "OUTPUT"],
    results.map((result) => {
      const { encoding, output } = outputOf(result.output)
      return [
        result.name,
        result.plugin,
        result.command,
        result.status,
        result.status === "skipped" ? "-" : `${result.durationMillis.toFixed(1)} ms`,
        output === null ? "" : shorten(encoding === "hex" ? `hex ${output}` : output, 48)
      ]
    })
  )

/** The variables after the run, with the step that set each last ("[vars]" for the file's own). */
const variablesTable = (pipeline: Pipeline.Pipeline, results: ReadonlyArray<Pipeline.StepResult>): string => {
  const setBy = new Map<string, string>()
  for (const result of results) for (const name of Object.keys(result.vars)) setBy.set(name, result.name)
  return table(
    ["VARIABLE", "VALUE", "SET BY"],
    Object.entries(Pipeline.finalVars(pipeline, results)).map(([name, value]) => [name, shorten(value, 48), setBy.get(name) ?? "[vars]"])
  )
}

/** Whether a step uses a plugin of a host's config (so the config must be loaded), not an inline one. */
const usesConfigPlugins = (pipeline: Pipeline.Pipeline): boolean =>
  pipeline.steps.some((step) => !Object.hasOwn(pipeline.plugins, step.plugin))

/** `goplugin run [pipeline-file]`. */
export const run = (
  { file, host, json }: { readonly file: Option.Option<string>; readonly host: Option.Option<string>; readonly json: boolean }
) =>
  Effect.gen(function*() {
    const pipeline = yield* Pipeline.load(Option.getOrUndefined(file)).pipe(
      Effect.catchTag("ConfigParseError", (error) =>
        Effect.fail(
          new PipelineInvalid({
            file: error.file,
            path: `line ${error.line}, column ${error.column}`,
            problem: `TOML syntax error: ${error.problem}; fix the file there`
          })
        ))
    )
    const options: Pipeline.RunOptions = {
      host: Option.getOrUndefined(host),
      ...(json ? {} : { onEvent: progress(pipeline.steps.length) })
    }
    if (!json) yield* Console.log(`pipeline ${pipeline.name ?? pipeline.file} (${pipeline.steps.length} steps)`)
    const results = yield* Pipeline.run(pipeline, options).pipe(
      Effect.provide(usesConfigPlugins(pipeline) ? goPluginLayer : Pipeline.standaloneLayer)
    )
    const failure = Pipeline.stoppingFailure(pipeline, results)
    if (json) {
      yield* printJson({
        file: pipeline.file,
        name: pipeline.name ?? null,
        host: options.host ?? pipeline.host ?? null,
        ok: failure === undefined,
        steps: results.map(stepJson),
        vars: Pipeline.finalVars(pipeline, results)
      })
    } else {
      yield* Console.log(`\n${summary(results)}`)
      if (Object.keys(Pipeline.finalVars(pipeline, results)).length > 0) {
        yield* Console.log(`\n${variablesTable(pipeline, results)}`)
      }
    }
    if (failure !== undefined) return yield* failure
  })
