/**
 * `goplugin config path | check | show`: where the config is, whether every host installs, and what
 * the decoded config says.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import { handledBy } from "./handledBy.js"
import { help, jsonOption, runCommand } from "./output.js"

const handlers = () => import("./configHandlers.js")

/** `goplugin config path`: which file would be used, and why. */
export const configPath = Command.make(
  "path",
  { json: jsonOption },
  ({ json }) => runCommand(json, handledBy(handlers, (run) => run.path(json)))
).pipe(
  Command.withDescription(
    help(
      "Print the config file goplugin would use, why (GOPLUGIN_DIR, else $HOME/.goplugin), and whether it exists.",
      ["goplugin config path", "GOPLUGIN_DIR=./dev goplugin config path --json"]
    )
  )
)

/** `goplugin config check`: decodes the config and installs every host. */
export const configCheck = Command.make(
  "check",
  { json: jsonOption },
  ({ json }) => runCommand(json, handledBy(handlers, (run) => run.check(json)))
).pipe(
  Command.withDescription(
    help(
      "Decode the config and install every host: each plugin's executable must exist and match its checksum. " +
        "Lists every problem; exits 3 if the config cannot be decoded, 4 if any plugin fails.",
      ["goplugin config check", "goplugin config check --json | jq '.hosts[].plugins[] | select(.ok == false)'"]
    )
  )
)

/**
 * `goplugin config show`: the decoded config with every default filled in, written back in the file's
 * own terms (snake_case keys, times in seconds), so what it prints can be pasted into config.toml.
 */
export const configShow = Command.make(
  "show",
  { json: jsonOption },
  ({ json }) => runCommand(json, handledBy(handlers, (run) => run.show(json)))
).pipe(
  Command.withDescription(
    help("Print the decoded config with every default filled in, in the file's own keys and units (seconds), as TOML or (--json) JSON.", [
      "goplugin config show",
      "goplugin config show --json | jq '.plugins | keys'"
    ])
  )
)

/** `goplugin config`: the config subcommands. */
export const configCommand = Command.make("config").pipe(
  Command.withDescription(
    help("Find, check and show the goplugin config (config.toml).", [
      "goplugin config path",
      "goplugin config check",
      "goplugin config show --json"
    ])
  ),
  Command.withSubcommands([configPath, configCheck, configShow])
)
