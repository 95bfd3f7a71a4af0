/**
 * The `goplugin` command against a temporary GOPLUGIN_DIR: register the example plugins from their
 * manifests, check the config, ping and exec them, and see every failure come out as one line with its
 * documented exit code, with no process left behind. Most runs are in-process (`runCli`, the same
 * parser and handlers as `bin.ts`); a few run the built command as a subprocess, end to end.
 */
import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { built, md5Of, root, survivors } from "./helpers.js"
import { type CliRun, exampleGopluginDirs, goplugin, gopluginInProcess as cli, json } from "./cliHelpers.js"

const manifest = (name: string) => path.join(root, "examples", "manifests", name)

/** Exactly one line on stderr, a human one: no stack trace, no Effect cause dump. */
const expectOneErrorLine = (run: CliRun, code: number, contains: string) => {
  expect(run.code, run.stderr).toBe(code)
  expect(run.errorLines, run.stderr).toHaveLength(1)
  expect(run.errorLines[0]).toMatch(/^goplugin: /)
  expect(run.errorLines[0]).toContain(contains)
  expect(run.stderr).not.toMatch(/\n\s+at /)
}

// Every test's plugins are gone afterwards: found by the GOPLUGIN_DIR in their environment.
// `registered()`: a GOPLUGIN_DIR with the example REST and gRPC plugins registered from their manifests.
const { registered, tempDir } = exampleGopluginDirs()

describe("goplugin register, config, plugins, ping, exec", () => {
  it("registers the examples from their manifests, shows and checks the config, and lists the plugins", async () => {
    const dir = path.join(tempDir(), "gp")
    const config = path.join(dir, "config.toml")

    const rest = await cli(dir, ["register", manifest("ts-rest"), "--json"])
    expect(rest.code, rest.stderr).toBe(0)
    expect(json(rest)).toMatchObject({
      file: config,
      created: true,
      plugin: "ts_rest",
      change: "added",
      hostsCreated: ["demo"],
      written: true,
      execFile: built("examples/rest-plugin.cjs"),
      md5: md5Of(built("examples/rest-plugin.cjs"))
    })
    const grpc = json(await cli(dir, ["register", manifest("ts-grpc"), "--json"]))
    expect(grpc).toMatchObject({ created: false, change: "added", hostsJoined: ["demo"], hostsCreated: [] })
    const again = json(await cli(dir, ["register", manifest("ts-rest"), "--json"]))
    expect(again).toMatchObject({ change: "unchanged", written: false, hostsUnchanged: ["demo"] })

    expect(json(await cli(dir, ["config", "path", "--json"]))).toEqual({ file: config, reason: "GOPLUGIN_DIR is set", exists: true })
    const shown = json<{ plugins: Record<string, { exec: string; exec_args: Array<string> }> }>(
      await cli(dir, ["config", "show", "--json"])
    )
    expect(shown.plugins["ts_rest"]).toMatchObject({ exec: "node", exec_args: [built("examples/rest-plugin.cjs")] })

    const check = await cli(dir, ["config", "check", "--json"])
    expect(check.code, check.stderr).toBe(0)
    expect(json(check)).toMatchObject({
      file: config,
      ok: true,
      problems: 0,
      hosts: [{ host: "demo", plugins: [{ plugin: "ts_rest", ok: true }, { plugin: "ts_grpc", ok: true }] }]
    })
    const listed = json<{ plugins: Array<Record<string, unknown>> }>(await cli(dir, ["plugins", "--json"]))
    expect(listed.plugins.map((p) => [p["plugin"], p["protocol"], p["hosts"], p["status"]])).toEqual([
      ["ts_rest", "rest", ["demo"], "ok"],
      ["ts_grpc", "grpc", ["demo"], "ok"]
    ])

  })

  for (const plugin of ["ts_rest", "ts_grpc"]) {
    it(`pings and execs ${plugin}, and stops it`, async () => {
      const dir = await registered()
      const pids: Array<number> = []
      const ping = await cli(dir, ["ping", "demo", plugin, "--json"])
      expect(ping.code, ping.stderr).toBe(0)
      const answer = json<{ response: string; pid: number; protocol: string }>(ping)
      expect(answer).toMatchObject({ host: "demo", plugin, response: "pong", protocol: plugin === "ts_rest" ? "rest" : "grpc" })
      pids.push(answer.pid)

      const upper = await cli(dir, ["exec", "demo", plugin, "upper", "--data", "héllo plugin"])
      expect(upper.code, upper.stderr).toBe(0)
      expect(upper.stdout).toBe("HÉLLO PLUGIN\n")
      expect(upper.stderr).toBe("")

      const reversed = json(await cli(dir, ["exec", "demo", plugin, "reverse", "--hex", "00ff10", "--json"]))
      expect(reversed).toMatchObject({ command: "reverse", bytes: 3, encoding: "hex", response: "10ff00", out: null })
      pids.push(reversed["pid"] as number)
      expect(await Effect.runPromise(survivors(pids))).toEqual([])
    })
  }

  it("[settings] log_level shows plugin lines, one line each with plugin, pid and host; --log-level wins over it", async () => {
    const dir = await registered()
    const config = path.join(dir, "config.toml")
    fs.writeFileSync(config, `[settings]\nlog_level = "info"\n\n${fs.readFileSync(config, "utf8")}`)
    const chatty = await cli(dir, ["ping", "demo", "ts_rest"])
    expect(chatty.code, chatty.stderr).toBe(0)
    expect(chatty.errorLines).toContainEqual(expect.stringMatching(/^\[info\] ts_rest pid=\d+ host=demo: listening on 127\.0\.0\.1:\d+ \(rest\)$/))
    const quiet = await cli(dir, ["ping", "demo", "ts_rest", "--log-level", "error"])
    expect(quiet.code, quiet.stderr).toBe(0)
    expect(quiet.stderr).toBe("")
  })

  it("end to end: the built command execs a plugin with a payload from stdin and writes the answer to a file", async () => {
    const dir = await registered()
    const out = path.join(path.dirname(dir), "answer.bin")
    const written = await goplugin(dir, ["exec", "demo", "ts_rest", "echo", "--file", "-", "--out", out], { input: "raw\u0000bytes" })
    expect(written.code, written.stderr).toBe(0)
    expect(written.stdout).toBe(`wrote 9 bytes to ${out}\n`)
    expect(written.stderr).toBe("")
    expect(fs.readFileSync(out, "utf8")).toBe("raw\u0000bytes")
  })

  it("config check lists a checksum mismatch and exits 4; ping refuses the plugin; register needs --force", async () => {
    const temp = tempDir()
    const dir = path.join(temp, "gp")
    const pluginDir = path.join(temp, "copy")
    fs.mkdirSync(pluginDir)
    fs.copyFileSync(path.join(root, "examples", "python", "plugin.py"), path.join(pluginDir, "plugin.py"))
    fs.writeFileSync(
      path.join(pluginDir, "goplugin.toml"),
      `[plugin]\nname = "copy"\nexec = "python3"\nexec_args = ["./plugin.py"]\nexec_file = "./plugin.py"\n` +
        `comm_type = "rest"\nhosts = ["app"]\n`
    )
    expect((await cli(dir, ["register", pluginDir])).code).toBe(0)
    const registeredMd5 = md5Of(path.join(pluginDir, "plugin.py"))
    fs.appendFileSync(path.join(pluginDir, "plugin.py"), "# changed after registration\n")

    const report = await cli(dir, ["config", "check", "--json"])
    expect(report.code).toBe(4)
    expect(json(report)).toMatchObject({
      ok: false,
      problems: 1,
      hosts: [{
        host: "app",
        plugins: [{
          plugin: "copy",
          ok: false,
          error: {
            tag: "ChecksumMismatch",
            exitCode: 4,
            details: { algorithm: "md5", expected: registeredMd5, actual: md5Of(path.join(pluginDir, "plugin.py")) }
          }
        }]
      }]
    })
    expect(report.errorLines).toHaveLength(1)
    expect(JSON.parse(report.errorLines[0]!)).toMatchObject({ error: { tag: "CheckFailed", exitCode: 4 } })

    const human = await cli(dir, ["config", "check"])
    expectOneErrorLine(human, 4, "config check found 1 problem(s)")
    expect(human.stdout).toContain(`FAIL  copy`)
    expect(human.stdout).toContain(`but the config expects ${registeredMd5}`)

    const refused = await cli(dir, ["ping", "app", "copy"])
    expectOneErrorLine(refused, 4, `md5 of ${path.join(pluginDir, "plugin.py")}`)
    expect(refused.errorLines[0]).toContain(`register it again: goplugin register ${pluginDir} --force`)
    expectOneErrorLine(await cli(dir, ["register", pluginDir]), 7, `plugin "copy" is already registered with different md5`)
    expect(json(await cli(dir, ["register", pluginDir, "--force", "--json"]))).toMatchObject({ change: "updated" })
    expect((await cli(dir, ["config", "check"])).code).toBe(0)
  })
})

describe("goplugin register edits an existing config", () => {
  it("keeps comments and every other entry, and adds the plugin to an existing host's ACL", async () => {
    const dir = path.join(tempDir(), "gp")
    fs.mkdirSync(dir)
    const before = [
      "# team config: do not remove this comment",
      "[settings]",
      "call_timeout = 7 # seconds",
      "",
      "[plugins.other]",
      `md5 = "${md5Of(path.join(root, "examples", "python", "plugin.py"))}"`,
      `exec = "python3"`,
      `exec_args = [${JSON.stringify(path.join(root, "examples", "python", "plugin.py"))}]`,
      `exec_file = ${JSON.stringify(path.join(root, "examples", "python", "plugin.py"))}`,
      `comm_type = "rest"`,
      "",
      "# who may use what",
      "[hosts.demo]",
      `plugins = ["other"] # keep`,
      ""
    ].join("\n")
    fs.writeFileSync(path.join(dir, "config.toml"), before)
    const run = json(await cli(dir, ["register", manifest("ts-rest"), "--json"]))
    expect(run).toMatchObject({ change: "added", hostsJoined: ["demo"], commentsKept: true, backup: null })
    const after = fs.readFileSync(path.join(dir, "config.toml"), "utf8")
    for (const kept of ["# team config: do not remove this comment", "call_timeout = 7 # seconds", "# who may use what", "[plugins.other]"]) {
      expect(after).toContain(kept)
    }
    expect(after).toContain(`plugins = ["other", "ts_rest"] # keep`)
    expect(after.indexOf("[plugins.ts_rest]")).toBeLessThan(after.indexOf("# who may use what"))
    expect((await cli(dir, ["config", "check"])).code).toBe(0)
  })

  it("rewrites a layout it cannot patch from its data, keeping the previous file as config.toml.bak", async () => {
    const dir = path.join(tempDir(), "gp")
    fs.mkdirSync(dir)
    const script = path.join(root, "examples", "python", "plugin.py")
    const before = `# inline tables\n[plugins]\nother = { md5 = "${md5Of(script)}", exec = "python3", comm_type = "rest" }\n` +
      `[hosts]\ndemo = { plugins = ["other"] }\n`
    fs.writeFileSync(path.join(dir, "config.toml"), before)
    const run = await cli(dir, ["register", manifest("ts-rest"), "--json"])
    expect(run.code, run.stderr).toBe(0)
    expect(json(run)).toMatchObject({ change: "added", commentsKept: false, backup: path.join(dir, "config.toml.bak") })
    expect(fs.readFileSync(path.join(dir, "config.toml.bak"), "utf8")).toBe(before)
    const shown = json<{ plugins: Record<string, unknown> }>(await cli(dir, ["config", "show", "--json"]))
    expect(Object.keys(shown.plugins).sort()).toEqual(["other", "ts_rest"])
    expect(shown).toMatchObject({ hosts: { demo: { plugins: ["other", "ts_rest"] } } })
  })
})

describe("goplugin errors and help", () => {
  it("prints one line and the documented exit code for each kind of failure", async () => {
    const temp = tempDir()
    const dir = path.join(temp, "gp")
    expectOneErrorLine(await cli(dir, ["config", "check"]), 3, "No goplugin config file found")
    expectOneErrorLine(await cli(dir, ["md5", path.join(temp, "missing.js")]), 4, "Cannot read")
    expectOneErrorLine(await cli(dir, ["register", path.join(temp, "nowhere")]), 7, "No plugin manifest")
    expectOneErrorLine(await goplugin(dir, ["nope"]), 2, "See: goplugin --help")
    expectOneErrorLine(await cli(dir, ["ping", "demo"]), 2, "See: goplugin ping --help")
    expectOneErrorLine(await cli(dir, ["exec", "demo", "ts_rest", "echo", "--data", "a", "--hex", "00"]), 2, "at most one of")
    expectOneErrorLine(await cli(dir, ["exec", "demo", "ts_rest", "echo", "--hex", "xyz"]), 2, "is not hex bytes")

    expect((await cli(dir, ["register", manifest("ts-rest")])).code).toBe(0)
    expectOneErrorLine(await cli(dir, ["ping", "nohost", "ts_rest"]), 3, `Host "nohost" is not defined`)
    expectOneErrorLine(await cli(dir, ["exec", "demo", "ts_rest", "no.such.command"]), 6, `exec "no.such.command" failed`)
    const asJson = await cli(dir, ["ping", "demo", "nope", "--json"])
    expect(asJson.code).toBe(3)
    expect(asJson.stdout).toBe("")
    expect(JSON.parse(asJson.stderr)).toMatchObject({ error: { tag: "PluginNotFound", exitCode: 3, details: { plugin: "nope" } } })

    const pluginDir = path.join(temp, "claims")
    fs.mkdirSync(pluginDir)
    fs.writeFileSync(path.join(pluginDir, "run.sh"), "#!/bin/sh\n")
    fs.writeFileSync(
      path.join(pluginDir, "goplugin.toml"),
      `[plugin]\nname = "claims"\nexec = "/bin/sh"\nexec_args = ["./run.sh"]\nexec_file = "./run.sh"\n` +
        `md5 = "00000000000000000000000000000000"\ncomm_type = "rest"\n`
    )
    expectOneErrorLine(await cli(dir, ["register", pluginDir]), 7, "claims md5 00000000000000000000000000000000")
    expect(json(await cli(dir, ["register", pluginDir, "--trust-file", "--json"]))).toMatchObject({
      change: "added",
      md5: md5Of(path.join(pluginDir, "run.sh"))
    })
  })

  it("config check refuses an unusable config file with exit 3 and one short line (never \"0 hosts verified\")", async () => {
    const temp = tempDir()
    const cases: ReadonlyArray<[string, string | Buffer | null, string]> = [
      ["empty", "", "the file is empty"],
      ["folder", null, "it is a folder"],
      ["latin1", Buffer.from([0x5b, 0x6d, 0x65, 0x74, 0x61, 0x5d, 0x0a, 0xe9, 0x0a]), "not valid UTF-8"],
      ["long-value", `[settings]\ncall_timeout = 1e300\ndebug = "${"x".repeat(10_000_000)}"\n`, "characters in all"]
    ]
    // One at a time: in-process runs share the process's stdout and stderr.
    const runs: Array<CliRun> = []
    for (const [name, content] of cases) {
      const dir = path.join(temp, name)
      fs.mkdirSync(dir)
      if (content === null) fs.mkdirSync(path.join(dir, "config.toml"))
      else fs.writeFileSync(path.join(dir, "config.toml"), content)
      runs.push(await cli(dir, ["config", "check"]))
    }
    runs.forEach((run, i) => {
      const [name, , expected] = cases[i]!
      expectOneErrorLine(run, 3, expected)
      expect(run.stderr.length, name).toBeLessThan(2000)
    })
  })

  it("--help works on every command: an example, the full command name, each argument described, plain text in a pipe", async () => {
    const dir = path.join(tempDir(), "gp")
    const commands = [[], ["config"], ["config", "path"], ["config", "check"], ["config", "show"], ["md5"], ["register"], ["plugins"], ["ping"], ["exec"], ["run"], ["up"]]
    const runs = await Promise.all(commands.map((command) => cli(dir, [...command, "--help"])))
    // End to end, piped into a file as a user would: stdout is not a terminal.
    runs.push(await goplugin(dir, ["ping", "--help"]))
    commands.push(["ping"])
    runs.forEach((run, i) => {
      const command = ["goplugin", ...commands[i]!].join(" ")
      expect(run.code, `${command} --help: ${run.stderr}`).toBe(0)
      expect(run.stdout).toMatch(/Examples?:/)
      expect(run.stdout).toContain("$ goplugin")
      expect(run.stdout).not.toContain("\u001b[")
      expect(run.stdout).not.toContain("A user-defined piece of text")
      expect(run.stdout.split("\n")).toContainEqual(expect.stringMatching(new RegExp(`^\\$ ${command}( |$)`)))
      // No column padding: descriptions sit under their usage line.
      for (const line of run.stdout.split("\n")) expect(line, command).not.toMatch(/\S {4,}\S/)
    })
    expect(runs[0]!.stdout).toMatch(/^ {2}- ping \[--json\] <host> <plugin>\n {6}Start a plugin/m)
  })
})

describe("goplugin run", () => {
  it("runs a pipeline of inline plugins and prints the results as JSON", async () => {
    const temp = tempDir()
    const dir = path.join(temp, "gp")
    const stdioPlugin = built("examples/stdio-plugin.cjs")
    fs.writeFileSync(
      path.join(temp, "pipeline.toml"),
      [
        `[plugins.text]`,
        `exec = ${JSON.stringify(process.execPath)}`,
        `exec_args = [${JSON.stringify(stdioPlugin)}]`,
        `exec_file = ${JSON.stringify(stdioPlugin)}`,
        `md5 = "${md5Of(stdioPlugin)}"`,
        `comm_type = "stdio"`,
        ``,
        `[[steps]]`,
        `name = "upper"`,
        `plugin = "text"`,
        `command = "upper"`,
        `payload = "hello"`,
        ``,
        `[[steps]]`,
        `name = "broken"`,
        `plugin = "text"`,
        `command = "no.such.command"`,
        ``
      ].join("\n")
    )
    const run = await goplugin(dir, ["run", "--json"], { cwd: temp })
    expect(run.code, run.stderr).toBe(8)
    expect(json(run)).toMatchObject({
      ok: false,
      steps: [
        { name: "upper", status: "succeeded", encoding: "utf8", output: "HELLO" },
        { name: "broken", status: "failed", error: { tag: "CallError" } }
      ]
    })
    expect(JSON.parse(run.errorLines.at(-1)!)).toMatchObject({ error: { tag: "PipelineStepFailed", exitCode: 8 } })
  })
})
