/**
 * `goplugin call <host> <plugin> <package.Service/Method> --data JSON`: start a go-plugin entry as the
 * host would (ACL and checksum checked), call one unary method of its services with a JSON request, print
 * the JSON answer, and stop it (Shutdown, then the usual grace and SIGKILL).
 *
 * @since 0.2.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import { Console, Duration, Effect, Either, Option } from "effect"
import * as path from "node:path"
import { Discover } from "../Discover.js"
import * as Launch from "../goplugin/Launch.js"
import * as ServiceClient from "../goplugin/ServiceClient.js"
import * as Host from "../Host.js"
import * as ProcessRegistry from "../ProcessRegistry.js"
import { help, jsonOption, printJson, quietly, runCommand, UsageError } from "./output.js"

const METHOD = /^([A-Za-z_][\w.]*)\.([A-Za-z_]\w*)\/([A-Za-z_]\w*)$/

const parseRequest = (data: Option.Option<string>): Either.Either<object, UsageError> => {
  if (Option.isNone(data)) return Either.right({})
  return Either.try({
    try: () => JSON.parse(data.value) as unknown,
    catch: (error) => new UsageError({ message: `--data is not JSON: ${String(error)}` })
  }).pipe(Either.flatMap((value) =>
    typeof value === "object" && value !== null && !Array.isArray(value)
      ? Either.right(value)
      : Either.left(new UsageError({ message: `--data must be a JSON object (the request message), got ${data.value}` }))
  ))
}

/** Buffers (bytes fields) as base64, as protobuf's JSON mapping writes them. */
const answerJson = (answer: unknown): unknown =>
  JSON.parse(JSON.stringify(answer, (_key, value: unknown) =>
    typeof value === "object" && value !== null && (value as { type?: unknown }).type === "Buffer" &&
      Array.isArray((value as { data?: unknown }).data)
      ? Buffer.from((value as { data: Array<number> }).data).toString("base64")
      : value))

const call = (host: string, plugin: string, target: string, request: object, timeout: number) =>
  Effect.gen(function*() {
    const match = METHOD.exec(target)
    if (match === null) {
      return yield* new UsageError({ message: `"${target}" is not package.Service/Method, e.g. kv.KV/Get or tfplugin6.Provider/GetProviderSchema` })
    }
    const [, pkg, service, method] = match as unknown as [string, string, string, string]
    const config = yield* (yield* Discover).load
    const installed = yield* quietly(Host.install(config, host))
    const entry = yield* Host.lookup(installed, plugin)
    const settings = entry.spec.go_plugin
    if (entry.spec.comm_type !== "go-plugin" || settings === undefined) {
      return yield* new UsageError({
        message: `plugin "${plugin}" has comm_type "${entry.spec.comm_type}"${settings === undefined ? " and no [plugins." + plugin + ".go_plugin] table" : ""}; ` +
          `goplugin call needs a go-plugin entry (docs/go-plugin.md)`
      })
    }
    const protos = yield* ServiceClient.loadProtos(
      plugin,
      settings.proto_files.map((file) => path.resolve(config.dir, file)),
      settings.proto_include.map((dir) => path.resolve(config.dir, dir))
    )
    return yield* Effect.scoped(Effect.gen(function*() {
      const { connection, process } = yield* Launch.launch({
        host,
        plugin,
        exec: entry.exec,
        args: entry.spec.exec_args,
        cwd: entry.cwd,
        grace: Duration.seconds(config.settings.stop_grace),
        settings
      })
      const client = yield* ServiceClient.make(connection, protos, `${pkg}.${service}`)
      const answer = yield* client.call(method, request, { timeout: Duration.seconds(timeout) })
      return { pid: process.pid, answer: answerJson(answer) }
    }))
  }).pipe(Effect.provide(ProcessRegistry.layer))

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
        const request = yield* parseRequest(data)
        const { answer, pid } = yield* call(host, plugin, method, request, timeout)
        if (json) return yield* printJson({ host, plugin, method, pid, response: answer })
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
