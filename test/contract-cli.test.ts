/**
 * `goplugin contract`: the JSON Schema a plugin author in another language works from, and the errors
 * when the module holds no (single, printable) contract.
 */
import { afterAll, describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { goplugin, json, makeTempDir, removeDir } from "./cliHelpers.js"
import { built, root } from "./helpers.js"

const dir = makeTempDir()
afterAll(() => removeDir(dir))

describe("goplugin contract", () => {
  it("prints the example contract exactly as committed for the Python plugin", async () => {
    const run = await goplugin(dir, ["contract", built("examples/typed/contract.js")])
    expect(run.code, run.stderr).toBe(0)
    const committed = JSON.parse(fs.readFileSync(path.join(root, "examples", "typed", "billing.schema.json"), "utf8"))
    const printed = json<{ commands: Record<string, Record<string, unknown>> }>(run)
    expect(printed).toEqual(committed)
    expect(Object.keys(printed.commands)).toEqual(["charge", "health"])
    expect(Object.keys(printed.commands["charge"] ?? {})).toEqual(["payload", "success", "error"])
    expect(printed.commands["health"]?.["payload"]).toMatchObject({ type: "null" })
  })

  it("picks a named export, and names the choices when the module holds several", async () => {
    const fixtures = built("test/fixtures/contracts.js")
    const named = await goplugin(dir, ["contract", fixtures, "Good"])
    expect(named.code, named.stderr).toBe(0)
    expect(json<{ commands: Record<string, unknown> }>(named).commands).toHaveProperty("hello")

    const several = await goplugin(dir, ["contract", fixtures])
    expect(several.code).toBe(2)
    expect(several.errorLines).toEqual([
      `goplugin: no contract in ${fixtures}: it exports several (Good, Unprintable); name one: goplugin contract ${fixtures} <export>`
    ])
  })

  it("refuses an export that is not a contract, and a module that exports none", async () => {
    const fixtures = built("test/fixtures/contracts.js")
    const missing = await goplugin(dir, ["contract", fixtures, "notAContract"])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("it is not an RpcGroup; the module's contracts: Good, Unprintable")
    const none = await goplugin(dir, ["contract", built("examples/typed/handlers.js")])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain("exports no RpcGroup")
  })

  it("says which command and part cannot be printed as JSON Schema", async () => {
    const run = await goplugin(dir, ["contract", built("test/fixtures/contracts.js"), "Unprintable", "--json"])
    expect(run.code).toBe(2)
    const error = JSON.parse(run.stderr.trim()) as { error: { tag: string; details: Record<string, unknown> } }
    expect(error.error).toMatchObject({ tag: "ContractSchemaError", details: { command: "big", part: "payload" } })
  })
})
