/**
 * A lean gRPC client over one `node:http2` session to a go-plugin plugin: unary calls and the two
 * long-lived streams (broker, stdio) of a connection. It exists for speed: @grpc/grpc-js spends
 * ~300–500 µs of CPU per unary call and milliseconds on a channel's first connect, which made calls
 * to a go-plugin plugin several times slower than go-plugin's own Go host (docs/benchmarks.md). Here a
 * call is one HTTP/2 stream: the request framed, `te: trailers`, `grpc-timeout` from the deadline, the
 * status read from trailers (or trailers-only headers, the HTTP status, or RST_STREAM), an answer
 * refused once it announces more than the receive cap, and RST_STREAM(CANCEL) when the caller gives up.
 *
 * One session serves one plugin connection; it does not reconnect (a plugin whose socket closed is
 * gone: its calls fail UNAVAILABLE and the supervisor sees the exit). Servers and brokered channels
 * stay on grpc-js.
 *
 * @since 0.2.0
 */
import { type MethodDefinition, status as Status } from "@grpc/grpc-js"
import { Duration, Effect, type Scope } from "effect"
import * as http2 from "node:http2"
import * as net from "node:net"
import * as tls from "node:tls"
import { type CallStatus, frame, httpStatusOf, messageReader, resetStatusOf, statusOf, timeoutHeader } from "../internal/grpcWire.js"

/**
 * Where the plugin listens, as its handshake announced it.
 *
 * @since 0.2.0
 */
export interface Endpoint {
  readonly network: "unix" | "tcp"
  /** A socket path, or `host:port`. */
  readonly address: string
}

/**
 * The TLS client side of AutoMTLS: trust only `ca` (the plugin's certificate), present `cert`/`key`.
 *
 * @since 0.2.0
 */
export interface ClientTls {
  readonly ca: Buffer
  readonly cert: Buffer
  readonly key: Buffer
}

/**
 * Handlers of a streaming call: each message received, then the final status exactly once.
 *
 * @since 0.2.0
 */
export interface StreamHandlers<Res> {
  readonly onMessage: (message: Res) => void
  readonly onEnd: (status: CallStatus) => void
}

/**
 * A streaming call in progress.
 *
 * @since 0.2.0
 */
export interface StreamCall<Req> {
  readonly write: (message: Req) => void
  /** Half-closes: no more messages from this side. */
  readonly end: () => void
  /** Resets the stream (RST_STREAM CANCEL); `onEnd` then reports CANCELLED. */
  readonly cancel: () => void
}

/**
 * One HTTP/2 session speaking gRPC.
 *
 * @since 0.2.0
 */
export interface GrpcSession {
  /** One unary call with a deadline; interruption resets the stream. Fails with the call's status. */
  readonly unary: <Req, Res>(method: MethodDefinition<Req, Res>, request: Req, timeout: Duration.DurationInput) => Effect.Effect<Res, CallStatus>
  /** Opens a streaming call (server or bidirectional) without a deadline. */
  readonly stream: <Req, Res>(method: MethodDefinition<Req, Res>, handlers: StreamHandlers<Res>) => StreamCall<Req>
}

/**
 * What to connect to and how.
 *
 * @since 0.2.0
 */
export interface SessionOptions {
  readonly endpoint: Endpoint
  /** AutoMTLS; absent: plain HTTP/2 (h2c), as go-plugin serves without it. */
  readonly tls?: ClientTls | undefined
  /** Largest message accepted from the plugin. */
  readonly maxReceiveBytes: number
}

const { NGHTTP2_CANCEL } = http2.constants

/** grpc-js's words for a call that never reached a connection, which the status mapping reads as "refused". */
const NOT_CONNECTED = "No connection established"

const socketOf = (options: SessionOptions): net.Socket => {
  const { endpoint } = options
  const where = endpoint.network === "unix" ? { path: endpoint.address } : hostAndPort(endpoint.address)
  return options.tls === undefined
    ? net.connect(where)
    : tls.connect({ ...where, ...options.tls, servername: "localhost", ALPNProtocols: ["h2"] })
}

const hostAndPort = (address: string): { host: string; port: number } => {
  const colon = address.lastIndexOf(":")
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ""), port: Number(address.slice(colon + 1)) }
}

/** A larger window than HTTP/2's 64 KiB default, so large answers (provider schemas) need fewer round trips. */
const WINDOW_BYTES = 4 * 1024 * 1024

/**
 * Opens the session once the socket (and TLS) is up and the server's settings arrived; closes it with
 * the scope. Fails with the reason the connection could not be made.
 *
 * @since 0.2.0
 */
export const open = (options: SessionOptions): Effect.Effect<GrpcSession, string, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<http2.ClientHttp2Session, string>((resume) => {
      const session = http2.connect(options.tls === undefined ? "http://localhost" : "https://localhost", {
        createConnection: () => socketOf(options),
        settings: { initialWindowSize: WINDOW_BYTES, enablePush: false }
      })
      const failed = (error: Error) => {
        session.destroy()
        resume(Effect.fail(error.message))
      }
      session.once("error", failed)
      session.once("connect", () => {
        session.off("error", failed)
        // Errors after the start end the session; each call reports its own status.
        session.on("error", () => {})
        session.setLocalWindowSize(WINDOW_BYTES)
        resume(Effect.succeed(session))
      })
      return Effect.sync(() => session.destroy())
    }),
    (session) => Effect.sync(() => session.destroy())
  ).pipe(Effect.map((session) => over(session, options.maxReceiveBytes)))

interface Call {
  readonly stream: http2.ClientHttp2Stream
}

/** The client over an open session. */
const over = (session: http2.ClientHttp2Session, maxReceiveBytes: number): GrpcSession => {
  /**
   * Starts a call: `onMessage` for each message, `onEnd` once with the status. `undefined` when the
   * session can no longer open streams (`onEnd` has been told why).
   */
  const start = <Req, Res>(
    method: MethodDefinition<Req, Res>,
    timeoutMillis: number | undefined,
    onMessage: (message: Res) => void,
    onEnd: (status: CallStatus) => void
  ): Call | undefined => {
    if (session.closed || session.destroyed) {
      onEnd({ code: Status.UNAVAILABLE, details: `${NOT_CONNECTED}: the connection to the plugin is closed` })
      return undefined
    }
    const headers: http2.OutgoingHttpHeaders = {
      ":method": "POST",
      ":path": method.path,
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": "goplugin-effect"
    }
    if (timeoutMillis !== undefined) headers["grpc-timeout"] = timeoutHeader(timeoutMillis)
    let stream: http2.ClientHttp2Stream
    try {
      stream = session.request(headers, { endStream: false })
    } catch (error) {
      onEnd({ code: Status.UNAVAILABLE, details: `${NOT_CONNECTED}: ${(error as Error).message}` })
      return undefined
    }
    let final: CallStatus | undefined
    let ended = false
    const end = (status: CallStatus) => {
      if (ended) return
      ended = true
      onEnd(status)
    }
    const read = messageReader(maxReceiveBytes, (bytes) => {
      if (final !== undefined) return
      let message: Res
      try {
        message = method.responseDeserialize(bytes)
      } catch (error) {
        final = { code: Status.INTERNAL, details: `the answer could not be decoded: ${(error as Error).message}` }
        stream.close(NGHTTP2_CANCEL)
        return
      }
      onMessage(message)
    }, (refused) => {
      final = refused
      stream.close(NGHTTP2_CANCEL)
    })
    stream.on("response", (responseHeaders) => {
      const httpStatus = Number(responseHeaders[":status"])
      if (httpStatus !== 200) final ??= httpStatusOf(httpStatus)
      else final ??= statusOf(responseHeaders)
    })
    stream.on("data", read)
    stream.on("trailers", (trailers) => {
      final ??= statusOf(trailers) ?? { code: Status.INTERNAL, details: "the answer's trailers carry no grpc-status" }
    })
    // A reset or a lost connection also emits "error"; "close" reports it.
    stream.on("error", () => {})
    stream.on("close", () => {
      if (final !== undefined) return end(final)
      if (session.closed || session.destroyed) {
        return end({ code: Status.UNAVAILABLE, details: "the connection to the plugin closed during the call" })
      }
      end(stream.rstCode !== undefined && stream.rstCode !== 0 ? resetStatusOf(stream.rstCode) : {
        code: Status.INTERNAL,
        details: "the stream ended without a gRPC status"
      })
    })
    return { stream }
  }

  const unary = <Req, Res>(method: MethodDefinition<Req, Res>, request: Req, timeout: Duration.DurationInput) =>
    Effect.async<Res, CallStatus>((resume) => {
      let payload: Buffer
      try {
        payload = method.requestSerialize(request)
      } catch (error) {
        return resume(Effect.fail({ code: Status.INTERNAL, details: `the request could not be encoded: ${(error as Error).message}` }))
      }
      const millis = Duration.toMillis(timeout)
      let answer: Res | undefined
      let answers = 0
      let settled = false
      let timer: ReturnType<typeof setTimeout> | undefined
      const settle = (effect: Effect.Effect<Res, CallStatus>) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resume(effect)
      }
      const call = start(method, millis, (message) => {
        answers++
        answer = message
      }, (status) => {
        if (status.code !== Status.OK) return settle(Effect.fail(status))
        if (answers !== 1) {
          return settle(Effect.fail({ code: Status.INTERNAL, details: `a unary call received ${answers} answers, not 1` }))
        }
        settle(Effect.succeed(answer as Res))
      })
      if (call === undefined) return
      timer = setTimeout(() => {
        call.stream.close(NGHTTP2_CANCEL)
        settle(Effect.fail({ code: Status.DEADLINE_EXCEEDED, details: `Deadline exceeded after ${millis} ms` }))
      }, millis)
      call.stream.end(frame(payload))
      return Effect.sync(() => {
        settled = true
        clearTimeout(timer)
        call.stream.close(NGHTTP2_CANCEL)
      })
    })

  const stream = <Req, Res>(method: MethodDefinition<Req, Res>, handlers: StreamHandlers<Res>): StreamCall<Req> => {
    const call = start(method, undefined, handlers.onMessage, handlers.onEnd)
    if (call === undefined) return { write: () => {}, end: () => {}, cancel: () => {} }
    return {
      write: (message) => {
        if (!call.stream.closed && call.stream.writable) call.stream.write(frame(method.requestSerialize(message)))
      },
      end: () => {
        if (!call.stream.closed && call.stream.writable) call.stream.end()
      },
      cancel: () => call.stream.close(NGHTTP2_CANCEL)
    }
  }

  return { unary, stream }
}
