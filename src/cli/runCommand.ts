/**
 * `goplugin run [pipeline-file]`: runs a pipeline, printing each step as it starts and ends and a
 * summary table at the end (or one JSON document with `--json`).
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { handledBy } from "./handledBy.js"
import { help, jsonOption, runCommand } from "./output.js"

const handlers = () => import("./runHandler.js")

/** `goplugin run [pipeline-file]`. */
export const runPipelineCommand = Command.make(
  "run",
  {
    file: Args.file({ name: "pipeline-file" }).pipe(
      Args.withDescription("The pipeline file; default pipeline.toml in this folder or the nearest one above."),
      Args.optional
    ),
    host: Options.text("host").pipe(
      Options.withPseudoName("HOST"),
      Options.withDescription("The host whose config plugins the steps use (overrides the file's host)."),
      Options.optional
    ),
    json: jsonOption
  },
  (args) => runCommand(args.json, handledBy(handlers, (run) => run.run(args)))
).pipe(
  Command.withDescription(
    help(
      "Run a pipeline file: its steps in order (consecutive parallel = true steps at once), each step's " +
        "progress as it goes, then a summary table. Exits 8 when a step without continue_on_error fails.",
      ["goplugin run", "goplugin run ci/pipeline.toml --host demo --json"]
    )
  )
)
