/**
 * The entry point of a stdio plugin, kept to what one call needs: read the request, run the handler,
 * write the answer, exit. A stdio plugin is started once per call, so everything it loads is paid on
 * every call; this path loads neither the REST and gRPC servers (`node:http`, `node:crypto`) nor
 * `@effect/platform`'s runtime, and installs the stderr logger without building a Layer.
 *
 * @since 0.2.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type { CommandFailed } from "../SdkErrors.js"
import type { Handlers } from "./Handler.js"
import { logServeFailure, type ServeError } from "./ServeError.js"
import { withStderrLogger } from "./StderrLogger.js"
import { stdioServer } from "./StdioServer.js"

/**
 * How a stdio plugin runs: its handlers, and optionally the request size limit and the hosts allowed
 * to exec. `protocol` may be given as `"stdio"`, so that `runMain` options written for
 * `goplugin-effect/sdk` work unchanged.
 *
 * @since 0.2.0
 */
export interface StdioMainOptions {
  readonly handlers: Handlers
  readonly protocol?: "stdio" | undefined
  /** Largest request accepted on stdin; default 64 MiB. */
  readonly maxBodyBytes?: number | undefined
  /** When non-empty, an exec whose `host` field is not listed is refused (error answer, exit 1). */
  readonly hosts?: ReadonlyArray<string> | undefined
}

/**
 * The program a stdio plugin runs: answers the one request on stdin, logging to stderr and logging why
 * when the answer was an error (the program then fails with that error).
 *
 * @since 0.2.0
 */
export const stdioProgram = (options: StdioMainOptions): Effect.Effect<void, ServeError | CommandFailed> =>
  stdioServer({ handlers: options.handlers, maxBodyBytes: options.maxBodyBytes, hosts: options.hosts }).pipe(
    Effect.tapErrorCause(logServeFailure),
    withStderrLogger
  )

/** The exit code of a finished program: 1 when it failed, 0 when it succeeded or was interrupted. */
const exitCode = (exit: Exit.Exit<unknown, unknown>): number =>
  Exit.isFailure(exit) && !Cause.isInterruptedOnly(exit.cause) ? 1 : 0

/**
 * Runs a stdio plugin: answers the one request on stdin and exits, with code 1 when the answer was an
 * error. SIGINT or SIGTERM interrupts the handler and exits 0. It exits as soon as the answer is
 * written, even when something the plugin started (a timer, a child process) would keep node alive.
 *
 * @since 0.2.0
 * @example
 * #!/usr/bin/env node
 * import { Effect } from "effect"
 * import { runMain } from "goplugin-effect/sdk/stdio"
 *
 * runMain({ handlers: { echo: (payload) => Effect.succeed(payload) } })
 */
export const runStdioMain = (options: StdioMainOptions): void => {
  // A host that closed our stderr must not crash the plugin through the logger (EPIPE).
  process.stderr.on("error", () => {})
  const fiber = Effect.runFork(stdioProgram(options))
  // A handler waiting on nothing node counts (a Deferred, say) must not end the process early.
  const keepAlive = setInterval(() => {}, 2 ** 31 - 1)
  const interrupt = () => fiber.unsafeInterruptAsFork(fiber.id())
  process.once("SIGINT", interrupt)
  process.once("SIGTERM", interrupt)
  fiber.addObserver((exit) => {
    clearInterval(keepAlive)
    process.exit(exitCode(exit))
  })
}
