/**
 * The REST driver: `GET /ping` and `POST /exec` with JSend bodies and hex payloads, over keep-alive
 * connections that are reused for every call and closed with the caller's scope.
 *
 * @since 0.1.0
 */
import { Effect, type Scope } from "effect"
import * as http from "node:http"
import type { Caller, CallOptions } from "./Caller.js"
import type { NetworkTarget, Transport } from "./Launcher.js"
import { callError, invalidHex, timeoutMillis } from "./internal/callResult.js"
import { callSpan } from "./internal/callSpan.js"
import { contextHeaders } from "./internal/pipelineContext.js"
import type { CallError } from "./PluginError.js"
import { fromHex, readJSend, toHex } from "./internal/wire.js"

type Operation = "ping" | "exec"

/** No connection was made: the request never left, so retrying it is safe. */
const NEVER_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EADDRNOTAVAIL", "ENOENT"])
/** The connection broke with the request on its way or sent: the plugin may have acted on it. */
const LOST_IN_FLIGHT = new Set(["ECONNRESET", "EPIPE"])

const describe = (error: NodeJS.ErrnoException): string =>
  error.code !== undefined && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message

/** Where requests go: a loopback TCP port or a unix socket. */
type Where = { readonly host: string; readonly port: number } | { readonly socketPath: string }

const whereOf = (target: NetworkTarget): Where =>
  target.address._tag === "Tcp" ? { host: target.address.host, port: target.address.port } : { socketPath: target.address.path }

/**
 * The `Host` header node:http would write itself: the host (an IPv6 address in brackets), then `:port`
 * unless it is 80; "localhost" on a unix socket.
 */
const hostHeaderOf = (where: Where): string => {
  if ("socketPath" in where) return "localhost"
  const host = where.host.includes(":") && !where.host.startsWith("[") ? `[${where.host}]` : where.host
  return where.port === 80 ? host : `${host}:${where.port}`
}

const isSuccessStatus = (status: number) => status >= 200 && status < 300

/**
 * What every request of one caller shares, built once. The headers go to node:http as a flat
 * `[name, value, …]` array, which it writes as given (still validating each), instead of copying an
 * object into its header map one `setHeader` at a time; they are the ones node:http wrote before,
 * in the same order: `x-host`, `authorization`, the pipeline's `x-goplugin-*`, `content-type`,
 * `content-length`, `Host` (it adds `Connection: keep-alive` itself).
 */
interface Route {
  readonly agent: http.Agent
  readonly where: Where
  readonly target: NetworkTarget
  readonly identity: ReadonlyArray<string>
  readonly hostHeader: string
}

const headersOf = (route: Route, body: string | undefined, options: CallOptions | undefined): Array<string> => {
  const headers = route.identity.slice()
  if (options?.pipeline !== undefined) {
    for (const [name, value] of contextHeaders(options.pipeline)) headers.push(name, value)
  }
  if (body !== undefined) headers.push("content-type", "application/json", "content-length", String(Buffer.byteLength(body)))
  headers.push("Host", route.hostHeader)
  return headers
}

/**
 * One HTTP exchange. Everything happens inside one `Effect.async` callback, which keeps the per-call
 * cost close to a bare `http.request`: the time limit is a plain timer rather than `Effect.timeout`
 * (no extra fibers), cancellation destroys the request through the returned canceller (no
 * AbortController per call), and the answer is decoded in place by `decode`.
 */
const exchange = <A>(
  route: Route,
  operation: Operation,
  command: string | undefined,
  body: string | undefined,
  limitMillis: number,
  decode: (response: string) => A | undefined,
  options?: CallOptions
): Effect.Effect<A, CallError> =>
  Effect.async<A, CallError>((resume) => {
    const { target } = route
    let done = false
    const fail = (reason: CallError["reason"], detail: string) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resume(Effect.fail(callError(target, operation, command, reason, detail)))
    }
    const request = http.request({
      agent: route.agent,
      ...route.where,
      method: body === undefined ? "GET" : "POST",
      path: operation === "ping" ? "/ping" : "/exec",
      headers: headersOf(route, body, options)
    })
    const timer = setTimeout(() => {
      fail("timeout", `no answer within ${limitMillis} ms`)
      request.destroy()
    }, limitMillis)
    // Before any answer arrived: refused means never sent (safe to retry), dropped means sent, outcome unknown.
    request.on("error", (error: NodeJS.ErrnoException) => {
      const code = error.code ?? ""
      fail(NEVER_SENT.has(code) ? "refused" : LOST_IN_FLIGHT.has(code) ? "dropped" : "protocol", describe(error))
    })
    request.on("response", (response) => {
      let first: Buffer | undefined
      let more: Array<Buffer> | undefined
      let size = 0
      response.on("data", (chunk: Buffer) => {
        size += chunk.length
        if (size > target.maxResponseBytes) {
          fail("too-large", `answer larger than the limit of ${target.maxResponseBytes} bytes`)
          request.destroy()
        } else if (first === undefined) {
          first = chunk
        } else {
          ;(more ??= [first]).push(chunk)
        }
      })
      // A connection that closes in the middle of the answer surfaces here (as "aborted").
      response.on("error", (error) => fail("protocol", `the connection closed in the middle of the answer (${error.message})`))
      response.on("end", () => {
        if (done) return
        const status = response.statusCode ?? 0
        const text = more !== undefined ? Buffer.concat(more).toString("utf8") : first === undefined ? "" : first.toString("utf8")
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch {
          const excerpt = text.length > 120 ? `${text.slice(0, 120)}…` : text
          return fail(
            isSuccessStatus(status) ? "protocol" : "status",
            `HTTP ${status} with a body that is not JSON: ${JSON.stringify(excerpt)}`
          )
        }
        const answer = readJSend(parsed)
        if (typeof answer === "string") {
          return fail(isSuccessStatus(status) ? "protocol" : "status", `HTTP ${status}: ${answer}`)
        }
        if (answer._tag === "Failure") return fail("remote", `HTTP ${status}: ${answer.message}`)
        if (!isSuccessStatus(status)) return fail("status", `HTTP ${status} with a success body`)
        const value = decode(answer.response)
        if (value === undefined) {
          return fail("protocol", invalidHex("data.response"))
        }
        done = true
        clearTimeout(timer)
        if (answer.vars !== undefined) options?.onVars?.(answer.vars)
        resume(Effect.succeed(value))
      })
    })
    request.end(body)
    return Effect.sync(() => {
      if (done) return
      done = true
      clearTimeout(timer)
      request.destroy()
    })
  })

const asIs = (response: string): string => response

/** Creates a REST caller with its own keep-alive agent, destroyed when the scope closes. */
export const make = (target: NetworkTarget): Effect.Effect<Caller, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => new http.Agent({ keepAlive: true })),
      (agent) => Effect.sync(() => agent.destroy())
    ),
    (agent): Caller => {
      const where = whereOf(target)
      const route: Route = {
        agent,
        where,
        target,
        identity: ["x-host", target.host, "authorization", `Bearer ${target.token}`],
        hostHeader: hostHeaderOf(where)
      }
      const execSpan = { plugin: target.plugin, protocol: "rest" }
      return {
        host: target.host,
        plugin: target.plugin,
        protocol: "rest",
        ping: exchange(route, "ping", undefined, undefined, timeoutMillis(target), asIs).pipe(
          callSpan(target.traceCalls, "Caller.ping", { plugin: target.plugin, protocol: "rest" })
        ),
        exec: (command, payload, options) => {
          const call = exchange(
            route,
            "exec",
            command,
            `{"command":${JSON.stringify(command)},"payload":"${toHex(payload)}"}`,
            timeoutMillis(target, options),
            fromHex,
            options
          )
          return target.traceCalls ? callSpan(true, "Caller.exec", { ...execSpan, command })(call) : call
        }
      }
    }
  )

/**
 * The REST transport, for plugins on a TCP port or a unix socket.
 *
 * @since 0.2.0
 */
export const transport: Transport<NetworkTarget> = { protocol: "rest", make }
