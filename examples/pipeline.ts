#!/usr/bin/env node
/**
 * Runs a pipeline file and prints each step as it starts and ends, then every step's output. Without an
 * argument it runs examples/pipeline.toml (a stdio and a REST plugin, a parallel group, variables):
 * `npm run build && node build/examples/pipeline.js [pipeline.toml]`.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Logger, LogLevel } from "effect"
import { Pipeline } from "goplugin-effect"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const file = process.argv[2] ?? path.resolve(here, "..", "..", "examples", "pipeline.toml")
const decoder = new TextDecoder()

const describe = (event: Pipeline.PipelineEvent): string => {
  switch (event._tag) {
    case "StepStarted":
      return `▶ ${event.step.name} (${event.step.plugin} ${event.step.command})`
    case "StepFinished":
      return event.result.status === "succeeded"
        ? `✔ ${event.step.name} in ${event.result.durationMillis.toFixed(1)} ms`
        : `✘ ${event.step.name}: ${event.result.error?.message ?? "failed"}`
    case "StepSkipped":
      return `– ${event.step.name} skipped (${event.because})`
  }
}

const program = Effect.gen(function*() {
  const pipeline = yield* Pipeline.load(file)
  yield* Console.log(`running ${pipeline.file}`)
  const results = yield* Pipeline.run(pipeline, { onEvent: (event) => Console.log(describe(event)) })
  yield* Console.log("\noutputs:")
  for (const result of results) {
    yield* Console.log(`  ${result.name.padEnd(8)} ${result.status.padEnd(9)} ${result.output === undefined ? "" : decoder.decode(result.output)}`)
  }
  yield* Pipeline.ensureSucceeded(pipeline)(results)
})

program.pipe(
  Effect.provide(Pipeline.standaloneLayer),
  Logger.withMinimumLogLevel(LogLevel.Warning),
  NodeRuntime.runMain
)
