// A host program using only the installed package: writes a config for plugin.mjs with its real md5,
// starts the plugin, calls it, and stops it when the scope closes.
import { NodeRuntime } from "@effect/platform-node"
import { Console, Effect } from "effect"
import { Executor, GoPlugin, HostLogger, Md5Checker } from "goplugin-effect"
import * as fs from "node:fs"
import * as path from "node:path"

const dir = process.env.GOPLUGIN_DIR
const plugin = path.resolve("plugin.mjs")

const program = Effect.gen(function*() {
  const container = yield* Executor.fromHost("app")
  const caller = yield* container.run("packed")
  yield* Console.log(`ping: ${yield* caller.ping}`)
  const out = yield* caller.exec("upper", new TextEncoder().encode("packed"))
  yield* Console.log(`exec upper: ${new TextDecoder().decode(out)}`)
})

const setup = Effect.gen(function*() {
  const md5 = yield* Effect.flatMap(Md5Checker.Md5Checker, (checker) => checker.digest(plugin))
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(
    path.join(dir, "config.toml"),
    `[plugins.packed]\nmd5 = "${md5}"\nexec = ${JSON.stringify(process.execPath)}\nexec_args = [${JSON.stringify(plugin)}]\n` +
      `exec_file = ${JSON.stringify(plugin)}\ncomm_type = "rest"\n\n[hosts.app]\nplugins = ["packed"]\n`
  )
}).pipe(Effect.provide(Md5Checker.layer))

Effect.zipRight(setup, program.pipe(Effect.scoped, Effect.provide(GoPlugin.layer()))).pipe(
  Effect.provide(HostLogger.layer()),
  NodeRuntime.runMain
)
