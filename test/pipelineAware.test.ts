/**
 * Pipelines with real plugin processes: steps learn their pipeline, step and parallel group; plugins
 * set variables for later steps (stdio, REST, gRPC, and the Python example). Every test checks that no
 * process is left.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as path from "node:path"
import * as Pipeline from "../src/Pipeline.js"
import * as fs from "node:fs"
import { goplugin, json, leftovers, makeTempDir, removeDir } from "./cliHelpers.js"
import { built, root, text } from "./helpers.js"
import { inlinePlugin, runPipeline, workerPlugin } from "./pipelineHelpers.js"

const rawScript = built("test/fixtures/raw-stdio.js")
const inspectScript = built("test/fixtures/inspect-plugin.js")
const rawPlugin = inlinePlugin("raw", rawScript)

const step = (name: string, plugin: string, command: string, extra = "") =>
  `[[steps]]\nname = "${name}"\nplugin = "${plugin}"\ncommand = "${command}"\n${extra}\n`

/** A step whose plugin sets the variables of `vars` (sent as the payload, a JSON object). */
const setting = (name: string, plugin: string, vars: unknown, extra = "") =>
  step(name, plugin, plugin === "raw" ? "vars" : "setvars", `payload = '${JSON.stringify(vars)}'\n${extra}`)

const pythonScript = path.join(root, "examples", "python", "plugin.py")
const python = (name: string, commType: string, args: ReadonlyArray<string>) =>
  `[plugins.${name}]\nexec = "python3"\nexec_args = ${JSON.stringify([pythonScript, ...args])}\n` +
  `exec_file = ${JSON.stringify(pythonScript)}\ncomm_type = "${commType}"\n`

/** The Python example as a REST and as a stdio plugin: a parallel group, then variables set and used. */
const pythonPipeline = [
  `name = "py"\n`,
  python("py", "rest", []),
  python("pyio", "stdio", ["--stdio"]),
  step("one", "py", "context", "parallel = true"),
  step("two", "pyio", "context", "parallel = true"),
  step("remember", "pyio", "remember", `payload = "greeting=hello"`),
  step("again", "py", "remember", `payload = "who=\${vars.greeting} world"`),
  step("use", "py", "upper", `payload = "\${vars.who}"`)
].join("\n")

const contextOf = (output: Uint8Array | undefined) => (JSON.parse(text(output!)) as { pipeline: unknown }).pipeline

describe("steps know where they run", () => {
  it.scopedLive("two instances of one stdio plugin in a parallel group each report their index; a lone step is not parallel", () =>
    Effect.gen(function*() {
      const { byName, record } = yield* runPipeline(() =>
        [
          `name = "aware"\n`,
          workerPlugin(),
          rawPlugin,
          step("alone", "worker", "context"),
          step("left", "worker", "context", "parallel = true"),
          step("right", "worker", "context", "parallel = true"),
          step("wire", "raw", "request"),
          step("lone", "raw", "request", "parallel = true")
        ].join("\n")
      )
      expect(record.pids.length).toBe(5)
      expect(contextOf(byName("alone").output)).toEqual({ name: "aware", step: "alone", parallel: false, index: 0, size: 1 })
      expect(contextOf(byName("left").output)).toEqual({ name: "aware", step: "left", parallel: true, index: 0, size: 2 })
      expect(contextOf(byName("right").output)).toEqual({ name: "aware", step: "right", parallel: true, index: 1, size: 2 })
      // The bytes a plugin without the SDK reads: the documented keys in order, then "pipeline".
      expect(text(byName("wire").output!)).toBe(
        `{"type":"exec","command":"request","payload":"","host":"pipeline",` +
          `"pipeline":{"name":"aware","step":"wire","parallel":false,"index":0,"size":1}}\n`
      )
      // A parallel = true step between non-parallel ones is a group of one: it runs alone.
      expect(JSON.parse(text(byName("lone").output!)).pipeline).toEqual({ name: "aware", step: "lone", parallel: false, index: 0, size: 1 })
    }))

  it.scopedLive("a pipeline without a name is named by its file", () =>
    Effect.gen(function*() {
      const { byName, pipeline } = yield* runPipeline(() => [workerPlugin(), step("where", "worker", "context")].join("\n"))
      expect(contextOf(byName("where").output)).toMatchObject({ name: pipeline.file, step: "where" })
    }))
})

describe("variables set by plugins", () => {
  it.scopedLive("step 1's plugin sets a variable that step 2's payload uses; the results and final variables show it", () =>
    Effect.gen(function*() {
      const { byName, pipeline, results } = yield* runPipeline(() =>
        [
          `[vars]\nregion = "eu"\n`,
          workerPlugin(),
          rawPlugin,
          setting("login", "worker", { token: "t-42", region: "us" }),
          setting("count", "raw", { items: 3, dry: true }),
          step("use", "worker", "echo", `payload = "\${vars.token} in \${vars.region}: \${vars.items} \${vars.dry}"`)
        ].join("\n")
      )
      expect(results.map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded"])
      expect(text(byName("use").output!)).toBe("t-42 in us: 3 true")
      expect(byName("login").vars).toEqual({ token: "t-42", region: "us" })
      expect(byName("count").vars).toEqual({ items: "3", dry: "true" })
      expect(byName("use").vars).toEqual({})
      expect(Pipeline.finalVars(pipeline, results)).toEqual({ region: "us", token: "t-42", items: "3", dry: "true" })
    }))

  it.scopedLive("a group sees the variables of its start; disagreeing steps fail the later one, naming both", () =>
    Effect.gen(function*() {
      const { byName, events, pipeline, results } = yield* runPipeline(() =>
        [
          `[vars]\nx = "old"\n`,
          workerPlugin(),
          rawPlugin,
          setting("a", "raw", { x: "new", y: "1" }, "parallel = true"),
          step("b", "worker", "echo", `payload = "b saw \${vars.x}"\nparallel = true`),
          setting("c", "worker", { x: "other", z: "dropped" }, "parallel = true\ncontinue_on_error = true"),
          setting("d", "raw", { x: "new" }, "parallel = true"),
          step("after", "worker", "echo", `payload = "\${vars.x} \${vars.y}"`)
        ].join("\n")
      )
      expect(text(byName("b").output!)).toBe("b saw old")
      expect(results.map((r) => [r.name, r.status])).toEqual([
        ["a", "succeeded"], ["b", "succeeded"], ["c", "failed"], ["d", "succeeded"], ["after", "succeeded"]
      ])
      expect(byName("c")).toMatchObject({
        output: undefined,
        vars: {},
        error: { _tag: "PipelineVariableConflict", variable: "x", step: "c", value: "other", otherStep: "a", otherValue: "new" }
      })
      expect(byName("c").error?.message).toContain(`steps "a" and "c"`)
      expect(text(byName("after").output!)).toBe("new 1")
      expect(Pipeline.finalVars(pipeline, results)).toEqual({ x: "new", y: "1" })
      const finished = events.find((e) => e._tag === "StepFinished" && e.step.name === "c")
      expect(finished?._tag === "StepFinished" && finished.result.status).toBe("failed")
      // Without continue_on_error a conflict stops the pipeline like any failure.
      const stopped = yield* runPipeline(() =>
        [rawPlugin, setting("a", "raw", { x: "1" }, "parallel = true"), setting("b", "raw", { x: "2" }, "parallel = true"), step("later", "raw", "request")].join("\n")
      )
      expect(stopped.results.map((r) => r.status)).toEqual(["succeeded", "failed", "skipped"])
    }))

  it.scopedLive("a bad variable name or value from a plugin fails its step with PipelineVariableInvalid", () =>
    Effect.gen(function*() {
      const { byName, results } = yield* runPipeline(() =>
        [
          rawPlugin,
          setting("bad_name", "raw", { "bad name!": "v" }, "continue_on_error = true"),
          setting("bad_value", "raw", { fine: "1", deep: { a: 1 } }, "continue_on_error = true"),
          step("unset", "raw", "request", `payload = "\${vars.fine}"\ncontinue_on_error = true`),
          setting("not_object", "raw", ["x"]),
          step("later", "raw", "request")
        ].join("\n")
      )
      expect(results.map((r) => r.status)).toEqual(["failed", "failed", "failed", "failed", "skipped"])
      expect(byName("bad_name").error).toMatchObject({ _tag: "PipelineVariableInvalid", step: "bad_name", plugin: "raw", variable: "bad name!" })
      expect(byName("bad_name").error?.message).toContain("not a variable name")
      expect(byName("bad_value").error).toMatchObject({ _tag: "PipelineVariableInvalid", variable: "deep" })
      // A step whose updates are refused sets nothing, not even its valid ones.
      expect(byName("unset").error).toMatchObject({ _tag: "SubstitutionError", step: "unset", reference: "${vars.fine}" })
      expect(byName("unset").error?.message).toContain("no earlier step's plugin set it")
      expect(byName("not_object").error).toMatchObject({ _tag: "PipelineVariableInvalid", variable: "" })
    }))
})

describe("over the network transports", () => {
  for (const [transport, args] of [["rest", []], ["grpc", ["--grpc"]]] as const) {
    it.scopedLive(`${transport}: one shared plugin is told each step's place and sets variables`, () =>
      Effect.gen(function*() {
        const { byName, pipeline, record, results } = yield* runPipeline(() =>
          [
            `name = "net"\n`,
            inlinePlugin("net", inspectScript, { commType: transport, args }),
            step("left", "net", "context", "parallel = true"),
            step("right", "net", "context", "parallel = true"),
            setting("set", "net", { session: "s-1" }),
            step("use", "net", "echo", `payload = "session \${vars.session}"`)
          ].join("\n")
        )
        expect(record.pids.length).toBe(1)
        expect(contextOf(byName("left").output)).toEqual({ name: "net", step: "left", parallel: true, index: 0, size: 2 })
        expect(contextOf(byName("right").output)).toEqual({ name: "net", step: "right", parallel: true, index: 1, size: 2 })
        expect(text(byName("use").output!)).toBe("session s-1")
        expect(Pipeline.finalVars(pipeline, results)).toEqual({ session: "s-1" })
      }))
  }

  it.scopedLive("the Python example plugin, over REST and over stdio, reads its context and sets variables", () =>
    Effect.gen(function*() {
      const { byName, pipeline, results } = yield* runPipeline(() => pythonPipeline)
      expect(contextOf(byName("one").output)).toEqual({ name: "py", step: "one", parallel: true, index: 0, size: 2 })
      expect(contextOf(byName("two").output)).toEqual({ name: "py", step: "two", parallel: true, index: 1, size: 2 })
      expect(text(byName("use").output!)).toBe("HELLO WORLD")
      expect(Pipeline.finalVars(pipeline, results)).toEqual({ greeting: "hello", who: "hello world" })
    }))
})

describe("goplugin run", () => {
  it("prints the variables plugins set, in the summary and in --json", async () => {
    const temp = makeTempDir()
    const gopluginDir = path.join(temp, "gp")
    try {
      fs.writeFileSync(path.join(temp, "pipeline.toml"), pythonPipeline)
      const [plain, asJson] = await Promise.all([
        goplugin(gopluginDir, ["run"], { cwd: temp }),
        goplugin(gopluginDir, ["run", "--json"], { cwd: temp })
      ])
      expect(plain.code, plain.stderr).toBe(0)
      expect(plain.stdout).toMatch(/ok {5}remember \([\d.]+ ms\), set greeting/)
      expect(plain.stdout).toMatch(/VARIABLE +VALUE +SET BY\ngreeting +hello +remember\nwho +hello world +again/)
      expect(asJson.code, asJson.stderr).toBe(0)
      expect(json(asJson)).toMatchObject({
        ok: true,
        vars: { greeting: "hello", who: "hello world" },
        steps: [
          { name: "one", vars: {} },
          { name: "two", vars: {}, output: `{"pipeline": {"name": "py", "step": "two", "parallel": true, "index": 1, "size": 2}}` },
          { name: "remember", vars: { greeting: "hello" } },
          { name: "again", vars: { who: "hello world" } },
          { name: "use", output: "HELLO WORLD" }
        ]
      })
      expect(await leftovers(`GOPLUGIN_DIR=${gopluginDir}`)).toEqual([])
    } finally {
      removeDir(temp)
    }
  }, 30_000)
})
