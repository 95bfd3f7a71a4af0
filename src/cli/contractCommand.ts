/**
 * `goplugin contract <module> [export]`: prints a typed contract as JSON Schema, one schema per
 * command's payload, success and error, for plugin authors in other languages.
 *
 * @since 0.2.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import { handledBy } from "./handledBy.js"
import { help, jsonOption, runCommand } from "./output.js"

const handlers = () => import("./contractHandler.js")

/** `goplugin contract <module> [export]`. */
export const contractCommand = Command.make(
  "contract",
  {
    module: Args.file({ name: "module", exists: "yes" }).pipe(
      Args.withDescription("The JavaScript module (compiled .js) that exports the contract.")
    ),
    exportName: Args.text({ name: "export" }).pipe(
      Args.withDescription("The export that holds the contract, when the module has several."),
      Args.optional
    ),
    json: jsonOption
  },
  (args) => runCommand(args.json, handledBy(handlers, (run) => run.contract(args)))
).pipe(
  Command.withDescription(
    help(
      "Print a typed contract (an @effect/rpc RpcGroup exported by a module) as JSON Schema: for each command, " +
        "the schema of its payload, success and error, as they travel on the wire (docs/typed-plugins.md). " +
        "The output is always JSON.",
      ["goplugin contract build/examples/typed/contract.js", "goplugin contract dist/contract.js BillingContract"]
    )
  )
)
