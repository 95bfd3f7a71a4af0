import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Pipeline from "../src/Pipeline.js"
import { decodePipeline } from "../src/PipelineConfig.js"
import { md5Of, nodePlugin, renderConfig, root, survivors, tempDir, text, writeConfig } from "./helpers.js"
import { captureLogs, libraryLayer, recorder, runPipeline, servicesLayer, workerPlugin, workerScript } from "./pipelineHelpers.js"

const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i)
const eventKeys = (events: ReadonlyArray<Pipeline.PipelineEvent>) => events.map((event) => `${event._tag} ${event.step.name}`)

describe("running pipelines", () => {
  it.scopedLive("steps run in file order", () =>
    Effect.gen(function*() {
      const step = (name: string) =>
        `[[steps]]\nname = "${name}"\nplugin = "worker"\ncommand = "append"\nconfig = { file = "\${vars.out}", entry = "${name}" }\n`
      const { dir, events, results } = yield* runPipeline((dir) =>
        [`[vars]\nout = ${JSON.stringify(path.join(dir, "order.txt"))}\n`, workerPlugin(), step("a"), step("b"), step("c")].join("\n")
      )
      expect(fs.readFileSync(path.join(dir, "order.txt"), "utf8")).toBe("a\nb\nc\n")
      expect(results.map((r) => [r.name, r.status, text(r.output!)])).toEqual([
        ["a", "succeeded", "a"],
        ["b", "succeeded", "b"],
        ["c", "succeeded", "c"]
      ])
      expect(eventKeys(events)).toEqual([
        "StepStarted a", "StepFinished a", "StepStarted b", "StepFinished b", "StepStarted c", "StepFinished c"
      ])
    }))

  it.scopedLive("consecutive parallel steps overlap: both start before either finishes", () =>
    Effect.gen(function*() {
      const work = (id: string, peer: string) =>
        `[[steps]]\nname = "${id}"\nplugin = "worker"\ncommand = "work"\nparallel = true\n` +
        `config = { id = "${id}", peer = "${peer}", dir = "\${vars.dir}" }\n`
      const { byName, events } = yield* runPipeline((dir) =>
        [
          `[vars]\ndir = ${JSON.stringify(dir)}\n`,
          workerPlugin(),
          `[[steps]]\nname = "before"\nplugin = "worker"\ncommand = "echo"\npayload = "go"\n`,
          work("left", "right"),
          work("right", "left"),
          `[[steps]]\nname = "after"\nplugin = "worker"\ncommand = "echo"\npayload = "done"\n`
        ].join("\n")
      )
      const left = JSON.parse(text(byName("left").output!))
      const right = JSON.parse(text(byName("right").output!))
      // Each worker finishes only after it has seen its peer's start file: the records prove the overlap.
      expect(left.sawPeer && right.sawPeer).toBe(true)
      expect(left.start).toBeLessThanOrEqual(right.end)
      expect(right.start).toBeLessThanOrEqual(left.end)
      const keys = eventKeys(events)
      const at = (key: string) => keys.indexOf(key)
      expect(Math.max(at("StepStarted left"), at("StepStarted right"))).toBeLessThan(
        Math.min(at("StepFinished left"), at("StepFinished right"))
      )
      expect(at("StepFinished before")).toBeLessThan(at("StepStarted left"))
      expect(at("StepStarted after")).toBeGreaterThan(Math.max(at("StepFinished left"), at("StepFinished right")))
    }))

  it.scopedLive("substitutes ${vars.NAME}, ${env.NAME} and ${steps.NAME.output} into payloads and config strings", () =>
    Effect.gen(function*() {
      const { byName } = yield* runPipeline(
        () =>
          [
            `[vars]\ngreeting = "hello"\ncount = 3\n`,
            workerPlugin(),
            `[[steps]]\nname = "greet"\nplugin = "worker"\ncommand = "echo"\n` +
            `payload = "\${vars.greeting}, \${env.PIPELINE_TEST_USER}! (\${vars.count}) $\${vars.greeting}"\n`,
            `[[steps]]\nname = "wrap"\nplugin = "worker"\ncommand = "echo"\n` +
            `config = { text = "\${steps.greet.output}", nested = { list = ["\${vars.greeting}", 3, true] } }\n`,
            `[[steps]]\nname = "raw"\nplugin = "worker"\ncommand = "bytes"\n`,
            `[[steps]]\nname = "pass"\nplugin = "worker"\ncommand = "echo"\npayload = "\${steps.raw.output}"\n`,
            `[[steps]]\nname = "as_text"\nplugin = "worker"\ncommand = "echo"\npayload = "bytes: \${steps.raw.output}"\n` +
            `continue_on_error = true\n`,
            `[[steps]]\nname = "unset_env"\nplugin = "worker"\ncommand = "echo"\npayload = "\${env.PIPELINE_TEST_UNSET}"\n`
          ].join("\n"),
        { env: { PIPELINE_TEST_USER: "ada" } }
      )
      expect(text(byName("greet").output!)).toBe("hello, ada! (3) ${vars.greeting}")
      expect(JSON.parse(text(byName("wrap").output!))).toEqual({
        text: "hello, ada! (3) ${vars.greeting}",
        nested: { list: ["hello", 3, true] }
      })
      expect(Array.from(byName("pass").output!)).toEqual(Array.from(allBytes))
      expect(byName("as_text")).toMatchObject({ status: "failed", output: undefined })
      expect(byName("as_text").error).toMatchObject({
        _tag: "SubstitutionError",
        step: "as_text",
        field: "payload",
        reference: "${steps.raw.output}"
      })
      expect(byName("as_text").error?.message).toContain("not UTF-8")
      expect(byName("unset_env").error).toMatchObject({
        _tag: "SubstitutionError",
        step: "unset_env",
        reference: "${env.PIPELINE_TEST_UNSET}"
      })
      expect(byName("unset_env").error?.message).toContain("PIPELINE_TEST_UNSET is not set")
    }))

  it.scopedLive("a failing step stops the pipeline: later steps are skipped", () =>
    Effect.gen(function*() {
      const { events, pipeline, results } = yield* runPipeline(() =>
        [
          workerPlugin(),
          `[[steps]]\nname = "ok"\nplugin = "worker"\ncommand = "echo"\npayload = "fine"\n`,
          `[[steps]]\nname = "bad"\nplugin = "worker"\ncommand = "fail"\npayload = "the disk is full"\n`,
          `[[steps]]\nname = "later"\nplugin = "worker"\ncommand = "echo"\npayload = "never"\n`
        ].join("\n")
      )
      expect(results.map((r) => r.status)).toEqual(["succeeded", "failed", "skipped"])
      expect(results[1]!.error).toMatchObject({ _tag: "CallError", reason: "remote", plugin: "worker", command: "fail" })
      expect(results[1]!.error?.message).toContain("the disk is full")
      expect(results[2]).toMatchObject({ startedAt: undefined, output: undefined, error: undefined, durationMillis: 0 })
      expect(eventKeys(events)).toEqual(["StepStarted ok", "StepFinished ok", "StepStarted bad", "StepFinished bad", "StepSkipped later"])
      const failure = yield* Effect.flip(Pipeline.ensureSucceeded(pipeline)(results))
      expect(failure).toMatchObject({ _tag: "PipelineStepFailed", step: "bad", plugin: "worker", command: "fail", skipped: ["later"] })
      expect(failure.message).toContain("continue_on_error")
    }))

  it.scopedLive("with continue_on_error the pipeline goes on; a later use of the failed step's output fails that step", () =>
    Effect.gen(function*() {
      const { pipeline, results } = yield* runPipeline(() =>
        [
          workerPlugin(),
          `[[steps]]\nname = "bad"\nplugin = "worker"\ncommand = "fail"\npayload = "flaky"\ncontinue_on_error = true\n`,
          `[[steps]]\nname = "later"\nplugin = "worker"\ncommand = "echo"\npayload = "still runs"\n`,
          `[[steps]]\nname = "uses_bad"\nplugin = "worker"\ncommand = "echo"\npayload = "\${steps.bad.output}"\n`,
          `[[steps]]\nname = "last"\nplugin = "worker"\ncommand = "echo"\npayload = "skipped"\n`
        ].join("\n")
      )
      expect(results.map((r) => r.status)).toEqual(["failed", "succeeded", "failed", "skipped"])
      expect(text(results[1]!.output!)).toBe("still runs")
      expect(results[2]!.error).toMatchObject({ _tag: "SubstitutionError", step: "uses_bad", reference: "${steps.bad.output}" })
      const failure = yield* Effect.flip(Pipeline.ensureSucceeded(pipeline)(results))
      expect(failure).toMatchObject({ step: "uses_bad", skipped: ["last"] })
    }))

  it.scopedLive("a step's own timeout kills its plugin", () =>
    Effect.gen(function*() {
      const { record, results } = yield* runPipeline(() =>
        [workerPlugin(), `[[steps]]\nname = "slow"\nplugin = "worker"\ncommand = "sleep"\npayload = "60000"\ntimeout = 0.5\n`].join("\n")
      )
      expect(results[0]).toMatchObject({ status: "failed", error: { _tag: "CallError", reason: "timeout", command: "sleep" } })
      expect(record.pids.length).toBe(1)
    }))

  it.scopedLive("an inline plugin without md5 runs with a warning naming its digest, as host \"pipeline\"", () =>
    Effect.gen(function*() {
      const { byName, logs } = yield* runPipeline(() =>
        [workerPlugin("loose", false), `[[steps]]\nname = "who"\nplugin = "loose"\ncommand = "host"\n`].join("\n")
      )
      expect(text(byName("who").output!)).toBe("pipeline")
      const warning = logs.find((line) => line.level === "WARN" && line.message.includes(`inline plugin "loose" has no md5`))
      expect(warning?.message).toContain(`md5 = "${md5Of(workerScript)}"`)
    }))

  it.scopedLive("plugins of the host's config run through its container and stop when the pipeline ends", () =>
    Effect.gen(function*() {
      const configDir = yield* tempDir
      const configFile = writeConfig(
        configDir,
        renderConfig([nodePlugin("shout", "examples/rest-plugin.cjs", "rest")], { app: ["shout"], other: [] })
      )
      const body = [
        `host = "app"\n`,
        `[vars]\nword = "quiet"\n`,
        workerPlugin(),
        `[[steps]]\nname = "up"\nplugin = "shout"\ncommand = "upper"\npayload = "\${vars.word}"\n`,
        `[[steps]]\nname = "again"\nplugin = "shout"\ncommand = "reverse"\npayload = "\${steps.up.output}"\n`,
        `[[steps]]\nname = "who"\nplugin = "worker"\ncommand = "host"\n`
      ].join("\n")
      const { byName, record } = yield* runPipeline(() => body, {}, (_dir, record) => libraryLayer(configFile, record))
      expect(text(byName("again").output!)).toBe("TEIUQ")
      expect(text(byName("who").output!)).toBe("app")
      // One REST process shared by both of its steps, one stdio process for the last step.
      expect(record.pids.length).toBe(2)

      const refused = yield* Effect.flip(runPipeline(() => body, { host: "other" }, (_dir, record) => libraryLayer(configFile, record)))
      expect(refused).toMatchObject({ _tag: "PipelineInvalid", path: "steps[0].plugin" })
      expect(refused.message).toContain("not allowed")
      const hostless = yield* Effect.flip(runPipeline(() => body.replace(`host = "app"`, ""), {}, (_dir, record) => libraryLayer(configFile, record)))
      expect(hostless).toMatchObject({ _tag: "PipelineInvalid", path: "steps[0].plugin" })
      expect(hostless.message).toContain("no host is set")
      const noConfig = yield* Effect.flip(runPipeline(() => body))
      expect(noConfig).toMatchObject({ _tag: "PipelineNeedsExecutor", host: "app", plugins: ["shout"] })
    }))

  it.scopedLive("the example pipeline runs: a stdio and a REST plugin, a parallel group, variables", () =>
    Effect.gen(function*() {
      const record = recorder()
      const pipeline = yield* Pipeline.load(path.join(root, "examples", "pipeline.toml"))
      const results = yield* Pipeline.run(pipeline).pipe(Effect.provide(servicesLayer(record)), Effect.provide(captureLogs().layer))
      expect(results.map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded", "succeeded"])
      expect(JSON.parse(text(results[3]!.output!))).toMatchObject({ slug: "hello-from-goplugin-effect-pipelines" })
      expect(yield* survivors(record.pids)).toEqual([])
    }))
})

describe("loading pipeline files", () => {
  it.scopedLive("without a path, pipeline.toml is found from the folder upwards; the error names every path tried", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const deep = path.join(dir, "project", "a", "b")
      fs.mkdirSync(deep, { recursive: true })
      const missing = yield* Effect.flip(Pipeline.load(undefined, { cwd: deep }))
      expect(missing._tag).toBe("PipelineNotFound")
      if (missing._tag !== "PipelineNotFound") return
      expect(missing.tried[0]).toBe(path.join(deep, "pipeline.toml"))
      expect(missing.tried).toContain(path.join(dir, "pipeline.toml"))
      expect(missing.tried[missing.tried.length - 1]).toBe("/pipeline.toml")
      expect(missing.message).toContain(path.join(dir, "project", "pipeline.toml"))
      const file = path.join(dir, "project", "pipeline.toml")
      fs.writeFileSync(file, `[[steps]]\nname = "s"\nplugin = "p"\ncommand = "c"\n`)
      const found = yield* Pipeline.load(undefined, { cwd: deep })
      expect(found.file).toBe(file)
      expect(found.dir).toBe(path.join(dir, "project"))
      const explicit = yield* Effect.flip(Pipeline.load("nope.toml", { cwd: deep }))
      expect(explicit).toMatchObject({ _tag: "PipelineNotFound", tried: [path.join(deep, "nope.toml")] })
    }))

  const step = (name: string, extra = "") => `[[steps]]\nname = "${name}"\nplugin = "p"\ncommand = "c"\n${extra}\n`
  const cases: ReadonlyArray<readonly [string, string, Record<string, unknown>, string]> = [
    ["a step without a command", `[[steps]]\nname = "s"\nplugin = "p"\n`, { _tag: "PipelineInvalid", path: "steps[0].command" }, "is missing"],
    ["a misspelt key", step("s", "continue_on_eror = true"), { _tag: "PipelineInvalid", path: "steps[0].continue_on_eror" }, "unexpected"],
    ["no steps", `name = "empty"\n`, { _tag: "PipelineInvalid", path: "steps" }, "is missing"],
    ["a duplicate step name", step("s") + step("s"), { _tag: "PipelineInvalid", path: "steps[1].name" }, "already used"],
    ["payload and config together", step("s", `payload = "x"\nconfig = { a = "b" }`), { _tag: "PipelineInvalid", path: "steps[0]" }, "both"],
    ["an unknown variable", step("s", `payload = "\${vars.nope}"`), { _tag: "SubstitutionError", step: "s", reference: "${vars.nope}" }, "[vars] has no"],
    ["an unknown step", step("s", `payload = "\${steps.ghost.output}"`), { _tag: "SubstitutionError", reference: "${steps.ghost.output}" }, "no step named"],
    ["a later step's output", step("a", `payload = "\${steps.b.output}"`) + step("b"), { _tag: "SubstitutionError", step: "a" }, "runs after"],
    [
      "an output of the same parallel group",
      step("a", "parallel = true") + step("b", `parallel = true\nconfig = { x = ["\${steps.a.output}"] }`),
      { _tag: "SubstitutionError", step: "b", field: "config.x[0]" },
      "same parallel group"
    ],
    ["a malformed reference", step("s", `payload = "\${steps.a}"`), { _tag: "SubstitutionError", reference: "${steps.a}" }, "unknown reference"],
    ["an unclosed reference", step("s", `payload = "\${vars.x"`), { _tag: "SubstitutionError" }, "not closed"],
    ["a TOML syntax error", `[[steps]\nname = "s"\n`, { _tag: "ConfigParseError", line: 1 }, "TOML syntax error"]
  ]
  for (const [title, body, expected, inMessage] of cases) {
    it(`refuses ${title}`, () => {
      const decoded = decodePipeline("/pipelines/pipeline.toml", body)
      expect(Either.isLeft(decoded)).toBe(true)
      if (Either.isRight(decoded)) return
      expect(decoded.left).toMatchObject(expected)
      expect(decoded.left.message).toContain(inMessage)
      expect(decoded.left.message).toContain("/pipelines/pipeline.toml")
    })
  }

  it("groups consecutive parallel steps", () => {
    const decoded = decodePipeline(
      "/p/pipeline.toml",
      step("a", "parallel = true") + step("b") + step("c", "parallel = true") + step("d", "parallel = true") + step("e")
    )
    expect(Either.isRight(decoded)).toBe(true)
    if (Either.isLeft(decoded)) return
    expect(Pipeline.groupSteps(decoded.right.steps).map((group) => group.map((s) => s.name))).toEqual([["a"], ["b"], ["c", "d"], ["e"]])
  })
})
