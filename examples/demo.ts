#!/usr/bin/env node
/**
 * The demo behind `npm start`: writes a config for the example plugins (with their real md5), starts
 * each from a host, pings it, execs commands, prints the answers, and shows every process gone at the end.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect, LogLevel } from "effect"
import { Executor, GoPlugin, HostLogger } from "goplugin-effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { typedTour } from "./typed/host.js"

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, "..", "..")

const md5 = (file: string) => crypto.createHash("md5").update(fs.readFileSync(file)).digest("hex")

interface DemoPlugin {
  readonly name: string
  readonly exec: string
  readonly script: string
  readonly commType: string
}

const plugins: ReadonlyArray<DemoPlugin> = [
  { name: "ts_rest", exec: process.execPath, script: path.join(here, "rest-plugin.cjs"), commType: "rest" },
  { name: "ts_grpc", exec: process.execPath, script: path.join(here, "grpc-plugin.js"), commType: "grpc" },
  { name: "py_rest", exec: "python3", script: path.join(repo, "examples", "python", "plugin.py"), commType: "rest" }
]

const configText = (): string =>
  [
    "[meta]",
    `version = "1.0.0"`,
    `author = "goplugin-effect demo"`,
    "",
    "[settings]",
    "call_timeout = 5",
    "",
    ...plugins.flatMap((p) => [
      `[plugins.${p.name}]`,
      `author = "demo|demo@example.com"`,
      `md5 = "${md5(p.script)}"`,
      `exec = ${JSON.stringify(p.exec)}`,
      `exec_args = [${JSON.stringify(p.script)}]`,
      `exec_file = ${JSON.stringify(p.script)}`,
      "exec_time = 10",
      `comm_type = "${p.commType}"`,
      ""
    ]),
    "[hosts.demo]",
    `plugins = [${plugins.map((p) => JSON.stringify(p.name)).join(", ")}]`,
    "",
    "[hosts.other]",
    "plugins = []",
    ""
  ].join("\n")

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const isAlive = (pid: number): boolean => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return !/^\S+ \(.*\) [ZX]/.test(stat)
  } catch {
    return false
  }
}

const program = Effect.gen(function*() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "goplugin-demo-"))
  const configFile = path.join(dir, "config.toml")
  fs.writeFileSync(configFile, configText())
  yield* Console.log(`config written to ${configFile} (md5 of each plugin computed from the file)`)

  const pids: Array<number> = []
  const host = Effect.gen(function*() {
    const container = yield* Executor.fromHost("demo")
    for (const plugin of plugins) {
      const started = Date.now()
      const caller = yield* container.run(plugin.name)
      const ready = Date.now() - started
      const running = (yield* container.running).find((r) => r.name === plugin.name)
      const pid = running?.process?.pid ?? 0
      pids.push(pid)
      const pong = yield* caller.ping
      const upper = yield* caller.exec("upper", encoder.encode(`hello from the host to ${plugin.name}`))
      const reversed = yield* caller.exec("reverse", new Uint8Array([0, 1, 2, 254, 255]))
      yield* Console.log(
        `\n[${plugin.name}] ${plugin.commType} plugin, pid ${pid}, ready in ${ready} ms\n` +
          `  ping            -> ${pong}\n` +
          `  exec upper      -> ${decoder.decode(upper)}\n` +
          `  exec reverse    -> [${Array.from(reversed).join(", ")}] (bytes 0,1,2,254,255 reversed)`
      )
    }
    const unknown = yield* Effect.flip(container.run("not_a_plugin"))
    yield* Console.log(`\nasking for a plugin the config does not define fails with ${unknown._tag}:\n  ${unknown.message}`)
    const other = yield* Executor.fromHost("other")
    const refused = yield* Effect.flip(other.run("ts_rest"))
    yield* Console.log(`host "other" asking for ts_rest fails with ${refused._tag}:\n  ${refused.message}`)
    const failed = yield* Effect.flip(
      Effect.flatMap(container.caller("ts_rest"), (caller) => caller.exec("no.such.command", new Uint8Array()))
    )
    yield* Console.log(`an unknown command fails with ${failed._tag}:\n  ${failed.message}`)
    yield* Console.log(`\nclosing the scope: stopping ${pids.length} plugins (SIGTERM to each process group)`)
  })
  yield* host.pipe(Effect.scoped, Effect.provide(GoPlugin.layer({ configFile })))
  const alive = pids.filter(isAlive)
  yield* Console.log(
    alive.length === 0
      ? `all ${pids.length} plugin processes are gone (pids ${pids.join(", ")})`
      : `STILL RUNNING: ${alive.join(", ")}`
  )
  fs.rmSync(dir, { recursive: true, force: true })
  if (alive.length > 0) return yield* Effect.dieMessage("plugin processes outlived their scope")
  yield* typedTour
})

program.pipe(
  Effect.provide(HostLogger.layer({ minimumLevel: LogLevel.Warning })),
  NodeRuntime.runMain
)
