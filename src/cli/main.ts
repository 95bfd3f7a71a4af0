/**
 * The `goplugin` command as an effect: parse a command line, run the command, and give the exit code
 * docs/cli.md lists. Every failure prints one line on stderr. `bin.ts` runs it for the process; tests
 * run it in-process with a capturing console.
 *
 * @since 0.2.0
 */
import * as CliConfig from "@effect/cli/CliConfig"
import * as Command from "@effect/cli/Command"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { Cause, Console, Effect, Either, Exit, Layer, Logger, LogLevel } from "effect"
import * as fs from "node:fs"
import * as HostLogger from "../HostLogger.js"
import { execCommand, pingCommand } from "./callCommands.js"
import { configCommand } from "./configCommands.js"
import { callCommand } from "./goPluginCommands.js"
import { colourAllowed, finishHelp } from "./helpText.js"
import { CliConsole, ExitCode, ExitWith, help, logLevelGiven, oneLine } from "./output.js"
import { md5Command, pluginsCommand, registerCommand } from "./pluginCommands.js"
import { runPipelineCommand } from "./runCommand.js"
import { contractCommand } from "./contractCommand.js"
import * as TerminalOnUse from "./terminalOnUse.js"
import { upCommand } from "./upCommand.js"

const version = Either.try(() => {
  const manifest: unknown = JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
  return typeof manifest === "object" && manifest !== null && "version" in manifest ? String(manifest.version) : "0.0.0"
}).pipe(Either.getOrElse(() => "0.0.0"))

const goplugin = Command.make("goplugin").pipe(
  Command.withDescription(
    help(
      "Register, check and try goplugin plugins. The config is $GOPLUGIN_DIR/config.toml, else " +
        "$HOME/.goplugin/config.toml. Log lines below warnings are hidden: add --log-level info (or set " +
        "[settings] log_level) to see plugin logs; goplugin up shows them. " +
        "Every command takes --help and --json; exit codes are in docs/cli.md.",
      [
        "goplugin register examples/manifests/ts-rest",
        "goplugin config check",
        "goplugin exec demo ts_rest upper --data hello",
        "goplugin up demo"
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
    runPipelineCommand,
    upCommand,
    contractCommand
  ])
)

const cli = Command.run(goplugin, { name: "goplugin", version })

/** Plugin and library logs on stderr, one line each: `[warn] ts_rest pid=12 host=demo: message`. */
const stderrLogger = Logger.withConsoleError(HostLogger.make({ time: false, compactLevel: true }))

/**
 * What {@link runCli} needs: the platform, the CLI's logger and minimum level. The library's services
 * are provided by the handlers of the commands that use them (libraryLayers.ts), so that a command
 * builds only the services it needs, and `--version` or `md5` none of the config's or the launchers'.
 */
export const services = Layer.mergeAll(
  // What @effect/cli needs, not all of NodeContext: its command executor and worker manager cost start-up time.
  NodeFileSystem.layer,
  NodePath.layer,
  TerminalOnUse.layer,
  CliConfig.layer({ showBuiltIns: false }),
  Logger.replace(Logger.defaultLogger, stderrLogger),
  Logger.minimumLogLevel(LogLevel.Warning)
)

/**
 * The argument parser's console: what it writes to stderr is kept, so that its multi-line messages
 * can become one line; what it writes to stdout (help) is finished for terminals and pipes.
 */
const capturing = (console: Console.Console, sink: Array<string>, command: string): Console.Console => ({
  ...console,
  log: (...args) => console.log(finishHelp(args.map(String).join(" "), { colour: colourAllowed(), command })),
  error: (...args) => Effect.sync(() => void sink.push(args.map(String).join(" "))),
  unsafe: { ...console.unsafe, error: (...args) => void sink.push(args.map(String).join(" ")) }
})

const stripAnsi = (text: string): string => text.replace(/\u001b\[[0-9;]*m/g, "")

/** The words of the command line that name (sub)commands, for the `--help` hint of a usage error. */
const commandPath = (args: ReadonlyArray<string>): string => {
  const names = new Set(["config", "path", "check", "show", "md5", "register", "plugins", "ping", "exec", "call", "run", "up"])
  const words: Array<string> = []
  for (const arg of args) {
    if (!names.has(arg) || (words.length > 0 && words[0] !== "config")) break
    words.push(arg)
  }
  return ["goplugin", ...words].join(" ")
}

/**
 * Runs one command line (the words after `goplugin`) and returns its exit code; output goes to the
 * current console.
 */
export const runCli = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const console = yield* Effect.console
    const parserOutput: Array<string> = []
    const exit = yield* cli(["node", "goplugin", ...args]).pipe(
      Effect.provideService(CliConsole, console),
      Effect.withConsole(capturing(console, parserOutput, commandPath(args))),
      Effect.onInterrupt(() => Console.error("goplugin: interrupted; every plugin it started has been stopped")),
      Effect.locally(logLevelGiven, args.some((arg) => arg === "--log-level" || arg.startsWith("--log-level="))),
      Effect.exit
    )
    if (Exit.isSuccess(exit)) return ExitCode.ok
    const failure = Cause.failureOption(exit.cause)
    if (failure._tag === "Some" && failure.value instanceof ExitWith) return failure.value.code
    if (failure._tag === "Some" && ValidationError.isValidationError(failure.value)) {
      const said = oneLine(stripAnsi(parserOutput.join("\n"))) || "invalid command line"
      yield* Console.error(`goplugin: ${said.replace(/\.?$/, "")}. See: ${commandPath(args)} --help`)
      return ExitCode.usage
    }
    if (Cause.isInterruptedOnly(exit.cause)) return yield* Effect.interrupt
    const [first] = Cause.prettyErrors(exit.cause)
    const detail = first === undefined ? "unknown failure" : oneLine(first.message)
    yield* Console.error(`goplugin: internal error: ${detail}. This is a bug: please report it with the command you ran.`)
    return ExitCode.other
  })
