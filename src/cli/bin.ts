#!/usr/bin/env node
/**
 * The `goplugin` command: manage and try plugins from a terminal, on the library's own services.
 * Every failure prints one line on stderr and exits with the code docs/cli.md lists.
 *
 * @since 0.1.0
 */
import * as CliConfig from "@effect/cli/CliConfig"
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Either, Exit, HashMap, Layer, Logger, LogLevel } from "effect"
import * as fs from "node:fs"
import * as CallerFactory from "../CallerFactory.js"
import * as Discover from "../Discover.js"
import * as Md5Checker from "../Md5Checker.js"
import { execCommand, pingCommand } from "./callCommands.js"
import { callCommand } from "./goPluginCommands.js"
import { configCommand } from "./configCommands.js"
import { CliConsole, ExitCode, ExitWith, help, oneLine } from "./output.js"
import { md5Command, pluginsCommand, registerCommand } from "./pluginCommands.js"
import { runPipelineCommand } from "./runCommand.js"

const version = Either.try(() => {
  const manifest: unknown = JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
  return typeof manifest === "object" && manifest !== null && "version" in manifest ? String(manifest.version) : "0.0.0"
}).pipe(Either.getOrElse(() => "0.0.0"))

const goplugin = Command.make("goplugin").pipe(
  Command.withDescription(
    help(
      "Register, check and try goplugin plugins. The config is $GOPLUGIN_DIR/config.toml, else " +
        "$HOME/.goplugin/config.toml. Plugin logs are hidden: add --log-level info to see them. " +
        "Every command takes --help and --json; exit codes are in docs/cli.md.",
      [
        "goplugin register examples/manifests/ts-rest",
        "goplugin config check",
        "goplugin exec demo ts_rest upper --data hello"
      ]
    )
  ),
  Command.withSubcommands([
    configCommand,
    md5Command,
    registerCommand,
    pluginsCommand,
    pingCommand,
    execCommand,
    callCommand,
    runPipelineCommand
  ])
)

const cli = Command.run(goplugin, { name: "goplugin", version })

/** Plugin and library logs on stderr, one short line each: `[warn] ts_rest (pid 12): message`. */
const stderrLogger = Logger.withConsoleError(
  Logger.make(({ annotations, logLevel, message }) => {
    const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
    const plugin = HashMap.get(annotations, "plugin")
    const pid = HashMap.get(annotations, "pid")
    const who = plugin._tag === "Some"
      ? `${String(plugin.value)}${pid._tag === "Some" ? ` (pid ${String(pid.value)})` : ""}: `
      : ""
    return `[${logLevel.label.toLowerCase()}] ${who}${text}`
  })
)

const services = Layer.mergeAll(
  NodeContext.layer,
  Discover.layer,
  Md5Checker.layer,
  CallerFactory.layer,
  CliConfig.layer({ showBuiltIns: false }),
  Logger.replace(Logger.defaultLogger, stderrLogger),
  Logger.minimumLogLevel(LogLevel.Warning)
)

/** A console that keeps what is written to stderr, so the parser's multi-line messages can become one line. */
const capturing = (console: Console.Console, sink: Array<string>): Console.Console => ({
  ...console,
  error: (...args) => Effect.sync(() => void sink.push(args.map(String).join(" "))),
  unsafe: { ...console.unsafe, error: (...args) => void sink.push(args.map(String).join(" ")) }
})

const stripAnsi = (text: string): string => text.replace(/\u001b\[[0-9;]*m/g, "")

/** The words of the command line that name (sub)commands, for the `--help` hint of a usage error. */
const commandPath = (args: ReadonlyArray<string>): string => {
  const names = new Set(["config", "path", "check", "show", "md5", "register", "plugins", "ping", "exec", "run"])
  const words: Array<string> = []
  for (const arg of args) {
    if (!names.has(arg) || (words.length > 0 && words[0] !== "config")) break
    words.push(arg)
  }
  return ["goplugin", ...words].join(" ")
}

let exitCode: number = ExitCode.ok

const main = Effect.gen(function*() {
  const console = yield* Effect.console
  const parserOutput: Array<string> = []
  const args = process.argv.slice(2)
  const exit = yield* cli(process.argv).pipe(
    Effect.provideService(CliConsole, console),
    Effect.withConsole(capturing(console, parserOutput)),
    Effect.onInterrupt(() => Console.error("goplugin: interrupted; every plugin it started has been stopped")),
    Effect.exit
  )
  if (Exit.isSuccess(exit)) return
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "Some" && failure.value instanceof ExitWith) {
    exitCode = failure.value.code
  } else if (failure._tag === "Some" && ValidationError.isValidationError(failure.value)) {
    const said = oneLine(stripAnsi(parserOutput.join("\n"))) || "invalid command line"
    yield* Console.error(`goplugin: ${said.replace(/\.?$/, "")}. See: ${commandPath(args)} --help`)
    exitCode = ExitCode.usage
  } else if (Cause.isInterruptedOnly(exit.cause)) {
    exitCode = ExitCode.interrupted
  } else {
    const [first] = Cause.prettyErrors(exit.cause)
    const detail = first === undefined ? "unknown failure" : oneLine(first.message)
    yield* Console.error(`goplugin: internal error: ${detail}. This is a bug: please report it with the command you ran.`)
    exitCode = ExitCode.other
  }
})

NodeRuntime.runMain(main.pipe(Effect.provide(services)), {
  disableErrorReporting: true,
  disablePrettyLogger: true,
  teardown: (exit, onExit) => onExit(Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause) ? ExitCode.interrupted : exitCode)
})
