/**
 * A lean gRPC client over one HTTP/2 connection to a go-plugin plugin: unary calls and the two
 * long-lived streams (broker, stdio) of a connection. It exists for speed: @grpc/grpc-js spends
 * ~300–500 µs of CPU per unary call and milliseconds on a channel's first connect, and `node:http2`
 * alone ~150–250 µs per request, which made calls to a go-plugin plugin two to four times slower
 * than go-plugin's own Go host (docs/benchmarks.md); the HTTP/2 framing is therefore this project's
 * own minimal client (`internal/http2Client.ts`, `internal/hpack.ts`). A call is one HTTP/2 stream:
 * the request framed, `te: trailers`, `grpc-timeout` from the deadline, the status read from trailers
 * (or trailers-only headers, the HTTP status, or RST_STREAM), an answer refused once it announces more
 * than the receive cap, and RST_STREAM(CANCEL) when the caller gives up.
 *
 * One session serves one plugin connection; it does not reconnect (a plugin whose socket closed is
 * gone: its calls fail UNAVAILABLE and the supervisor sees the exit; `internal/grpcChannel.ts` opens
 * a new session when a caller needs one). Servers and brokered channels stay on grpc-js.
 *
 * @since 0.2.0
 */
import type { MethodDefinition } from "@grpc/grpc-js"
import { Status } from "../internal/grpcModules.js"
import { cancellable } from "../internal/cancellable.js"
import { Duration, Effect, type Scope } from "effect"
import * as net from "node:net"
import * as tls from "node:tls"
import { type CallStatus, deadlineExceeded, frame, framedRequest, header, httpStatusOf, messageReader, resetStatusOf, statusIn } from "../internal/grpcWire.js"
import * as GrpcHeaderBlocks from "../internal/grpcHeaderBlocks.js"
import * as GrpcMetadata from "../internal/grpcMetadata.js"
import * as Http2Client from "../internal/http2Client.js"

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
 * Metadata entries (lowercase keys, in order) sent with calls beside the session's own headers.
 *
 * @since 0.2.0
 */
export type Metadata = GrpcMetadata.Metadata

/**
 * How a unary call given to {@link GrpcSession.call} ended: its status when not OK, else its answer.
 *
 * @since 0.2.0
 */
export type UnaryDone<Res> = (failure: CallStatus | undefined, answer: Res | undefined) => void

/**
 * One HTTP/2 session speaking gRPC.
 *
 * @since 0.2.0
 */
export interface GrpcSession {
  /**
   * One unary call with a deadline; the stream is reset when a fiber interrupted during the call ends
   * (`internal/cancellable.ts`). Fails with the call's status.
   * `metadata` is sent after the session's own (an entry that cannot be sent fails the call INTERNAL).
   */
  readonly unary: <Req, Res>(
    method: MethodDefinition<Req, Res>,
    request: Req,
    timeout: Duration.DurationInput,
    metadata?: Metadata
  ) => Effect.Effect<Res, CallStatus>
  /**
   * The same unary call without Effect, for hot paths that already run inside one callback: `done` is
   * called once (never synchronously after the canceller ran); the answer is the canceller, which
   * resets the stream. `timeoutMillis` undefined (or over 2^31 - 1): no deadline.
   */
  readonly call: <Req, Res>(
    method: MethodDefinition<Req, Res>,
    request: Req,
    timeoutMillis: number | undefined,
    metadata: Metadata | undefined,
    done: UnaryDone<Res>
  ) => () => void
  /**
   * Sends a unary call now and answers the effect that takes its outcome, waiting at most `timeout`
   * from when it runs (besides the call's own deadline): a call whose answer is wanted later, sent
   * early so that its round trip overlaps other work. Every run of the effect answers the same outcome.
   */
  readonly early: <Req, Res>(
    method: MethodDefinition<Req, Res>,
    request: Req,
    timeoutMillis: number | undefined
  ) => (timeout: Duration.DurationInput) => Effect.Effect<Res, CallStatus>
  /**
   * Opens a streaming call without a deadline: bidirectional, or with `request` a server-streaming
   * call whose one request leaves with its headers, this side closed (one write, not three).
   */
  readonly stream: <Req, Res>(method: MethodDefinition<Req, Res>, handlers: StreamHandlers<Res>, request?: Req) => StreamCall<Req>
  /** Why the connection no longer opens calls (closed, or the plugin going away), once it does not. */
  readonly closedReason: () => string | undefined
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
  /**
   * Metadata every call of the session carries (e.g. `x-host`, `authorization`); checked once by
   * `open`, which fails with the reason when an entry cannot be sent. Absent: none.
   */
  readonly metadata?: Metadata | undefined
  /** How long the socket (and TLS) may take to connect; absent: no limit. */
  readonly connectTimeout?: Duration.DurationInput | undefined
}

const MAX_TIMER_MILLIS = 2_147_483_647

/** grpc-js's words for a call that never reached a connection, which the status mapping reads as "refused". */
const NOT_CONNECTED = "No connection established"

/** A streaming call that never opened (`onEnd` has been told why). */
const noCall: StreamCall<unknown> = { write: () => {}, end: () => {}, cancel: () => {} }

const hostAndPort = (address: string): { host: string; port: number } => {
  const colon = address.lastIndexOf(":")
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ""), port: Number(address.slice(colon + 1)) }
}

/**
 * Connects the socket (and TLS: the plugin's certificate as the only root, name `localhost`). No
 * Nagle: a request larger than the peer's window goes out as frames between its WINDOW_UPDATEs, and
 * Nagle holding one back for the peer's delayed ACK cost ~40 ms per window (a 1 MiB call over a
 * 64 KiB window took 1.4 s against grpc-js's server).
 */
const socketOf = (options: SessionOptions, connected: () => void): net.Socket => {
  const { endpoint } = options
  const where = endpoint.network === "unix" ? { path: endpoint.address } : { ...hostAndPort(endpoint.address), noDelay: true }
  return options.tls === undefined
    ? net.connect(where, connected)
    : tls.connect({ ...where, ...options.tls, servername: "localhost", ALPNProtocols: ["h2"] }, connected)
}

/**
 * Opens the session once the socket (and TLS) is up, without waiting for the server's HTTP/2
 * settings: the first call leaves with the connection preface. Closes it with the scope. Fails with
 * the reason the connection could not be made; a connection refused at the HTTP/2 level fails the
 * first call instead.
 *
 * @since 0.2.0
 */
export const open = (options: SessionOptions): Effect.Effect<GrpcSession, string, Scope.Scope> => {
  const refused = options.metadata === undefined ? undefined : GrpcMetadata.refusal(options.metadata)
  if (refused !== undefined) return Effect.fail(refused)
  return Effect.acquireRelease(
    Effect.async<Http2Client.Http2Client, string>((resume) => {
      let client: Http2Client.Http2Client | undefined
      let timer: ReturnType<typeof setTimeout> | undefined
      const socket = socketOf(options, () => {
        clearTimeout(timer)
        socket.off("error", early)
        client = Http2Client.start(socket)
        resume(Effect.succeed(client))
      })
      const early = (error: Error) => {
        clearTimeout(timer)
        resume(Effect.fail(error.message))
      }
      socket.once("error", early)
      // A timer rather than Effect.timeout, which forks a fiber per connection for what is a timer.
      if (options.connectTimeout !== undefined) {
        const limit = options.connectTimeout
        timer = setTimeout(() => {
          socket.off("error", early)
          socket.on("error", () => {})
          socket.destroy()
          resume(Effect.fail(`no connection within ${Duration.format(limit)}`))
        }, Duration.toMillis(limit))
      }
      return Effect.sync(() => {
        clearTimeout(timer)
        if (client === undefined) socket.destroy()
        else client.destroy()
      })
    }),
    (client) => Effect.sync(() => client.destroy())
  ).pipe(Effect.map((client) => over(client, options)))
}

/** A unary call's outcome as what its Effect resumes with. */
const outcomeOf = <Res>(failure: CallStatus | undefined, answer: Res | undefined): Effect.Effect<Res, CallStatus> =>
  failure === undefined ? Effect.succeed(answer as Res) : Effect.fail(failure)

/** The client over an open connection. */
const over = (client: Http2Client.Http2Client, options: SessionOptions): GrpcSession => {
  const { maxReceiveBytes } = options
  const blockOf = GrpcHeaderBlocks.make({ tls: options.tls !== undefined, metadata: options.metadata })

  /**
   * Starts a call: `onMessage` for each message, `onEnd` once with the status. `undefined` when the
   * connection can no longer open streams (`onEnd` has been told why).
   */
  const start = <Req, Res>(
    method: MethodDefinition<Req, Res>,
    timeoutMillis: number | undefined,
    onMessage: (message: Res) => void,
    onEnd: (status: CallStatus) => void,
    request?: Buffer,
    metadata?: Buffer
  ): Http2Client.ClientStream | undefined => {
    const fixedPart = blockOf(method.path, timeoutMillis)
    const block = metadata === undefined ? fixedPart : Buffer.concat([fixedPart, metadata])
    let final: CallStatus | undefined
    let headersSeen = false
    const refuse = (status: CallStatus) => {
      final ??= status
      stream?.cancel()
      onEnd(final)
    }
    const read = messageReader(maxReceiveBytes, (bytes) => {
      if (final !== undefined) return
      let message: Res
      try {
        message = method.responseDeserialize(bytes)
      } catch (error) {
        return refuse({ code: Status.INTERNAL, details: `the answer could not be decoded: ${(error as Error).message}` })
      }
      onMessage(message)
    }, refuse)
    const stream = client.request(block, request, {
      onHeaders: (headers, endStream) => {
        if (final !== undefined) return
        if (!headersSeen) {
          headersSeen = true
          const httpStatus = Number(header(headers, ":status"))
          if (httpStatus !== 200) final = httpStatusOf(httpStatus)
          else if (endStream) final = statusIn(headers)
        } else {
          final = statusIn(headers) ?? { code: Status.INTERNAL, details: "the answer's trailers carry no grpc-status" }
        }
      },
      onData: (chunk) => {
        if (final === undefined) read(chunk)
      },
      onClose: ({ lost, reset }) => {
        if (final !== undefined) return onEnd(final)
        if (lost !== undefined) return onEnd({ code: Status.UNAVAILABLE, details: `the call was lost: ${lost}` })
        onEnd(reset !== undefined ? resetStatusOf(reset) : { code: Status.INTERNAL, details: "the stream ended without a gRPC status" })
      }
    })
    if (stream === undefined) {
      onEnd({ code: Status.UNAVAILABLE, details: `${NOT_CONNECTED}: ${client.closedReason() ?? "the connection is closed"}` })
    }
    return stream
  }
  const call = <Req, Res>(
    method: MethodDefinition<Req, Res>,
    request: Req,
    timeoutMillis: number | undefined,
    metadata: Metadata | undefined,
    done: UnaryDone<Res>
  ): (() => void) => {
    let settled = false
    let timer: ReturnType<typeof setTimeout> | undefined
    const settle = (failure: CallStatus | undefined, answer: Res | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      done(failure, answer)
    }
    let extra: Buffer | undefined
    if (metadata !== undefined && metadata.length > 0) {
      const refused = GrpcMetadata.refusal(metadata)
      if (refused !== undefined) {
        settle({ code: Status.INTERNAL, details: `the request could not be sent: ${refused}` }, undefined)
        return () => {}
      }
      extra = GrpcMetadata.encode(metadata)
    }
    const body = framedRequest(method.requestSerialize, request)
    if (!Buffer.isBuffer(body)) {
      settle(body, undefined)
      return () => {}
    }
    // Node fires a timer over 2^31 - 1 ms at once: longer deadlines (or none) are not timed here.
    const timed = timeoutMillis !== undefined && Number.isFinite(timeoutMillis) && timeoutMillis <= MAX_TIMER_MILLIS
    let answer: Res | undefined
    let answers = 0
    const stream = start(method, timed ? timeoutMillis : undefined, (message) => {
      answers++
      answer = message
    }, (status) => {
      if (status.code !== Status.OK) return settle(status, undefined)
      if (answers !== 1) return settle({ code: Status.INTERNAL, details: `a unary call received ${answers} answers, not 1` }, undefined)
      settle(undefined, answer)
    }, body, extra)
    if (stream === undefined) return () => {}
    if (timed) {
      timer = setTimeout(() => {
        stream.cancel()
        settle(deadlineExceeded(timeoutMillis), undefined)
      }, timeoutMillis)
    }
    return () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      stream.cancel()
    }
  }

  const unary = <Req, Res>(method: MethodDefinition<Req, Res>, request: Req, timeout: Duration.DurationInput, metadata?: Metadata) =>
    cancellable<Res, CallStatus>((done) =>
      call(method, request, Duration.toMillis(timeout), metadata, (failure, answer) => done(outcomeOf(failure, answer)))
    )

  const early = <Req, Res>(method: MethodDefinition<Req, Res>, request: Req, timeoutMillis: number | undefined) => {
    let outcome: readonly [CallStatus | undefined, Res | undefined] | undefined
    const waiting = new Set<UnaryDone<Res>>()
    call(method, request, timeoutMillis, undefined, (failure, answer) => {
      outcome = [failure, answer]
      for (const done of waiting) done(failure, answer)
      waiting.clear()
    })
    return (timeout: Duration.DurationInput) =>
      Effect.async<Res, CallStatus>((resume) => {
        let timer: ReturnType<typeof setTimeout> | undefined
        const done: UnaryDone<Res> = (failure, answer) => {
          clearTimeout(timer)
          resume(outcomeOf(failure, answer))
        }
        if (outcome !== undefined) return done(...outcome)
        waiting.add(done)
        const millis = Duration.toMillis(timeout)
        if (millis <= MAX_TIMER_MILLIS) {
          timer = setTimeout(() => {
            waiting.delete(done)
            resume(Effect.fail(deadlineExceeded(millis)))
          }, millis)
        }
        return Effect.sync(() => {
          clearTimeout(timer)
          waiting.delete(done)
        })
      })
  }

  const stream = <Req, Res>(method: MethodDefinition<Req, Res>, handlers: StreamHandlers<Res>, request?: Req): StreamCall<Req> => {
    let ended = false
    const onEnd = (status: CallStatus) => {
      if (ended) return
      ended = true
      handlers.onEnd(status)
    }
    const body = request === undefined ? undefined : framedRequest(method.requestSerialize, request)
    if (body !== undefined && !Buffer.isBuffer(body)) {
      onEnd(body)
      return noCall
    }
    const call = start(method, undefined, handlers.onMessage, onEnd, body)
    if (call === undefined) return noCall
    return {
      write: (message) => call.write(frame(method.requestSerialize(message)), false),
      end: () => call.write(Buffer.alloc(0), true),
      cancel: () => {
        call.cancel()
        onEnd({ code: Status.CANCELLED, details: "Cancelled on client" })
      }
    }
  }

  return { unary, call, early, stream, closedReason: client.closedReason }
}
