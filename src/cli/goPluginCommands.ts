/**
 * `goplugin call <host> <plugin> <package.Service/Method> --data JSON`: start a go-plugin or plain gRPC
 * entry in a container of the host (ACL and checksum checked), call one unary method with a JSON
 * request, print the JSON answer, and stop it (Shutdown, then the usual grace and SIGKILL). A go-plugin
 * entry's services come from its `proto_files`; a gRPC entry's from `proto/plugin.proto` and the files
 * given with `--proto`. For go-plugin entries the same call is `goplugin exec <host> <plugin>
 * <package.Service/Method> --data JSON`, which prints the answer as the plugin's bytes.
 *
 * @since 0.2.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { handledBy } from "./handledBy.js"
import { help, jsonOption, runCommand } from "./output.js"

const handlers = () => import("./goPluginHandlers.js")

/**
 * `goplugin call`.
 *
 * @since 0.2.0
 */
export const callCommand = Command.make(
  "call",
  {
    host: Args.text({ name: "host" }).pipe(Args.withDescription("The host whose config entry (ACL) to use.")),
    plugin: Args.text({ name: "plugin" }).pipe(Args.withDescription("The go-plugin or grpc entry to start.")),
    method: Args.text({ name: "method" }).pipe(
      Args.withDescription("package.Service/Method: a unary method of the entry's proto_files (go-plugin), or of proto/plugin.proto or --proto files (grpc).")
    ),
    data: Options.text("data").pipe(Options.withPseudoName("JSON"), Options.withDescription("The request message as JSON (default {})."), Options.optional),
    proto: Options.text("proto").pipe(
      Options.withPseudoName("FILE"),
      Options.withDescription("A .proto file defining the service, for grpc entries (repeatable; proto/plugin.proto is always known)."),
      Options.repeated
    ),
    timeout: Options.integer("timeout").pipe(Options.withDescription("Seconds the call may take."), Options.withDefault(10)),
    json: jsonOption
  },
  (args) => runCommand(args.json, handledBy(handlers, (run) => run.call(args)))
).pipe(
  Command.withDescription(
    help(
      "Start a go-plugin or grpc entry as the host would (ACL and checksum checked; for go-plugin, cookie, versions and " +
        "AutoMTLS from its go_plugin table; for grpc, the host's token), call one unary method with a JSON request, print " +
        "the JSON answer (bytes as base64), and stop it.",
      [
        "goplugin call demo kv kv.KV/Get --data '{\"key\":\"greeting\"}'",
        "goplugin call demo ts_grpc plugin.Plugin/Exec --data '{\"Command\":\"upper\",\"Payload\":\"6869\"}'",
        "goplugin call demo ts_grpc billing.Ledger/Balance --proto ledger.proto --data '{\"account\":\"a1\"}'"
      ]
    )
  )
)
