/**
 * The REST driver: `GET /ping` and `POST /exec` with JSend bodies and hex payloads, over keep-alive
 * connections that are reused for every call and closed with the caller's scope.
 *
 * @since 0.1.0
 */
import { Effect, type Scope } from "effect"
import * as http from "node:http"
import type { Caller, CallerDriver, CallTarget } from "./Caller.js"
import { callError, decodeAnswer, timeoutMillis } from "./internal/callResult.js"
import type { CallError } from "./PluginError.js"
import { readJSend, toHex } from "./internal/wire.js"

type Operation = "ping" | "exec"

const LOST_CONNECTION = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ENOTFOUND", "EADDRNOTAVAIL"])

const describe = (error: NodeJS.ErrnoException): string =>
  error.code !== undefined && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message

/**
 * One HTTP exchange, answered with the JSend `data.response` string. The timer lives inside the
 * request rather than in `Effect.timeout` to keep the hot path free of extra fibers; interruption
 * aborts the request through the signal `Effect.async` provides.
 */
const exchange = (
  agent: http.Agent,
  target: CallTarget,
  operation: Operation,
  command: string | undefined,
  body: string | undefined,
  limitMillis: number
): Effect.Effect<string, CallError> =>
  Effect.async<string, CallError>((resume, signal) => {
    const fail = (reason: CallError["reason"], detail: string) =>
      resume(Effect.fail(callError(target, operation, command, reason, detail)))
    let done = false
    const finish = () => {
      done = true
      clearTimeout(timer)
    }
    const headers: http.OutgoingHttpHeaders = { "x-host": target.host, authorization: `Bearer ${target.token}` }
    if (body !== undefined) {
      headers["content-type"] = "application/json"
      headers["content-length"] = Buffer.byteLength(body)
    }
    const request = http.request({
      agent,
      host: "127.0.0.1",
      port: target.port,
      method: body === undefined ? "GET" : "POST",
      path: operation === "ping" ? "/ping" : "/exec",
      headers,
      signal
    })
    const timer = setTimeout(() => {
      if (done) return
      finish()
      request.destroy()
      fail("timeout", `no answer within ${limitMillis} ms`)
    }, limitMillis)
    request.on("error", (error: NodeJS.ErrnoException) => {
      if (done) return
      finish()
      // Before any answer arrived, a refused or dropped connection means the plugin is unreachable.
      fail(LOST_CONNECTION.has(error.code ?? "") ? "connect" : "protocol", describe(error))
    })
    request.on("response", (response) => {
      const chunks: Array<Buffer> = []
      let size = 0
      response.on("data", (chunk: Buffer) => {
        if (done) return
        size += chunk.length
        if (size > target.maxResponseBytes) {
          finish()
          request.destroy()
          fail("protocol", `answer larger than the limit of ${target.maxResponseBytes} bytes`)
          return
        }
        chunks.push(chunk)
      })
      response.on("aborted", () => {
        if (done) return
        finish()
        fail("protocol", "the connection closed in the middle of the answer")
      })
      response.on("error", (error) => {
        if (done) return
        finish()
        fail("protocol", `the answer broke off: ${error.message}`)
      })
      response.on("end", () => {
        if (done) return
        finish()
        const status = response.statusCode ?? 0
        const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8")
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch {
          const excerpt = text.length > 120 ? `${text.slice(0, 120)}…` : text
          return fail(
            status >= 200 && status < 300 ? "protocol" : "status",
            `HTTP ${status} with a body that is not JSON: ${JSON.stringify(excerpt)}`
          )
        }
        const answer = readJSend(parsed)
        if (typeof answer === "string") {
          return fail(status >= 200 && status < 300 ? "protocol" : "status", `HTTP ${status}: ${answer}`)
        }
        if (answer._tag === "Failure") return fail("remote", `HTTP ${status}: ${answer.message}`)
        if (status < 200 || status >= 300) {
          return fail("status", `HTTP ${status} with a success body`)
        }
        resume(Effect.succeed(answer.response))
      })
    })
    request.end(body)
  })

/** Creates a REST caller with its own keep-alive agent, destroyed when the scope closes. */
export const make = (target: CallTarget): Effect.Effect<Caller, never, Scope.Scope> =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => new http.Agent({ keepAlive: true, keepAliveMsecs: 1000, scheduling: "lifo" })),
      (agent) => Effect.sync(() => agent.destroy())
    ),
    (agent): Caller => {
      const pingTimeout = timeoutMillis(target)
      return {
        host: target.host,
        plugin: target.plugin,
        protocol: "rest",
        ping: exchange(agent, target, "ping", undefined, undefined, pingTimeout).pipe(
          Effect.withSpan("Caller.ping", { attributes: { plugin: target.plugin, protocol: "rest" } })
        ),
        exec: (command, payload, options) =>
          Effect.flatMap(
            exchange(
              agent,
              target,
              "exec",
              command,
              `{"command":${JSON.stringify(command)},"payload":"${toHex(payload)}"}`,
              timeoutMillis(target, options)
            ),
            decodeAnswer(target, command, "data.response")
          ).pipe(Effect.withSpan("Caller.exec", { attributes: { plugin: target.plugin, command, protocol: "rest" } }))
      }
    }
  )

/** The `rest` driver. */
export const driver: CallerDriver = { commType: "rest", usesPort: true, longLived: true, make }
