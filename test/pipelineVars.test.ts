/**
 * The pure parts of pipeline variables and context, without processes: reading a plugin's updates,
 * merging a parallel group's updates, the final variables, and the context's wire forms.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Pipeline from "../src/Pipeline.js"
import { decodePipeline } from "../src/PipelineConfig.js"
import { PipelineVariableConflict } from "../src/PluginError.js"
import { contextHeaders, contextJson, headerText, readContextHeaders, readContextJson } from "../src/internal/pipelineContext.js"
import { applyUpdates, mergeGroup, readUpdates } from "../src/internal/pipelineVars.js"
import { execRequest } from "../src/StdioCaller.js"

describe("variable updates from plugins", () => {
  it("reads names of [vars] characters with string, number and boolean values as text; no vars is no update", () => {
    expect(readUpdates({ token: "abc", "max-items_2": 10, ratio: 0.5, on: false })).toEqual(
      Either.right({ token: "abc", "max-items_2": "10", ratio: "0.5", on: "false" })
    )
    expect(readUpdates(undefined)).toEqual(Either.right({}))
    // A name that is special to JavaScript objects stays an ordinary variable.
    const special = readUpdates(JSON.parse(`{"__proto__":"p","constructor":"c"}`))
    expect(Either.isRight(special) && Object.hasOwn(special.right, "__proto__") && special.right["constructor"]).toBe("c")
    const applied = applyUpdates({}, [Either.getOrThrow(special)])
    expect(Object.hasOwn(applied, "__proto__") && applied["__proto__"]).toBe("p")
    expect(readUpdates({})).toEqual(Either.right({}))
  })

  it("refuses a bad name, a bad value and vars that are not an object, naming the variable", () => {
    const cases: ReadonlyArray<readonly [unknown, string | undefined, string]> = [
      [{ "bad name": "x" }, "bad name", "not a variable name"],
      [{ "": "x" }, "", "not a variable name"],
      [{ "vars.x": "x" }, "vars.x", "not a variable name"],
      [{ ok: "1", nested: { a: 1 } }, "nested", "is an object"],
      [{ list: [1] }, "list", "is an array"],
      [{ gone: null }, "gone", "is null"],
      [{ inf: Number.POSITIVE_INFINITY }, "inf", "is Infinity"],
      [["a"], undefined, `"vars" is an array`],
      ["a=b", undefined, `"vars" is a string`],
      [null, undefined, `"vars" is null`]
    ]
    for (const [raw, variable, problem] of cases) {
      const read = readUpdates(raw)
      expect(Either.isLeft(read), JSON.stringify(raw)).toBe(true)
      if (Either.isRight(read)) continue
      expect(read.left.variable).toBe(variable)
      expect(read.left.problem).toContain(problem)
    }
  })

  it("a group's updates merge in file order; equal values agree", () => {
    const merged = mergeGroup([
      { step: "a", vars: { x: "1", shared: "same" } },
      { step: "b", vars: {} },
      { step: "c", vars: { y: "2", shared: "same" } }
    ])
    expect(merged.conflicts).toEqual([])
    expect(merged.accepted.map((u) => u.step)).toEqual(["a", "b", "c"])
    expect(applyUpdates({ x: "0", z: "kept" }, merged.accepted.map((u) => u.vars))).toEqual({ x: "1", z: "kept", shared: "same", y: "2" })
  })

  it("two steps that disagree are a conflict naming both; the later step's updates are all refused", () => {
    const merged = mergeGroup([
      { step: "first", vars: { x: "1" } },
      { step: "second", vars: { other: "o", x: "2" } },
      { step: "third", vars: { x: "2" } }
    ])
    // "second" is refused as a whole, so "third" disagrees with "first", not with "second".
    expect(merged.accepted.map((u) => u.step)).toEqual(["first"])
    expect(merged.conflicts).toEqual([
      { variable: "x", step: "second", value: "2", otherStep: "first", otherValue: "1" },
      { variable: "x", step: "third", value: "2", otherStep: "first", otherValue: "1" }
    ])
    const error = new PipelineVariableConflict({ file: "/p/pipeline.toml", ...merged.conflicts[0]! })
    expect(error.message).toContain(`steps "first" and "second"`)
    expect(error.message).toContain(`variable "x"`)
    expect(error.message).toContain(`"1" and "2"`)
  })

  it("the final variables are [vars] with every succeeded step's updates, in file order", () => {
    const decoded = decodePipeline("/p/pipeline.toml", `[vars]\nregion = "eu"\n[[steps]]\nname = "a"\nplugin = "p"\ncommand = "c"\n`)
    if (Either.isLeft(decoded)) throw new Error(decoded.left.message)
    const result = (name: string, status: Pipeline.StepResult["status"], vars: Record<string, string>): Pipeline.StepResult => ({
      name, plugin: "p", command: "c", status, startedAt: undefined, finishedAt: undefined, durationMillis: 0,
      output: undefined, error: undefined, vars
    })
    expect(Pipeline.finalVars(decoded.right, [
      result("a", "succeeded", { token: "t1", region: "us" }),
      result("b", "failed", {}),
      result("c", "succeeded", { token: "t2" })
    ])).toEqual({ region: "us", token: "t2" })
  })

  it("a ${vars.NAME} not in [vars] is refused at load only in the first group, where no plugin can have set it", () => {
    const step = (name: string, extra = "") => `[[steps]]\nname = "${name}"\nplugin = "p"\ncommand = "c"\n${extra}\n`
    const first = decodePipeline("/p/pipeline.toml", step("a", `payload = "\${vars.token}"`))
    expect(Either.isLeft(first) && first.left).toMatchObject({ _tag: "SubstitutionError", step: "a", reference: "${vars.token}" })
    const later = decodePipeline("/p/pipeline.toml", step("a") + step("b", `payload = "\${vars.token}"`))
    expect(Either.isRight(later)).toBe(true)
  })
})

describe("the pipeline context on the wire", () => {
  const context = { name: "nightly report", step: "count", parallel: true, index: 1, size: 2 }

  it("stdio: a \"pipeline\" object after the existing keys, which keep their order", () => {
    expect(execRequest("billing", "upper", new TextEncoder().encode("hi"), context)).toBe(
      `{"type":"exec","command":"upper","payload":"6869","host":"billing",` +
        `"pipeline":{"name":"nightly report","step":"count","parallel":true,"index":1,"size":2}}\n`
    )
    expect(execRequest("billing", "upper", new Uint8Array())).toBe(`{"type":"exec","command":"upper","payload":"","host":"billing"}\n`)
    expect(readContextJson(JSON.parse(contextJson(context)))).toEqual(context)
  })

  it("REST headers and gRPC metadata: five x-goplugin-* entries; names are percent-encoded beyond visible ASCII", () => {
    expect(contextHeaders({ ...context, name: "nächtlich 100%" })).toEqual([
      ["x-goplugin-pipeline", "n%C3%A4chtlich%20100%25"],
      ["x-goplugin-step", "count"],
      ["x-goplugin-parallel", "true"],
      ["x-goplugin-parallel-index", "1"],
      ["x-goplugin-parallel-size", "2"]
    ])
    expect(headerText("/srv/ci/pipeline.toml")).toBe("/srv/ci/pipeline.toml")
    const headers = new Map(contextHeaders(context))
    expect(readContextHeaders((name) => headers.get(name))).toEqual(context)
    expect(readContextHeaders(() => undefined)).toBeUndefined()
  })

  it("malformed context is ignored, not guessed", () => {
    expect(readContextJson({ name: "p", step: "s", parallel: "maybe", index: 0, size: 1 })).toBeUndefined()
    expect(readContextJson({ name: "p", step: "s", parallel: false, index: -1, size: 1 })).toBeUndefined()
    expect(readContextJson("p")).toBeUndefined()
  })
})
