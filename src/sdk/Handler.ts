/**
 * What a plugin author writes: one handler per command, bytes in and bytes out. The transports (REST,
 * gRPC, stdio) share `dispatch`, which decodes the hex payload, picks the handler and turns every way a
 * call can go wrong into a `CommandFailed`.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type { PipelineContext } from "../Caller.js"
import { defectText } from "../internal/errorText.js"
import { CommandFailed } from "../SdkErrors.js"
import { fromHex, toHex } from "../internal/wire.js"

export type { PipelineContext } from "../Caller.js"

/** Who is calling and which command it asked for; `host` is "" when the host did not say. */
export interface HandlerContext {
  readonly host: string
  readonly command: string
  /**
   * The pipeline step the call belongs to (pipeline and step names, whether it runs in a parallel
   * group, the group's size and this step's index in it); undefined when the call is not a pipeline's.
   *
   * @since 0.2.0
   */
  readonly pipeline?: PipelineContext | undefined
}

/** Runs one command: takes the decoded payload and answers bytes, or fails with `CommandFailed`. */
export type Handler = (payload: Uint8Array, context: HandlerContext) => Effect.Effect<Uint8Array, CommandFailed>

/**
 * An answer with variable updates for later pipeline steps (`${vars.NAME}`); build it with {@link withVars}.
 *
 * @since 0.2.0
 */
export interface AnswerWithVars {
  readonly response: Uint8Array
  /** Names of letters, digits, `_` and `-`; the host refuses others and fails the step. */
  readonly vars: Readonly<Record<string, string>>
}

/**
 * A handler that may also set pipeline variables: it answers bytes, or bytes with variables.
 *
 * @since 0.2.0
 */
export type HandlerWithVars = (
  payload: Uint8Array,
  context: HandlerContext
) => Effect.Effect<Uint8Array | AnswerWithVars, CommandFailed>

/**
 * Answers `response` and sets pipeline variables for the steps after this one.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const login: HandlerWithVars = (payload) =>
 *   Effect.succeed(withVars(new TextEncoder().encode("ok"), { session: "s-42" }))   // later: ${vars.session}
 * ```
 */
export const withVars = (response: Uint8Array, vars: Readonly<Record<string, string>>): AnswerWithVars => ({ response, vars })

/** The commands a plugin answers, by command name. */
export type Handlers = Readonly<Record<string, Handler | HandlerWithVars>>

/**
 * A handler's answer as it goes on the wire: the hex response and the variables, if any.
 *
 * @since 0.2.0
 */
export interface WireAnswer {
  readonly response: string
  readonly vars: Readonly<Record<string, string>> | undefined
}

/** The transports a plugin can serve. */
export type Protocol = "rest" | "grpc" | "stdio"

/** The body of an exec request once its shape is checked: the command and its hex payload. */
export interface ExecRequest {
  readonly command: string
  readonly payload: string
}

/** True for a plain JSON object (not null, not an array). */
export const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** Reads `{"command":…,"payload":…}` from a parsed JSON value; returns a description of the problem otherwise. */
export const readExecRequest = (body: unknown): ExecRequest | string => {
  if (!isRecord(body)) return "the request body is not a JSON object"
  const command = body["command"]
  const payload = body["payload"]
  if (typeof command !== "string") return `"command" is missing or not a string`
  if (typeof payload !== "string") return `"payload" is missing or not a (hex) string`
  return { command, payload }
}

/**
 * Runs the handler for `command` on a hex payload and answers the hex response. Bad hex, an unknown
 * command, a handler failure and a handler defect (a thrown exception) all become `CommandFailed`, with
 * kinds `invalid_argument`, `not_found`, the handler's own kind, and `internal`. Variables a handler
 * sets are dropped; the transports use {@link dispatchAnswer}, which keeps them.
 */
export const dispatch = (
  handlers: Handlers,
  command: string,
  payloadHex: string,
  host: string
): Effect.Effect<string, CommandFailed> =>
  Effect.map(dispatchAnswer(handlers, command, payloadHex, { host }), (answer) => answer.response)

/**
 * As {@link dispatch}, with the caller's pipeline context passed to the handler and the variables it
 * sets kept in the answer.
 *
 * @since 0.2.0
 */
export const dispatchAnswer = (
  handlers: Handlers,
  command: string,
  payloadHex: string,
  caller: { readonly host: string; readonly pipeline?: PipelineContext | undefined }
): Effect.Effect<WireAnswer, CommandFailed> => {
  const handler = Object.hasOwn(handlers, command) ? handlers[command] : undefined
  if (handler === undefined) {
    const known = Object.keys(handlers)
    return Effect.fail(
      new CommandFailed({
        command,
        kind: "not_found",
        detail: `unknown command; this plugin knows: ${known.length === 0 ? "(none)" : known.join(", ")}`
      })
    )
  }
  const payload = fromHex(payloadHex)
  if (payload === undefined) {
    return Effect.fail(
      new CommandFailed({
        command,
        kind: "invalid_argument",
        detail: "the payload is not valid hex (it must have an even length and only 0-9, a-f, A-F)"
      })
    )
  }
  return Effect.suspend(() => handler(payload, { host: caller.host, command, pipeline: caller.pipeline })).pipe(
    Effect.map((answer): WireAnswer =>
      answer instanceof Uint8Array
        ? { response: toHex(answer), vars: undefined }
        : { response: toHex(answer.response), vars: answer.vars }
    ),
    Effect.catchAllDefect((defect) =>
      Effect.logError(`command "${command}" crashed`, Cause.die(defect)).pipe(
        Effect.zipRight(
          Effect.fail(new CommandFailed({ command, kind: "internal", detail: defectText(defect) }))
        )
      )
    )
  )
}
