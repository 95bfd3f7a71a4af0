/**
 * `goplugin call <host> <plugin> <package.Service/Method> --data JSON`: start a go-plugin entry in a
 * container of the host (ACL and checksum checked), call one unary method of its services with a JSON
 * request, print the JSON answer, and stop it (Shutdown, then the usual grace and SIGKILL). The same
 * call is `goplugin exec <host> <plugin> <package.Service/Method> --data JSON`, which prints the answer
 * as the plugin's bytes.
 *
 * @since 0.2.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Console, Duration, Effect, Either, Option } from "effect"
import { COMM_TYPE, requestOf } from "../goplugin/GoPluginDriver.js"
import { withPlugin } from "./callCommands.js"
import type { CallError } from "../PluginError.js"
import { help, jsonOption, printJson, runCommand, UsageError } from "./output.js"

const METHOD = /^[A-Za-z_][\w.]*\.[A-Za-z_]\w*\/[A-Za-z_]\w*$/

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * `goplugin call`.
 *
 * @since 0.2.0
 */
export const callCommand = Command.make(
  "call",
  {
    host: Args.text({ name: "host" }).pipe(Args.withDescription("The host whose config entry (ACL) to use.")),
    plugin: Args.text({ name: "plugin" }).pipe(Args.withDescription("The go-plugin entry to start.")),
    method: Args.text({ name: "method" }).pipe(Args.withDescription("package.Service/Method, a unary method of a service in the entry's proto_files.")),
    data: Options.text("data").pipe(Options.withPseudoName("JSON"), Options.withDescription("The request message as JSON (default {})."), Options.optional),
    timeout: Options.integer("timeout").pipe(Options.withDescription("Seconds the call may take."), Options.withDefault(10)),
    json: jsonOption
  },
  ({ data, host, json, method, plugin, timeout }) =>
    runCommand(
      json,
      Effect.gen(function*() {
        if (!METHOD.test(method)) {
          return yield* new UsageError({ message: `"${method}" is not package.Service/Method, e.g. kv.KV/Get or tfplugin6.Provider/GetProviderSchema` })
        }
        const payload = encoder.encode(Option.getOrElse(data, () => "{}"))
        yield* Either.mapLeft(requestOf(payload), (problem) => new UsageError({ message: `--data: ${problem}` }))
        const report = yield* withPlugin(host, plugin, (caller): Effect.Effect<Uint8Array, CallError | UsageError> =>
          caller.protocol === COMM_TYPE
            ? caller.exec(method, payload, { timeout: Duration.seconds(timeout) })
            : Effect.fail(
              new UsageError({
                message: `plugin "${plugin}" has comm_type "${caller.protocol}"; goplugin call needs a go-plugin entry ` +
                  `(docs/go-plugin.md); use goplugin exec for other plugins`
              })
            ))
        const answer: unknown = JSON.parse(decoder.decode(report.answer))
        if (json) return yield* printJson({ host, plugin, method, pid: report.pid, response: answer })
        yield* Console.log(JSON.stringify(answer, null, 2))
      })
    )
).pipe(
  Command.withDescription(
    help(
      "Start a go-plugin entry as the host would (ACL and checksum checked; cookie, versions and AutoMTLS from its " +
        "go_plugin table), call one unary method with a JSON request, print the JSON answer (bytes as base64), and stop it.",
      ["goplugin call demo kv kv.KV/Get --data '{\"key\":\"greeting\"}'"]
    )
  )
)
