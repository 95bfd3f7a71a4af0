/**
 * The TypeScript side of the go-plugin rows as its own program, like the Go host it is compared with
 * (test/fixtures/go/kvhost): a fresh Node process that loads the library, launches the plugin
 * `rounds` times through a container (`Executor.fromHost` + `container.run`: checksum, spawn,
 * handshake, connect, first SERVING health check), makes `calls` sequential `kv.KV/Get` calls on each
 * launch, and prints `{"startMs": median, "callP50Ms": p50}` on stdout.
 *
 *   node build/bench/goPluginHost.js <config.toml> <host> <plugin> <rounds> <calls>
 */
import { Effect } from "effect"
import { typescriptHost } from "./goplugin.js"

const [configFile, host, name, rounds, calls] = process.argv.slice(2)
if (configFile === undefined || host === undefined || name === undefined || rounds === undefined || calls === undefined) {
  process.stderr.write("usage: goPluginHost.js <config.toml> <host> <plugin> <rounds> <calls>\n")
  process.exit(2)
}
Effect.runPromise(typescriptHost(configFile, host, name, Number(rounds), Number(calls))).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    process.stderr.write(`goPluginHost: ${String(error)}\n`)
    process.exit(1)
  }
)
