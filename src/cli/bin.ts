#!/usr/bin/env node
/**
 * The `goplugin` command: manage and try plugins from a terminal, on the library's own services.
 * Every failure prints one line on stderr and exits with the code docs/cli.md lists.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit } from "effect"
import { runCli, services } from "./main.js"
import { ExitCode } from "./output.js"

// runMain interrupts on both signals; the exit code tells them apart, as shells do (128 + signal number).
let signalled: NodeJS.Signals = "SIGINT"
process.once("SIGTERM", () => (signalled = "SIGTERM"))

let exitCode: number = ExitCode.ok

NodeRuntime.runMain(
  runCli(process.argv.slice(2)).pipe(
    Effect.tap((code) => Effect.sync(() => (exitCode = code))),
    Effect.provide(services)
  ),
  {
    disableErrorReporting: true,
    disablePrettyLogger: true,
    teardown: (exit, onExit) =>
      onExit(
        Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
          ? (signalled === "SIGTERM" ? ExitCode.terminated : ExitCode.interrupted)
          : exitCode
      )
  }
)
