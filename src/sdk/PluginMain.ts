/**
 * A plugin's life: read the port from `--port` (or `GOPLUGIN_PORT`), serve until SIGINT/SIGTERM or until
 * the host closes the plugin's stdin, close the server, exit. Logs go to stderr. When stdin closed
 * because the host died (perhaps SIGKILLed) and the plugin leads its process group, it SIGKILLs that
 * group last, so no child of the plugin outlives it (see `HostGone`).
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { defaultTeardown } from "@effect/platform/Runtime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { CommandFailed } from "../SdkErrors.js"
import { TOKEN_ENV } from "./Access.js"
import { grpcServer } from "./GrpcServer.js"
import { leaveNoChildren, stdinClosed, stdinIsPipe } from "./HostGone.js"
import type { Handlers, Protocol } from "./Handler.js"
import { restServer } from "./RestServer.js"
import { logServeFailure, ServeError } from "./ServeError.js"
import { stderrLoggerLayer } from "./StderrLogger.js"
import { runStdioMain } from "./StdioMain.js"
import { stdioServer } from "./StdioServer.js"

/** How to serve: the handlers, the transport, and for rest/grpc the port (default 0: any free port). */
export interface ServeOptions {
  readonly handlers: Handlers
  readonly protocol: Protocol
  readonly port?: number | undefined
  /** Largest request accepted (REST body, gRPC message, stdio request); default 64 MiB. */
  readonly maxBodyBytes?: number | undefined
  /**
   * rest/grpc: the bearer token every request must carry (401 / UNAUTHENTICATED otherwise). Default:
   * `GOPLUGIN_TOKEN` from the environment; absent or "" means no check. Not used over stdio.
   */
  readonly token?: string | undefined
  /**
   * The hosts allowed to exec (the manifest's `hosts` list); when non-empty, an exec from any other
   * host is refused (403 / PERMISSION_DENIED / error answer). Ping is not checked.
   */
  readonly hosts?: ReadonlyArray<string> | undefined
}

/** How `runMain` runs a plugin; the port comes from the command line or the environment. */
export interface RunMainOptions {
  readonly handlers: Handlers
  /** The transport; default "rest". */
  readonly protocol?: Protocol | undefined
  readonly maxBodyBytes?: number | undefined
  /** As in `ServeOptions`; default `GOPLUGIN_TOKEN` from the environment `pluginProgram` is given. */
  readonly token?: string | undefined
  /** As in `ServeOptions`: the hosts allowed to exec; none or empty allows every host. */
  readonly hosts?: ReadonlyArray<string> | undefined
}

const PORT = /^\d{1,5}$/

/**
 * Reads the port from `--port N` or `--port=N` in `argv` (the last one wins), else from `GOPLUGIN_PORT`
 * in `env`, else 0. Answers `Either.left` with a description when the value is not a port number.
 */
export const parsePort = (
  argv: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>
): Either.Either<number, string> => {
  let value: string | undefined
  let source = "--port"
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === "--port") value = argv[++i] ?? ""
    else if (arg?.startsWith("--port=")) value = arg.slice("--port=".length)
  }
  if (value === undefined && env["GOPLUGIN_PORT"] !== undefined && env["GOPLUGIN_PORT"] !== "") {
    value = env["GOPLUGIN_PORT"]
    source = "GOPLUGIN_PORT"
  }
  if (value === undefined) return Either.right(0)
  return PORT.test(value) && Number(value) <= 65535
    ? Either.right(Number(value))
    : Either.left(`${source} is ${JSON.stringify(value)}; expected a port number from 0 to 65535`)
}

/**
 * Serves the handlers. Over rest and grpc it listens on 127.0.0.1 until interrupted, then closes the
 * server (keep-alive connections and in-flight gRPC calls included). Over stdio it answers the one
 * request on stdin and completes, failing when that answer was an error.
 *
 * @example
 * import { Effect } from "effect"
 * import { serve } from "goplugin-effect/sdk"
 *
 * const echo = serve({ protocol: "rest", port: 8080, handlers: { echo: (payload) => Effect.succeed(payload) } })
 */
export const serve: (options: ServeOptions) => Effect.Effect<void, ServeError | CommandFailed> = Effect.fn(
  "Sdk.serve"
)(function*(options: ServeOptions) {
  const { handlers, hosts, maxBodyBytes, protocol, token } = options
  if (protocol === "stdio") return yield* stdioServer({ handlers, maxBodyBytes, hosts })
  const start = protocol === "rest" ? restServer : grpcServer
  yield* Effect.scoped(Effect.gen(function*() {
    const port = yield* start({ handlers, port: options.port ?? 0, maxBodyBytes, token, hosts })
    yield* Effect.logInfo(`listening on 127.0.0.1:${port} (${protocol})`)
    yield* Effect.addFinalizer(() => Effect.logInfo(`stopped listening on 127.0.0.1:${port} (${protocol})`))
    return yield* Effect.never
  }))
})

/**
 * The program `runMain` runs: the port from `argv`/`env`, the token from `options.token` or
 * `env.GOPLUGIN_TOKEN`, `serve`, and for rest/grpc an end when stdin (if it is a pipe or socket) reaches
 * end-of-file. Ending that way, once the server is closed, it SIGKILLs its own process group (the
 * plugin included) if it leads one and its host died (see `HostGone.leaveNoChildren`). Logs go to stderr.
 */
export const pluginProgram = (
  options: RunMainOptions,
  argv: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<void, ServeError | CommandFailed> => {
  const protocol = options.protocol ?? "rest"
  const program = Effect.gen(function*() {
    if (protocol === "stdio") return yield* serve({ ...options, protocol })
    const port = yield* Either.mapLeft(parsePort(argv, env), (reason) => new ServeError({ protocol, reason }))
    const served = serve({ ...options, protocol, port, token: options.token ?? env[TOKEN_ENV] ?? "" })
    if (!stdinIsPipe()) return yield* served
    // raceFirst waits for the loser to be interrupted, so the server is closed when it returns.
    const closedByHost = stdinClosed.pipe(
      Effect.zipRight(Effect.logInfo("stdin closed: the host stopped the plugin or is gone, shutting down")),
      Effect.as(true)
    )
    if (yield* Effect.raceFirst(Effect.as(served, false), closedByHost)) yield* leaveNoChildren
  })
  return program.pipe(Effect.tapErrorCause(logServeFailure), Effect.provide(stderrLoggerLayer))
}

/**
 * The entry point of a plugin's main file: serves `handlers` over `protocol` (default "rest") on the port
 * from `--port N`, `--port=N` or `GOPLUGIN_PORT`, requiring the `GOPLUGIN_TOKEN` bearer token when the
 * host set one, and exits on SIGINT/SIGTERM, when the host closes stdin (killing its own process group
 * when the host died, see `pluginProgram`), or (stdio) after answering; the exit code is 1 when serving
 * or the stdio answer failed.
 *
 * @example
 * #!/usr/bin/env node
 * import { Effect } from "effect"
 * import { runMain } from "goplugin-effect/sdk"
 *
 * runMain({ handlers: { echo: (payload) => Effect.succeed(payload) } })
 */
export const runMain = (options: RunMainOptions): void => {
  if (options.protocol === "stdio") return runStdioMain({ ...options, protocol: "stdio" })
  // A host that closed our stderr must not crash the plugin through the logger (EPIPE).
  process.stderr.on("error", () => {})
  NodeRuntime.runMain(pluginProgram(options, process.argv.slice(2), process.env), {
    disableErrorReporting: true,
    disablePrettyLogger: true,
    // Exit even when something the plugin started (a timer, a child process) would keep node alive.
    teardown: (exit) => defaultTeardown(exit, (code) => process.exit(code))
  })
}
