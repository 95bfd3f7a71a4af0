/**
 * What `goplugin call` does once its command line is parsed (goPluginCommands.ts defines the command;
 * this module is loaded when it runs, see handledBy.ts).
 *
 * @since 0.2.0
 */
import { Console, Duration, Effect, Either, Option, Ref } from "effect"
import { COMM_TYPE, requestOf } from "../goplugin/GoPluginDriver.js"
import { METHOD } from "../goplugin/ServiceClient.js"
import type { NetworkTarget } from "../Launcher.js"
import { withPlugin } from "./callHandlers.js"
import { callGrpcPlugin, recordingGrpcDriver } from "./grpcCall.js"
import { printJson, UsageError } from "./output.js"

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

/** `goplugin call <host> <plugin> <method>`. */
export const call = (
  { data, host, json, method, plugin, proto, timeout }: {
    readonly host: string
    readonly plugin: string
    readonly method: string
    readonly data: Option.Option<string>
    readonly proto: ReadonlyArray<string>
    readonly timeout: number
    readonly json: boolean
  }
) =>
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
