/**
 * The config text patcher (`internal/tomlText`) and `ConfigEditor.planRegistration`, as pure functions:
 * no files, no processes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { parse } from "smol-toml"
import { planRegistration } from "../src/ConfigEditor.js"
import { applyEdits, blocksOf, findArrayEnd } from "../src/internal/tomlText.js"
import type { Registration } from "../src/Manifest.js"

const MD5 = "d194b7bad208c2ddfa0ef597fd4abcc5"
const FILE = "/home/me/.goplugin/config.toml"

const registration = (entry: Record<string, unknown> = {}, hosts: ReadonlyArray<string> = ["app"]): Registration => ({
  name: "log",
  hosts,
  entry: { md5: MD5, exec: "/opt/log/run", comm_type: "rest", ...entry },
  execFile: "/opt/log/run",
  manifest: "/opt/log/goplugin.toml"
})

const right = <A, E>(either: Either.Either<A, E>): A => {
  if (Either.isLeft(either)) throw new Error(`expected a success, got ${String(either.left)}`)
  return either.right
}
const left = <A, E>(either: Either.Either<A, E>): E => {
  if (Either.isRight(either)) throw new Error("expected a failure, got a success")
  return either.left
}

describe("tomlText", () => {
  it("finds tables, ignoring brackets inside strings, multi-line strings, arrays and comments", () => {
    const text = [
      "# [not.a.table]",
      "[meta]",
      `note = "[also.not]"`,
      `long = """`,
      "[inside.a.string]",
      `"""`,
      "",
      `[plugins."my plugin"]`,
      "exec_args = [",
      "  \"[x]\",",
      "]",
      "# trailing comment",
      "",
      "[[steps]]",
      "name = 'a'"
    ].join("\n")
    const { blocks } = blocksOf(text)
    expect(blocks.map((b) => ({ keys: b.keys, isArray: b.isArray, start: b.start, contentEnd: b.contentEnd, end: b.end }))).toEqual([
      { keys: ["meta"], isArray: false, start: 1, contentEnd: 5, end: 7 },
      { keys: ["plugins", "my plugin"], isArray: false, start: 7, contentEnd: 10, end: 13 },
      { keys: ["steps"], isArray: true, start: 13, contentEnd: 14, end: 15 }
    ])
  })

  it("finds where a new element of a key's array goes, past comments and strings holding brackets", () => {
    const text = `[hosts.app]\nplugins = [\n  "a]", # a comment ]\n  "b",\n]\n`
    const found = findArrayEnd(text, 0, text.length, "plugins")
    expect(found?.lastSignificant).toBe(",")
    expect(applyEdits(text, [{ start: found!.insertAt, end: found!.insertAt, text: ` "c"` }])).toBe(
      `[hosts.app]\nplugins = [\n  "a]", # a comment ]\n  "b", "c"\n]\n`
    )
    const empty = `plugins = []`
    expect(findArrayEnd(empty, 0, empty.length, "plugins")).toEqual({ insertAt: 11, lastSignificant: "[" })
    expect(findArrayEnd(`other = [1]`, 0, 11, "plugins")).toBeUndefined()
  })

  it("applies edits from the end, and edits at one offset in the order given", () => {
    expect(applyEdits("abcdef", [
      { start: 1, end: 2, text: "B" },
      { start: 4, end: 4, text: "1" },
      { start: 4, end: 4, text: "2" }
    ])).toBe("aBcd12ef")
  })
})

describe("ConfigEditor.planRegistration", () => {
  it("creates a file with a header, the plugin and its hosts", () => {
    const plan = right(planRegistration(FILE, undefined, registration({}, ["app", "ops"])))
    expect(plan).toMatchObject({ created: true, change: "added", hostsCreated: ["app", "ops"], hostsJoined: [], commentsKept: true })
    expect(plan.text.startsWith("# goplugin config")).toBe(true)
    expect(parse(plan.text)).toEqual({
      plugins: { log: { md5: MD5, exec: "/opt/log/run", comm_type: "rest" } },
      hosts: { app: { plugins: ["log"] }, ops: { plugins: ["log"] } }
    })
  })

  it("adds the plugin after the last plugin and joins an existing host, keeping comments and layout", () => {
    const existing = [
      "# my config",
      "[settings]",
      "call_timeout = 10 # slow machine",
      "",
      "[plugins.other]",
      `md5 = "${MD5}"`,
      `exec = "/opt/other"`,
      `comm_type = "grpc"`,
      "",
      "[hosts.app]",
      "plugins = [",
      `  "other", # the first one`,
      "]",
      ""
    ].join("\n")
    const plan = right(planRegistration(FILE, existing, registration()))
    expect(plan).toMatchObject({ created: false, change: "added", hostsJoined: ["app"], hostsCreated: [], commentsKept: true })
    expect(plan.text).toBe([
      ...existing.split("\n").slice(0, 9),
      "[plugins.log]",
      `md5 = "${MD5}"`,
      `exec = "/opt/log/run"`,
      `comm_type = "rest"`,
      "",
      "[hosts.app]",
      "plugins = [",
      `  "other", "log" # the first one`,
      "]",
      ""
    ].join("\n"))
  })

  it("changes nothing when the file already says it all (defaults filled in count as equal)", () => {
    const existing = `[plugins.log]\nmd5 = "${MD5}"\nexec = "/opt/log/run"\ncomm_type = "rest"\nexec_time = 5\n\n[hosts.app]\nplugins = ["log"]\n`
    const plan = right(planRegistration(FILE, existing, registration()))
    expect(plan).toMatchObject({ change: "unchanged", hostsUnchanged: ["app"], text: existing })
  })

  it("refuses to replace a plugin registered with other settings, naming the TOML keys, unless forced", () => {
    const existing = `[plugins.log]\nmd5 = "${MD5}"\nexec = "/opt/log/run"\ncomm_type = "rest"\nexec_time = 5\n\n[hosts.app]\nplugins = ["log"]\n`
    const changed = registration({ exec_args: ["--verbose"], exec_time: 7 })
    const conflict = left(planRegistration(FILE, existing, changed))
    expect(conflict).toMatchObject({ _tag: "PluginConflict", plugin: "log" })
    expect([...(conflict as { fields: ReadonlyArray<string> }).fields].sort()).toEqual(["exec_args", "exec_time"])
    const forced = right(planRegistration(FILE, existing, changed, { force: true }))
    expect(forced).toMatchObject({ change: "updated", commentsKept: true })
    expect(parse(forced.text)["plugins"]).toEqual({ log: { md5: MD5, exec: "/opt/log/run", comm_type: "rest", exec_args: ["--verbose"], exec_time: 7 } })
  })

  it("rewrites from the data, without comments, a layout the patcher cannot follow", () => {
    const existing = `# comment\nhosts = { app = { plugins = [] } }\n`
    const plan = right(planRegistration(FILE, existing, registration()))
    expect(plan.commentsKept).toBe(false)
    expect(plan.text).not.toContain("# comment")
    expect(parse(plan.text)["hosts"]).toEqual({ app: { plugins: ["log"] } })
  })

  it("fails with the parse error of a file that is not TOML, and refuses an entry the config would not accept", () => {
    expect(left(planRegistration(FILE, `[plugins\n`, registration()))._tag).toBe("ConfigParseError")
    expect(left(planRegistration(FILE, undefined, registration({ call_timeout: 1e300 })))).toMatchObject({
      _tag: "ConfigInvalid",
      path: "plugins.log.call_timeout"
    })
  })
})
