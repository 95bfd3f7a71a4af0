/**
 * The REST transport of the SDK: `GET /ping` and `POST /exec` on 127.0.0.1, written on `node:http`
 * directly so that a round trip costs little more than a bare node server. Handlers run on the
 * runtime captured when the server starts; no request can stop the server.
 *
 * @since 0.1.0
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import type { CommandFailed } from "../SdkErrors.js"
import { jsendError, jsendSuccess } from "../internal/wire.js"
import { bearerMatches, resolveToken, TOKEN_REQUIRED } from "./Access.js"
import { hostRefusal } from "./AllowedHosts.js"
import { DEFAULT_MAX_BODY_BYTES } from "./BodyLimit.js"
import { readContextHeaders } from "../internal/pipelineContext.js"
import { dispatchAnswer, type Handlers, readExecRequest } from "./Handler.js"
import { ServeError } from "./ServeError.js"
import { withoutParentSpan } from "../internal/callSpan.js"

export { DEFAULT_MAX_BODY_BYTES } from "./BodyLimit.js"

/**
 * What a REST server needs: the handlers, the port (0 picks a free one), the body size limit, and who
 * may call it (see `Access`).
 */
export interface RestServerOptions {
  readonly handlers: Handlers
  readonly port: number
  readonly maxBodyBytes?: number | undefined
  /**
   * Every request must carry `Authorization: Bearer <token>`, else 401. Default: `GOPLUGIN_TOKEN` from
   * the environment; absent or "" means no check.
   */
  readonly token?: string | undefined
  /** When non-empty, `POST /exec` whose `X-Host` is not listed answers 403. Ping is not checked. */
  readonly hosts?: ReadonlyArray<string> | undefined
}

/** The HTTP status of each `CommandFailed` kind. */
export const restStatus: Readonly<Record<CommandFailed["kind"], number>> = {
  invalid_argument: 400,
  not_found: 404,
  internal: 500
}

const PONG = jsendSuccess("pong")

const send = (res: ServerResponse, status: number, body: string, headers?: Readonly<Record<string, string>>): void => {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, {
    ...headers,
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body)
  })
  res.end(body)
}

const headerValue = (value: string | ReadonlyArray<string> | undefined): string =>
  typeof value === "string" ? value : value?.[0] ?? ""

/** How much of a too-large body is still read (and dropped) after the 413, in multiples of the limit. */
const DISCARD_FACTOR = 4

/**
 * Answers at once without keeping the request body. The rest of the body is read and dropped so that a
 * client still sending can read the answer (instead of failing with EPIPE) and keep its connection; a
 * client that sends more than `DISCARD_FACTOR * max` further bytes is cut off.
 */
const answerAndDiscard = (
  req: IncomingMessage,
  res: ServerResponse,
  max: number,
  status: number,
  body: string,
  headers?: Readonly<Record<string, string>>
): void => {
  req.removeAllListeners("data")
  send(res, status, body, headers)
  let discarded = 0
  req.on("data", (chunk: Buffer) => {
    discarded += chunk.length
    if (discarded > DISCARD_FACTOR * max) req.socket.destroy()
  })
  req.on("error", () => {})
  req.resume()
}

/** Reads the whole body unless it is larger than `max` bytes; then answers 413 (see `answerAndDiscard`). */
const readBody = (req: IncomingMessage, res: ServerResponse, max: number, onBody: (body: Buffer) => void): void => {
  const tooLarge = () => answerAndDiscard(req, res, max, 413, jsendError(`the request body is larger than ${max} bytes`))
  const declared = Number(req.headers["content-length"])
  if (declared > max) return tooLarge()
  const chunks: Array<Buffer> = []
  let size = 0
  req.on("data", (chunk: Buffer) => {
    size += chunk.length
    if (size > max) return tooLarge()
    chunks.push(chunk)
  })
  req.on("end", () => {
    if (size <= max) onBody(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks, size))
  })
  // A client that goes away mid-body leaves nothing to answer.
  req.on("error", () => {})
}

const parseJson = (body: Buffer): { readonly ok: true; readonly value: unknown } | { readonly ok: false } => {
  try {
    return { ok: true, value: JSON.parse(body.toString("utf8")) }
  } catch {
    return { ok: false }
  }
}

/**
 * Starts the REST server on 127.0.0.1 and answers the bound port; closing the scope stops it, keep-alive
 * connections included. With a token, every request (ping, exec, unknown routes) without
 * `Authorization: Bearer <token>` answers 401 before anything else is looked at.
 */
export const restServer: (options: RestServerOptions) => Effect.Effect<number, ServeError, Scope.Scope> = Effect.fn(
  "Sdk.restServer"
)(function*(options: RestServerOptions) {
  const { handlers } = options
  const max = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const token = resolveToken(options.token)
  const { hosts } = options
  // Captured outside the server's span: handlers' log entries would otherwise pile up as its events.
  const run = Runtime.runCallback(yield* withoutParentSpan(Effect.runtime<never>()))

  const exec = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const json = parseJson(body)
    if (!json.ok) return send(res, 400, jsendError("the request body is not valid JSON"))
    const request = readExecRequest(json.value)
    if (typeof request === "string") return send(res, 400, jsendError(request))
    const host = headerValue(req.headers["x-host"])
    const pipeline = readContextHeaders((name) => headerValue(req.headers[name]))
    const cancel = run(dispatchAnswer(handlers, request.command, request.payload, { host, pipeline }), {
      onExit: (exit) => {
        if (Exit.isSuccess(exit)) return send(res, 202, jsendSuccess(exit.value.response, exit.value.vars))
        const failure = Cause.failureOption(exit.cause)
        if (Option.isSome(failure)) return send(res, restStatus[failure.value.kind], jsendError(failure.value.message))
        send(res, 503, jsendError(`command "${request.command}" was interrupted: the plugin is shutting down`))
      }
    })
    // The host gave up on the call (timeout, interruption): stop the handler instead of finishing unseen work.
    res.once("close", () => {
      if (!res.writableFinished) cancel()
    })
  }

  const route = (req: IncomingMessage, res: ServerResponse): void => {
    if (token !== undefined && !bearerMatches(token, headerValue(req.headers.authorization))) {
      return answerAndDiscard(req, res, max, 401, jsendError(TOKEN_REQUIRED), { "WWW-Authenticate": "Bearer" })
    }
    const url = req.url ?? "/"
    const query = url.indexOf("?")
    const path = query === -1 ? url : url.slice(0, query)
    if (path === "/ping") {
      if (req.method === "GET") return send(res, 200, PONG)
      return send(res, 405, jsendError(`${req.method} /ping is not allowed; use GET`), { Allow: "GET" })
    }
    if (path === "/exec") {
      if (req.method !== "POST") {
        return send(res, 405, jsendError(`${req.method} /exec is not allowed; use POST`), { Allow: "POST" })
      }
      const refusal = hostRefusal(hosts, headerValue(req.headers["x-host"]), "X-Host header")
      if (refusal !== undefined) return answerAndDiscard(req, res, max, 403, jsendError(refusal))
      return readBody(req, res, max, (body) => exec(req, res, body))
    }
    send(res, 404, jsendError(`no route ${req.method} ${path}; this plugin serves GET /ping and POST /exec`))
  }

  const server = createServer((req, res) => {
    try {
      route(req, res)
    } catch (error) {
      send(res, 500, jsendError(`the plugin failed to handle the request: ${String(error)}`))
    }
  })
  // Errors after listening (a socket failing) must not crash the plugin.
  const ignore = () => {}

  return yield* Effect.acquireRelease(
    Effect.async<number, ServeError>((resume) => {
      const onError = (error: Error) =>
        resume(Effect.fail(new ServeError({ protocol: "rest", reason: `cannot listen on 127.0.0.1:${options.port}: ${error.message}` })))
      server.once("error", onError)
      server.listen(options.port, "127.0.0.1", () => {
        server.off("error", onError)
        server.on("error", ignore)
        const address = server.address()
        resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : options.port))
      })
    }),
    () =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.closeAllConnections()
      })
  )
})
