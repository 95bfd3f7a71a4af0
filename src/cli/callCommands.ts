/**
 * `goplugin ping | exec`: start a plugin from a host (ACL and checksum checked), call it once, stop it,
 * and print the answer.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { handledBy } from "./handledBy.js"
import { help, jsonOption, runCommand } from "./output.js"

const handlers = () => import("./callHandlers.js")

const hostArg = Args.text({ name: "host" }).pipe(Args.withDescription("The host whose config entry (ACL) to use."))
const pluginArg = Args.text({ name: "plugin" }).pipe(Args.withDescription("The plugin to start."))

/** `goplugin ping <host> <plugin>`. */
export const pingCommand = Command.make(
  "ping",
  { host: hostArg, plugin: pluginArg, json: jsonOption },
  (args) => runCommand(args.json, handledBy(handlers, (run) => run.ping(args)))
).pipe(
  Command.withDescription(
    help(
      "Start a plugin as the host would (ACL and checksum checked), Ping it, print the answer and stop it.",
      ["goplugin ping demo ts_rest", "goplugin ping demo ts_grpc --json"]
    )
  )
)

/** `goplugin exec <host> <plugin> <command>`. */
export const execCommand = Command.make(
  "exec",
  {
    host: hostArg,
    plugin: pluginArg,
    command: Args.text({ name: "command" }).pipe(Args.withDescription("The plugin's command, e.g. plugin.log.store.")),
    data: Options.text("data").pipe(Options.withPseudoName("TEXT"), Options.withDescription("Payload: this UTF-8 text."), Options.optional),
    file: Options.text("file").pipe(Options.withPseudoName("FILE"), Options.withDescription("Payload: the bytes of this file (- for stdin)."), Options.optional),
    hex: Options.text("hex").pipe(Options.withPseudoName("HEX"), Options.withDescription("Payload: these hex-encoded bytes."), Options.optional),
    out: Options.text("out").pipe(Options.withPseudoName("FILE"), Options.withDescription("Write the answer's raw bytes to this file."), Options.optional),
    json: jsonOption
  },
  (args) => runCommand(args.json, handledBy(handlers, (run) => run.exec(args)))
).pipe(
  Command.withDescription(
    help(
      "Start a plugin as the host would, run one command with a payload (--data text, --file bytes, or --hex; " +
        "empty if none), print the answer (as text when it is UTF-8, else as hex, or raw bytes to --out), and stop it.",
      [
        "goplugin exec demo ts_rest upper --data 'hello'",
        "goplugin exec demo ts_grpc reverse --hex 00ff10 --json",
        "goplugin exec demo py_rest echo --file photo.jpg --out copy.jpg"
      ]
    )
  )
)
