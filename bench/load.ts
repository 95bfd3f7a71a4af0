#!/usr/bin/env node
/**
 * Load run (issue 4): N execs with C in flight against a real REST plugin (default 10,000 at 64),
 * optionally killing the plugin with SIGKILL half-way. Prints failures by reason and the host's
 * memory before and after. Run: `npm run load -- [--calls N] [--concurrency C] [--kill] [--protocol grpc]`.
 */
import { Effect, Logger, LogLevel } from "effect"
import { Executor, GoPlugin } from "goplugin-effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i === -1 ? fallback : process.argv[i + 1] ?? fallback
}
const calls = Number(arg("calls", "10000"))
const concurrency = Number(arg("concurrency", "64"))
const protocol = arg("protocol", "rest")
const killHalfWay = process.argv.includes("--kill")

const script = path.join(here, "..", "examples", protocol === "grpc" ? "grpc-plugin.js" : "rest-plugin.cjs")
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "goplugin-load-"))
const configFile = path.join(dir, "config.toml")
fs.writeFileSync(configFile, [
  "[settings]",
  "health_interval = 1",
  "[plugins.target]",
  `md5 = "${crypto.createHash("md5").update(fs.readFileSync(script)).digest("hex")}"`,
  `exec = ${JSON.stringify(process.execPath)}`,
  `exec_args = [${JSON.stringify(script)}]`,
  `exec_file = ${JSON.stringify(script)}`,
  `comm_type = "${protocol}"`,
  "[hosts.load]",
  `plugins = ["target"]`
].join("\n"))

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`
const memory = () => {
  ;(globalThis as { gc?: () => void }).gc?.()
  const usage = process.memoryUsage()
  return { rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external }
}

const program = Effect.gen(function*() {
  const container = yield* Executor.fromHost("load")
  const caller = yield* container.run("target")
  const payload = new Uint8Array(16).fill(7)
  // Warm-up, so "before" is measured with the connections and code paths already in place.
  yield* Effect.forEach(Array.from({ length: 500 }), () => caller.exec("echo", payload), { concurrency, discard: true })
  const before = memory()
  const failures = new Map<string, number>()
  let done = 0
  let killedPid = 0
  const started = Date.now()
  let issued = 0
  // A fixed set of workers (not a fiber per call), so the memory figures are the library's, not the driver's.
  const worker = Effect.gen(function*() {
    while (issued < calls) {
      issued++
      const result = yield* Effect.either(caller.exec("echo", payload))
      if (result._tag === "Left") failures.set(result.left.reason, (failures.get(result.left.reason) ?? 0) + 1)
      else if (result.right.length !== 16) failures.set("wrong answer", (failures.get("wrong answer") ?? 0) + 1)
      done++
      if (killHalfWay && done === Math.floor(calls / 2)) {
        const [running] = yield* container.running
        if (running?.process !== undefined) {
          killedPid = running.process.pid
          process.kill(killedPid, "SIGKILL")
        }
      }
    }
  })
  yield* Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true })
  const seconds = (Date.now() - started) / 1000
  const after = memory()
  const failed = Array.from(failures.values()).reduce((a, b) => a + b, 0)
  const [running] = yield* container.running
  console.log(`${calls} ${protocol} execs, ${concurrency} in flight${killHalfWay ? `, plugin pid ${killedPid} killed with SIGKILL half-way` : ""}`)
  console.log(`  time        ${seconds.toFixed(2)} s (${Math.round(calls / seconds)} calls/s)`)
  console.log(`  succeeded   ${calls - failed}`)
  console.log(`  failed      ${failed}${failed > 0 ? ` (${Array.from(failures, ([k, v]) => `${k}: ${v}`).join(", ")})` : ""}`)
  console.log(
    `  memory      rss ${mib(before.rss)} -> ${mib(after.rss)}, heap ${mib(before.heapUsed)} -> ${mib(after.heapUsed)}, ` +
      `heap committed ${mib(before.heapTotal)} -> ${mib(after.heapTotal)}, external ${mib(before.external)} -> ${mib(after.external)}`
  )
  console.log(`  plugin now  pid ${running?.process?.pid ?? "none"}`)
})

program.pipe(
  Effect.scoped,
  Effect.provide(GoPlugin.layer({ configFile })),
  Logger.withMinimumLogLevel(LogLevel.Error),
  Effect.ensuring(Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))),
  Effect.runPromise
).then(
  () => process.exit(0),
  (error) => {
    console.error(error)
    process.exit(1)
  }
)
