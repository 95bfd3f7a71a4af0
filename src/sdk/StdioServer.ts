/**
 * The stdio transport of the SDK: one process per call. The plugin reads one JSON request from stdin up
 * to end-of-file and writes one JSend answer to stdout; stderr is for logs.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type { CommandFailed } from "../SdkErrors.js"
import { jsendError, jsendSuccess } from "../internal/wire.js"
import { hostRefusal } from "./AllowedHosts.js"
import { readContextJson } from "../internal/pipelineContext.js"
import { dispatchAnswer, type Handlers, isRecord, readExecRequest, type WireAnswer } from "./Handler.js"
import { DEFAULT_MAX_BODY_BYTES } from "./BodyLimit.js"
import { ServeError } from "./ServeError.js"

/**
 * What a stdio call needs: the handlers, the request size limit, the hosts allowed to exec, and the
 * streams (default: the process's). There is no token over stdio: only the host holds the pipe.
 */
export interface StdioServerOptions {
  readonly handlers: Handlers
  readonly maxBodyBytes?: number | undefined
  /** When non-empty, an exec whose `host` field is not listed is refused (error answer, exit 1). */
  readonly hosts?: ReadonlyArray<string> | undefined
  readonly stdin?: NodeJS.ReadableStream | undefined
  readonly stdout?: NodeJS.WritableStream | undefined
}

const refuse = (reason: string) => new ServeError({ protocol: "stdio", reason })

const readAll = (input: NodeJS.ReadableStream, max: number): Effect.Effect<Buffer, ServeError> =>
  Effect.async<Buffer, ServeError>((resume) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const stop = () => {
      input.off("data", onData)
      input.off("end", onEnd)
      input.off("error", onError)
      input.pause()
    }
    const onData = (chunk: Buffer | string) => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk
      size += bytes.length
      if (size > max) {
        stop()
        return resume(Effect.fail(refuse(`the request on stdin is larger than ${max} bytes`)))
      }
      chunks.push(bytes)
    }
    const onEnd = () => {
      stop()
      resume(Effect.succeed(Buffer.concat(chunks, size)))
    }
    const onError = (error: Error) => {
      stop()
      resume(Effect.fail(refuse(`cannot read stdin: ${error.message}`)))
    }
    input.on("data", onData)
    input.on("end", onEnd)
    input.on("error", onError)
    input.resume()
    return Effect.sync(stop)
  })

const write = (output: NodeJS.WritableStream, text: string): Effect.Effect<void, ServeError> =>
  Effect.async<void, ServeError>((resume) => {
    const onError = (error: Error) => resume(Effect.fail(refuse(`cannot write the answer to stdout: ${error.message}`)))
    output.once("error", onError)
    output.write(text, (error) => {
      output.off("error", onError)
      resume(error ? Effect.fail(refuse(`cannot write the answer to stdout: ${error.message}`)) : Effect.void)
    })
  })

const NOT_JSON = Symbol("NOT_JSON")

const parse = (input: Buffer): unknown => {
  try {
    return JSON.parse(input.toString("utf8"))
  } catch {
    return NOT_JSON
  }
}

const PONG: WireAnswer = { response: "pong", vars: undefined }

/** Decodes one stdio request and runs it; answers the hex response and variables (or "pong"). */
const answer = (
  options: StdioServerOptions,
  input: Buffer
): Effect.Effect<WireAnswer, CommandFailed | ServeError> => {
  const request = parse(input)
  if (request === NOT_JSON) return Effect.fail(refuse("the request on stdin is not valid JSON"))
  if (!isRecord(request)) return Effect.fail(refuse("the request on stdin is not a JSON object"))
  const type = request["type"]
  if (type === "ping") return Effect.succeed(PONG)
  if (type !== "exec") {
    return Effect.fail(refuse(`the request "type" is ${JSON.stringify(type)}; expected "ping" or "exec"`))
  }
  const exec = readExecRequest(request)
  if (typeof exec === "string") return Effect.fail(refuse(exec))
  const host = typeof request["host"] === "string" ? request["host"] : ""
  const refusal = hostRefusal(options.hosts, host, `the request's "host" field`)
  if (refusal !== undefined) return Effect.fail(refuse(refusal))
  return dispatchAnswer(options.handlers, exec.command, exec.payload, { host, pipeline: readContextJson(request["pipeline"]) })
}

/**
 * Answers one stdio call: reads the request to end-of-file, writes the JSend answer, and fails with the
 * reason when that answer is an error (so that the process exits with code 1).
 */
export const stdioServer: (options: StdioServerOptions) => Effect.Effect<void, CommandFailed | ServeError> = Effect
  .fn("Sdk.stdioServer")(function*(options: StdioServerOptions) {
    const outcome = yield* readAll(options.stdin ?? process.stdin, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES).pipe(
      Effect.flatMap((bytes) => answer(options, bytes)),
      Effect.either
    )
    const body = Either.isRight(outcome)
      ? jsendSuccess(outcome.right.response, outcome.right.vars)
      : jsendError(outcome.left._tag === "ServeError" ? outcome.left.reason : outcome.left.message)
    yield* write(options.stdout ?? process.stdout, `${body}\n`)
    if (Either.isLeft(outcome)) return yield* outcome.left
  })
