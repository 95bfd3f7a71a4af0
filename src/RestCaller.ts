/**
 * The REST driver: `GET /ping` and `POST /exec` with JSend bodies and hex payloads, over keep-alive
 * connections that are reused for every call and closed with the caller's scope. The HTTP/1.1 client
 * is the project's own (`internal/http1Client.ts`): `node:http`'s costs more CPU per request than the
 * rest of a call together.
 *
 * @since 0.1.0
 */
import { Effect, type Scope } from "effect"
import type { Caller, CallOptions } from "./Caller.js"
import type { NetworkTarget, Transport } from "./Launcher.js"
import { callError, invalidHex, timeoutMillis } from "./internal/callResult.js"
import { callSpan } from "./internal/callSpan.js"
import { cancellable } from "./internal/cancellable.js"
import * as Http1Client from "./internal/http1Client.js"
import { contextHeaders } from "./internal/pipelineContext.js"
import type { CallError } from "./PluginError.js"
import { fromHex, readJSend, toHex } from "./internal/wire.js"

type Operation = "ping" | "exec"

const whereOf = (target: NetworkTarget): Http1Client.Where =>
  target.address._tag === "Tcp" ? { host: target.address.host, port: target.address.port } : { socketPath: target.address.path }

/**
 * The `Host` header node:http would write itself: the host (an IPv6 address in brackets), then `:port`
 * unless it is 80; "localhost" on a unix socket.
 */
const hostHeaderOf = (where: Http1Client.Where): string => {
  if ("socketPath" in where) return "localhost"
  const host = where.host.includes(":") && !where.host.startsWith("[") ? `[${where.host}]` : where.host
  return where.port === 80 ? host : `${host}:${where.port}`
}

const isSuccessStatus = (status: number) => status >= 200 && status < 300

/**
 * What every request of one caller shares, built once: the connections, and the header lines around
 * the pipeline's. The headers are the ones node:http wrote before, in the same order: `x-host`,
 * `authorization`, the pipeline's `x-goplugin-*`, `content-type`, `content-length`, `Host`,
 * `Connection: keep-alive`; the client puts the request line, the body's two and the rest together.
 */
interface Route {
  readonly client: Http1Client.Http1Client
  readonly target: NetworkTarget
  /** Why the caller's own header values cannot be sent (a host name with a line break), if so. */
  readonly invalid: string | undefined
}

/** The pipeline's header lines of one call, or why a value cannot be sent. */
const pipelineHeaders = (options: CallOptions | undefined): string | { readonly invalid: string } =>
  options?.pipeline === undefined ? "" : Http1Client.headerLines(contextHeaders(options.pipeline))

/**
 * One HTTP exchange. Everything happens inside one callback, which keeps the per-call cost close to
 * a bare request: the time limit is a plain timer rather than `Effect.timeout` (no extra fibers), an
 * interrupted call's request and connection are dropped when its fiber ends (`cancellable`), and the
 * answer is decoded in place by `decode`.
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
  cancellable<A, CallError>((resume) => {
    const { target } = route
    const headers = pipelineHeaders(options)
    const invalid = route.invalid ?? (typeof headers === "string" ? undefined : headers.invalid)
    if (invalid !== undefined) {
      resume(Effect.fail(callError(target, operation, command, "refused", invalid)))
      return () => {}
    }
    let done = false
    const fail = (reason: CallError["reason"], detail: string) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resume(Effect.fail(callError(target, operation, command, reason, detail)))
    }
    const answered = (outcome: Http1Client.Outcome) => {
      if (outcome._tag === "Failed") return fail(outcome.reason, outcome.detail)
      const { status } = outcome
      const text = outcome.body.toString("utf8")
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
      if (value === undefined) return fail("protocol", invalidHex("data.response"))
      if (done) return
      done = true
      clearTimeout(timer)
      if (answer.vars !== undefined) options?.onVars?.(answer.vars)
      resume(Effect.succeed(value))
    }
    const timer = setTimeout(() => {
      cancel()
      fail("timeout", `no answer within ${limitMillis} ms`)
    }, limitMillis)
    const cancel = route.client.request({
      method: body === undefined ? "GET" : "POST",
      path: operation === "ping" ? "/ping" : "/exec",
      headers: headers as string,
      body,
      maxBodyBytes: target.maxResponseBytes
    }, answered)
    return () => {
      if (done) return
      done = true
      clearTimeout(timer)
      cancel()
    }
  })

const asIs = (response: string): string => response

/** Creates a REST caller with its own keep-alive connections, closed when the scope closes. */
export const make = (target: NetworkTarget): Effect.Effect<Caller, never, Scope.Scope> => {
  const where = whereOf(target)
  const identity = Http1Client.headerLines([["x-host", target.host], ["authorization", `Bearer ${target.token}`]])
  const head = typeof identity === "string" ? identity : ""
  return Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => Http1Client.make(where, head, `Host: ${hostHeaderOf(where)}\r\nConnection: keep-alive\r\n`)),
      (client) => Effect.sync(() => client.destroy())
    ),
    (client): Caller => {
      const route: Route = {
        client,
        target,
        invalid: typeof identity === "string" ? undefined : identity.invalid
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
}

/**
 * The REST transport, for plugins on a TCP port or a unix socket.
 *
 * @since 0.2.0
 */
export const transport: Transport<NetworkTarget> = { protocol: "rest", make }
