/**
 * `goplugin up <host> [plugins…]`: runs a host's plugins in the foreground, like `docker compose up`.
 * Each plugin line is printed with a coloured `name |` prefix, supervisor events as they happen, one
 * `ready` line once every plugin answers Ping; Ctrl-C or SIGTERM stops them all. `--json` prints
 * every one of those as a JSON line instead.
 *
 * @since 0.2.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { handledBy } from "./handledBy.js"
import { help, runCommand } from "./output.js"

const handlers = () => import("./upHandler.js")

/** `goplugin up <host> [plugins…]`. */
export const upCommand = Command.make(
  "up",
  {
    host: Args.text({ name: "host" }).pipe(Args.withDescription("The host whose plugins to run (its [hosts.<name>] entry).")),
    plugins: Args.text({ name: "plugin" }).pipe(
      Args.withDescription("Plugins to run; default every plugin in the host's ACL."),
      Args.repeated
    ),
    json: Options.boolean("json").pipe(
      Options.withDescription("Print every line as a JSON object on stdout: starting, log, event, ready, stopping.")
    )
  },
  (args) => runCommand(args.json, handledBy(handlers, (run) => run.up(args)))
).pipe(
  Command.withDescription(
    help(
      "Run a host's plugins in the foreground, like docker compose up: each plugin's log lines behind a " +
        "coloured name, supervisor events as they happen, a ready line with pids and ports once all answer " +
        "Ping. Ctrl-C or SIGTERM stops them all (exit 130 or 143).",
      ["goplugin up demo", "goplugin up demo ts_rest --json"]
    )
  )
)
