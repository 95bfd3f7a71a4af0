/**
 * Typed calls to a go-plugin plugin that a container runs: a client of one service whose unary calls go
 * through the container's {@link Caller} (`exec("package.Service/Method", JSON)`), so it follows the
 * plugin across supervisor restarts and keeps the container's checks (ACL, checksum, call timeout).
 * Messages are JSON as proto-loader reads and writes them: field names as in the `.proto` file,
 * `bytes` as base64, 64-bit integers and enums as strings. For the broker (both ways) or the raw
 * channel of a plugin the container runs, use `GoPluginSession.use` (docs/go-plugin.md).
 *
 * @since 0.2.0
 */
import { Effect, Either } from "effect"
import type { Caller, CallOptions } from "../Caller.js"
import type { Container } from "../Container.js"
import { CallError, type PluginNotRunning } from "../PluginError.js"

/**
 * Request and response JSON shapes per method name; the default accepts any object.
 *
 * @since 0.2.0
 */
export type JsonMethods = Record<string, { readonly request: object; readonly response: unknown }>

/**
 * A client of one service of a running go-plugin plugin.
 *
 * @since 0.2.0
 */
export interface JsonClient<M extends JsonMethods = JsonMethods> {
  /** `package.Service`. */
  readonly service: string
  /** Calls a unary method with a request message; fails with the caller's `CallError`. */
  readonly call: <K extends keyof M & string>(
    method: K,
    request: M[K]["request"],
    options?: CallOptions
  ) => Effect.Effect<M[K]["response"], CallError>
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/**
 * A client of `service` over a caller of a go-plugin plugin (e.g. `container.run`'s).
 *
 * @since 0.2.0
 * @example
 * ```ts
 * type KV = { Get: { request: { key: string }; response: { value: string; found: boolean } } }
 * const caller = yield* container.run("kv")
 * const kv = JsonClient.fromCaller<KV>(caller, "kv.KV")
 * const { found } = yield* kv.call("Get", { key: "greeting" })
 * ```
 */
export const fromCaller = <M extends JsonMethods = JsonMethods>(caller: Caller, service: string): JsonClient<M> => ({
  service,
  call: (method, request, options) => {
    const command = `${service}/${method}`
    return caller.exec(command, encoder.encode(JSON.stringify(request)), options).pipe(
      Effect.flatMap((answer) =>
        Either.try({
          try: () => JSON.parse(decoder.decode(answer)) as M[typeof method]["response"],
          catch: (error) =>
            new CallError({
              host: caller.host,
              plugin: caller.plugin,
              operation: "exec",
              command,
              reason: "protocol",
              detail: `the answer is not JSON (is the plugin's comm_type "go-plugin"?): ${String(error)}`
            })
        })
      )
    )
  }
})

/**
 * A client of `service` of `plugin`, which the container already runs (`container.run`).
 *
 * @since 0.2.0
 */
export const fromContainer = <M extends JsonMethods = JsonMethods>(
  container: Container,
  plugin: string,
  service: string
): Effect.Effect<JsonClient<M>, PluginNotRunning> => Effect.map(container.caller(plugin), (caller) => fromCaller<M>(caller, service))
