import { Console, Effect } from "effect"
import { Executor, GoPlugin, HostLogger } from "goplugin-effect"

const program = Effect.gen(function*() {
  const container = yield* Executor.fromHost("demo")          // [hosts.demo] in config.toml
  yield* container.onEvent((event) => Effect.logWarning(`${event.plugin}: ${event._tag}`))

  const rest = yield* container.run("ts_rest")                 // verified, started, ready: a Caller
  yield* Console.log(`ts_rest ping: ${yield* rest.ping}`)      // "pong"
  const upper = yield* rest.exec("upper", new TextEncoder().encode("hello"))
  yield* Console.log(`ts_rest upper: ${new TextDecoder().decode(upper)}`)

  const grpc = yield* container.run("ts_grpc")
  const reversed = yield* grpc.exec("reverse", new TextEncoder().encode("stressed"))
  yield* Console.log(`ts_grpc reverse: ${new TextDecoder().decode(reversed)}`)
})

// Leaving the scope stops every plugin the program started, grandchildren included.
program.pipe(
  Effect.scoped,
  Effect.provide(GoPlugin.layer()),    // config.toml from GOPLUGIN_DIR, else $HOME/.goplugin
  Effect.provide(HostLogger.layer()),  // one line per log entry, plugin lines included, on stderr
  GoPlugin.runMain                     // like NodeRuntime.runMain; exits 130 on Ctrl-C, 143 on SIGTERM
)
