/**
 * `goplugin md5 | register | plugins`: digests to paste into a config, registering a plugin from its
 * manifest, and the list of plugins with their ACL, protocol and verification status.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { handledBy } from "./handledBy.js"
import { help, jsonOption, runCommand } from "./output.js"

const handlers = () => import("./pluginHandlers.js")
const md5Handler = () => import("./md5Handler.js")

/** `goplugin md5 <file>`: the digest to paste into a config. */
export const md5Command = Command.make(
  "md5",
  { file: Args.file({ name: "file" }).pipe(Args.withDescription("The file whose md5 to print.")), json: jsonOption },
  ({ file, json }) => runCommand(json, handledBy(md5Handler, (run) => run.md5(file, json)))
).pipe(
  Command.withDescription(
    help("Print the md5 digest of a file: the value of md5 in [plugins.<name>] (the file is exec_file, else exec).", [
      "goplugin md5 ./build/examples/rest-plugin.cjs"
    ])
  )
)

const force = Options.boolean("force").pipe(
  Options.withDescription("Replace [plugins.<name>] when it exists with different settings.")
)
const trustFile = Options.boolean("trust-file").pipe(
  Options.withDescription("Register even when the file's digest differs from the manifest's md5/sha256 (the actual digest is recorded).")
)

/** `goplugin register <plugin-dir>`: adds or updates a plugin and its hosts in the config from its manifest. */
export const registerCommand = Command.make(
  "register",
  {
    pluginDir: Args.path({ name: "plugin-dir" }).pipe(
      Args.withDescription("The plugin's folder (holding goplugin.toml), or the manifest file itself.")
    ),
    force,
    trustFile,
    json: jsonOption
  },
  (args) => runCommand(args.json, handledBy(handlers, (run) => run.register(args)))
).pipe(
  Command.withDescription(
    help(
      "Read a plugin's goplugin.toml, compute the md5 of its exec_file, and add or update [plugins.<name>] and the " +
        "hosts it lists in the config, keeping every other entry and comment. Creates the config (and its folder) " +
        "if there is none. A plugin registered with other settings needs --force; a file whose digest differs " +
        "from the manifest's md5 needs --trust-file.",
      ["goplugin register examples/manifests/ts-rest", "goplugin register ./my-plugin --force --json"]
    )
  )
)

/** `goplugin plugins`: each plugin with its host ACL, protocol and verification status. */
export const pluginsCommand = Command.make(
  "plugins",
  {
    host: Options.text("host").pipe(
      Options.withPseudoName("HOST"),
      Options.withDescription("Only the plugins this host may use."),
      Options.optional
    ),
    json: jsonOption
  },
  ({ host, json }) => runCommand(json, handledBy(handlers, (run) => run.plugins(host, json)))
).pipe(
  Command.withDescription(
    help(
      "List each plugin with the hosts whose ACL allows it, its protocol (comm_type) and whether its executable " +
        "is found and matches its checksum. Exits 0 even when a plugin fails verification (use config check for that).",
      ["goplugin plugins", "goplugin plugins --host billing --json"]
    )
  )
)
