/**
 * The TypeScript side of the go-plugin rows as its own program, like the Go host it is compared with
 * (test/fixtures/go/kvhost): a fresh Node process that loads the library, launches the plugin
 * `rounds` times through a container (`Executor.fromHost` + `container.run`: checksum, spawn,
 * handshake, connect, first SERVING health check), makes `calls` sequential `kv.KV/Get` calls on each
 * launch, and prints `{"startMs": median, "callP50Ms": p50}` on stdout.
 *
 *   node build/bench/goPluginHost.js <config.toml> <host> <plugin> <rounds> <calls>
 */
import { Effect, Layer, Logger, LogLevel } from "effect"
import { Executor, GoPlugin } from "goplugin-effect"
import { median, now, percentile } from "./stats.js"

const encoder = new TextEncoder()

const measure = (configFile: string, host: string, name: string, rounds: number, calls: number) =>
  Effect.gen(function*() {
    const starts: Array<number> = []
    const gets: Array<number> = []
    const get = encoder.encode(JSON.stringify({ key: "k" }))
    // One launch before measuring: the file cache, and Node's and the Go runtime's first-use costs.
    for (let round = -1; round < rounds; round++) {
      yield* Effect.scoped(Effect.gen(function*() {
        const container = yield* Executor.fromHost(host)
        const began = now()
        const caller = yield* container.run(name)
        if (round >= 0) starts.push(now() - began)
        yield* caller.exec("kv.KV/Put", encoder.encode(JSON.stringify({ key: "k", value: Buffer.from("v").toString("base64") })))
        for (let i = 0; i < (round >= 0 ? calls : Math.min(calls, 50)); i++) {
          const t = now()
          yield* caller.exec("kv.KV/Get", get)
          if (round >= 0) gets.push(now() - t)
        }
      }))
    }
    return { startMs: median(starts), callP50Ms: gets.length === 0 ? 0 : percentile(gets, 0.5) }
  }).pipe(
    Effect.provide(GoPlugin.layer({ configFile }).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))))
  )

const [configFile, host, name, rounds, calls] = process.argv.slice(2)
if (configFile === undefined || host === undefined || name === undefined || rounds === undefined || calls === undefined) {
  process.stderr.write("usage: goPluginHost.js <config.toml> <host> <plugin> <rounds> <calls>\n")
  process.exit(2)
}
Effect.runPromise(measure(configFile, host, name, Number(rounds), Number(calls))).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    process.stderr.write(`goPluginHost: ${String(error)}\n`)
    process.exit(1)
  }
)
