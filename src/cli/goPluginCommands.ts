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
import { Console, Duration, Effect, Either, Option, Ref } from "effect"
import { COMM_TYPE, requestOf } from "../goplugin/GoPluginDriver.js"
import type { NetworkTarget } from "../Launcher.js"
import { withPlugin } from "./callCommands.js"
import { METHOD } from "../goplugin/ServiceClient.js"
import { callGrpcPlugin, recordingGrpcDriver } from "./grpcCall.js"
import { help, jsonOption, printJson, runCommand, UsageError } from "./output.js"

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Refuses, before anything starts, an entry `goplugin call` cannot speak to, or `--proto` where it means nothing. */
const accepts = (plugin: string, commType: string, protoFiles: ReadonlyArray<string>): Effect.Effect<void, UsageError> => {
  if (commType === COMM_TYPE) {
    return protoFiles.length === 0 ? Effect.void : Effect.fail(
      new UsageError({
        message: `--proto is for comm_type = "grpc" plugins; the services of go-plugin entry "${plugin}" come from ` +
          `proto_files in its [plugins.${plugin}.go_plugin] table`
      })
    )
  }
  if (commType === "grpc") return Effect.void
  return Effect.fail(
    new UsageError({
      message: `plugin "${plugin}" has comm_type "${commType}": goplugin call speaks gRPC (go-plugin and grpc entries); ` +
        `run its commands with goplugin exec <host> ${plugin} <command> --data TEXT`
    })
  )
}

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
  ({ data, host, json, method, plugin, proto, timeout }) =>
    runCommand(
      json,
      Effect.gen(function*() {
        if (!METHOD.test(method)) {
          return yield* new UsageError({ message: `"${method}" is not package.Service/Method, e.g. kv.KV/Get or plugin.Plugin/Ping` })
        }
        const payload = encoder.encode(Option.getOrElse(data, () => "{}"))
        const request = yield* Either.mapLeft(requestOf(payload), (problem) => new UsageError({ message: `--data: ${problem}` }))
        const limit = Duration.seconds(timeout)
        const recorded = yield* Ref.make(Option.none<NetworkTarget>())
        const report = yield* withPlugin(
          host,
          plugin,
          (caller) =>
            caller.protocol === COMM_TYPE
              ? Effect.map(caller.exec(method, payload, { timeout: limit }), (answer): unknown => JSON.parse(decoder.decode(answer)))
              : Effect.flatMap(Ref.get(recorded), Option.match({
                onNone: () => Effect.dieMessage("the grpc driver recorded no target"),
                onSome: (target) => callGrpcPlugin(target, method, request, proto, limit)
              })),
          { drivers: [recordingGrpcDriver(recorded)], accepts: (commType) => accepts(plugin, commType, proto) }
        )
        if (json) return yield* printJson({ host, plugin, method, pid: report.pid, response: report.answer })
        yield* Console.log(JSON.stringify(report.answer, null, 2))
      })
    )
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
