/**
 * A lean HTTP/1.1 keep-alive client for REST plugins: one request at a time per connection, idle
 * connections reused, each request written in one socket write and its answer read by
 * `http1Response.ts`. It exists for speed: `node:http`'s client spends ~60–100 µs of CPU per request
 * (a ClientRequest, an IncomingMessage stream, an agent's bookkeeping and a dozen events), which made a
 * host's calls the bottleneck of a REST plugin under load (docs/benchmarks.md, `rest.*`); this costs a
 * string, a buffer and a few callbacks.
 *
 * What a request can end with, in the words `CallError` uses: `refused` (no connection could be made:
 * never sent), `dropped` (the connection broke with the request sent and no answer: the plugin may
 * have acted), `protocol` (an answer this client cannot read, or one cut short), `too-large`.
 *
 * @internal
 */
import * as net from "node:net"
import { validHeaderValue } from "./headerValue.js"
import { type Answer, responseParser } from "./http1Response.js"

/** Where the plugin listens. */
export type Where = { readonly host: string; readonly port: number } | { readonly socketPath: string }

/** One request: the request line's parts, the header lines beyond the pool's own, and the body. */
export interface Http1Request {
  readonly method: "GET" | "POST"
  readonly path: string
  /** Extra header lines, each `name: value\r\n`, from {@link headerLines}. */
  readonly headers: string
  /** A JSON body (sent with its Content-Type and Content-Length), or none. */
  readonly body: string | undefined
  /** The largest answer body accepted. */
  readonly maxBodyBytes: number
}

/** How a request ended. */
export type Outcome =
  | Answer
  | { readonly _tag: "Failed"; readonly reason: "refused" | "dropped" | "protocol" | "too-large"; readonly detail: string }

/** A pool of connections to one plugin. */
export interface Http1Client {
  /** Sends a request; `done` is called once. Answers a canceller that drops the request and its connection. */
  readonly request: (request: Http1Request, done: (outcome: Outcome) => void) => () => void
  /** Closes every connection; requests in flight end as `dropped`. */
  readonly destroy: () => void
}

/**
 * Header entries as lines (`name: value\r\n` each), or why one cannot be sent (a value that would
 * end its line, or is not latin1).
 */
export const headerLines = (entries: Iterable<readonly [string, string]>): string | { readonly invalid: string } => {
  let lines = ""
  for (const [name, value] of entries) {
    if (!validHeaderValue(value)) return { invalid: `the ${name} header value ${JSON.stringify(value.slice(0, 80))} cannot be sent` }
    lines += `${name}: ${value}\r\n`
  }
  return lines
}

const describe = (error: NodeJS.ErrnoException): string =>
  error.code !== undefined && !error.message.includes(error.code) ? `${error.code}: ${error.message}` : error.message

interface Connection {
  readonly socket: net.Socket
  connected: boolean
  /** The request in flight and how to end it, or none while idle. */
  current: ((event: { readonly data?: Buffer; readonly end?: true; readonly error?: NodeJS.ErrnoException }) => void) | undefined
}

/**
 * A client of the plugin at `where`. Every request carries `leading` header lines first and
 * `trailing` ones last (e.g. `Host`), both rendered once; its own lines and its body's
 * `content-type`/`content-length` go between them.
 */
export const make = (where: Where, leading: string, trailing: string): Http1Client => {
  const idle: Array<Connection> = []
  const all = new Set<Connection>()
  let destroyed = false

  const forget = (connection: Connection) => {
    all.delete(connection)
    const at = idle.indexOf(connection)
    if (at !== -1) idle.splice(at, 1)
  }

  const open = (): Connection => {
    const socket = "socketPath" in where ? net.connect(where.socketPath) : net.connect(where.port, where.host)
    socket.setNoDelay(true)
    const connection: Connection = { socket, connected: false, current: undefined }
    all.add(connection)
    socket.once("connect", () => void (connection.connected = true))
    socket.on("data", (data: Buffer) => connection.current === undefined ? socket.destroy() : connection.current({ data }))
    socket.on("end", () => (connection.current === undefined ? socket.destroy() : connection.current({ end: true })))
    socket.on("error", (error: NodeJS.ErrnoException) => connection.current?.({ error }))
    socket.on("close", () => {
      forget(connection)
      connection.current?.({ error: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }) })
    })
    return connection
  }

  const request = (request: Http1Request, done: (outcome: Outcome) => void): (() => void) => {
    if (destroyed) {
      done({ _tag: "Failed", reason: "refused", detail: "the caller is closed" })
      return () => {}
    }
    const connection = idle.pop() ?? open()
    const parser = responseParser(request.method, request.maxBodyBytes)
    let finished = false
    const finish = (outcome: Outcome, reuse: boolean) => {
      if (finished) return
      finished = true
      connection.current = undefined
      if (reuse && !destroyed) idle.push(connection)
      else {
        forget(connection)
        connection.socket.destroy()
      }
      done(outcome)
    }
    connection.current = (event) => {
      if (event.data !== undefined) {
        const parsed = parser.feed(event.data)
        if (parsed === undefined) return
        return parsed._tag === "Answer" ? finish(parsed, parsed.keepAlive) : finish({ _tag: "Failed", reason: parsed.reason, detail: parsed.detail }, false)
      }
      if (event.end !== undefined) {
        const ended = parser.end()
        return ended._tag === "Answer"
          ? finish(ended, false)
          : finish({ _tag: "Failed", reason: parser.started() ? ended.reason : "dropped", detail: ended.detail }, false)
      }
      const error = event.error!
      // No connection was ever made: nothing was sent, whatever the error says.
      const reason = !connection.connected ? "refused" : parser.started() ? "protocol" : "dropped"
      finish({ _tag: "Failed", reason, detail: parser.started() ? `the connection closed in the middle of the answer (${describe(error)})` : describe(error) }, false)
    }
    const body = request.body
    connection.socket.write(
      body === undefined
        ? `${request.method} ${request.path} HTTP/1.1\r\n${leading}${request.headers}${trailing}\r\n`
        : `${request.method} ${request.path} HTTP/1.1\r\n${leading}${request.headers}content-type: application/json\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\n${trailing}\r\n${body}`
    )
    return () => {
      if (finished) return
      finished = true
      connection.current = undefined
      forget(connection)
      connection.socket.destroy()
    }
  }

  return {
    request,
    destroy: () => {
      destroyed = true
      idle.length = 0
      for (const connection of [...all]) connection.socket.destroy()
    }
  }
}
