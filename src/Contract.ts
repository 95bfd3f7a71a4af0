/**
 * A typed contract between a host and a plugin, written once with `@effect/rpc`: an `RpcGroup` whose
 * every `Rpc` is one command, with payload, success and error Schemas. This module is the codec both
 * sides share. On the wire a typed command is an ordinary exec (docs/protocol.md, "Typed commands"):
 *
 * - the command name is the Rpc's tag;
 * - the payload bytes are the UTF-8 JSON of the encoded payload (`null` when it is `void`);
 * - the answer bytes are the UTF-8 JSON envelope `{"success":<encoded success>}` or
 *   `{"error":<encoded declared error>}`.
 *
 * A value that does not match its Schema is a {@link Mismatch} naming the JSON path of the problem.
 *
 * @since 0.2.0
 */
import type * as Rpc from "@effect/rpc/Rpc"
import type * as RpcGroup from "@effect/rpc/RpcGroup"
import * as RpcSchema from "@effect/rpc/RpcSchema"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"

/**
 * A contract: the `RpcGroup` of its commands. Stream Rpcs have no typed command (an exec has one
 * answer), and Rpc middleware is not applied.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * import { Rpc, RpcGroup } from "@effect/rpc"
 * import { Schema } from "effect"
 *
 * class Declined extends Schema.TaggedError<Declined>()("Declined", { reason: Schema.String }) {}
 *
 * export class BillingContract extends RpcGroup.make(
 *   Rpc.make("charge", {
 *     payload: { amount: Schema.Number },
 *     success: Schema.Struct({ receipt: Schema.String }),
 *     error: Declined
 *   })
 * ) {}
 * ```
 */
export type Contract<Rpcs extends Rpc.Any = Rpc.Any> = RpcGroup.RpcGroup<Rpcs>

/**
 * The answer of a typed command before it is written: the handler's success, or its declared error.
 *
 * @since 0.2.0
 */
export type Answer =
  | { readonly _tag: "Success"; readonly value: unknown }
  | { readonly _tag: "Failure"; readonly error: unknown }

/**
 * Why a value does not fit the contract: where (a JSON path such as `$.items[1].amount`) and what.
 *
 * @since 0.2.0
 */
export interface Mismatch {
  readonly path: string
  readonly message: string
}

/** One mismatch per line of a description, at most this many (a huge payload must not make a huge message). */
const MAX_ISSUES = 3

/**
 * A mismatch as one readable line: `at $.amount: Expected number, actual "3"`.
 *
 * @since 0.2.0
 */
export const describeMismatches = (mismatches: ReadonlyArray<Mismatch>): string => {
  const shown = mismatches.slice(0, MAX_ISSUES).map((m) => `at ${m.path}: ${m.message}`)
  const more = mismatches.length - shown.length
  return shown.join("; ") + (more > 0 ? ` (and ${more} more)` : "")
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** A Schema path as JSON path text: `["items", 1, "n"]` under `$` is `$.items[1].n`. */
const jsonPath = (root: string, path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (text, key) =>
      typeof key === "number"
        ? `${text}[${key}]`
        : typeof key === "string" && IDENTIFIER.test(key)
        ? `${text}.${key}`
        : `${text}[${JSON.stringify(String(key))}]`,
    root
  )

/** The longest message kept per mismatch: Schema messages quote the actual value, which may be huge. */
const MAX_MESSAGE = 200

const mismatchesOf = (root: string, issue: ParseResult.ParseIssue): ReadonlyArray<Mismatch> =>
  ParseResult.ArrayFormatter.formatIssueSync(issue).map((item) => ({
    path: jsonPath(root, item.path),
    message: item.message.length > MAX_MESSAGE ? `${item.message.slice(0, MAX_MESSAGE)}…` : item.message
  }))

const single = (path: string, message: string): ReadonlyArray<Mismatch> => [{ path, message }]

const encoder = new TextEncoder()
const decoder = new TextDecoder("utf-8", { fatal: true })

/** Parses UTF-8 JSON bytes; an empty input, bad UTF-8 or bad JSON is a mismatch at the root. */
const parseJson = (bytes: Uint8Array, what: string): Either.Either<unknown, ReadonlyArray<Mismatch>> => {
  try {
    return Either.right(JSON.parse(decoder.decode(bytes)))
  } catch (error) {
    const reason = bytes.length === 0 ? "it is empty" : error instanceof Error ? error.message : String(error)
    return Either.left(single("$", `${what} is not UTF-8 JSON (${reason})`))
  }
}

/** Writes an encoded value as UTF-8 JSON; `undefined` (a `void` value) is written as `null`. */
const writeJson = (value: unknown): Either.Either<Uint8Array, ReadonlyArray<Mismatch>> => {
  try {
    return Either.right(encoder.encode(JSON.stringify(value ?? null)))
  } catch (error) {
    return Either.left(single("$", `cannot be written as JSON (${error instanceof Error ? error.message : String(error)})`))
  }
}

/**
 * Everything the wire needs for one command, with its Schemas compiled once.
 *
 * @since 0.2.0
 */
export interface CommandCodec {
  /** The command name: the Rpc's tag. */
  readonly command: string
  /** Host side: the payload as it goes on the wire. */
  readonly encodePayload: (payload: unknown) => Either.Either<Uint8Array, ReadonlyArray<Mismatch>>
  /** Plugin side: the payload bytes back to the payload Schema's type. */
  readonly decodePayload: (bytes: Uint8Array) => Either.Either<unknown, ReadonlyArray<Mismatch>>
  /** Plugin side: a success or a declared error as answer bytes. */
  readonly encodeAnswer: (answer: Answer) => Either.Either<Uint8Array, ReadonlyArray<Mismatch>>
  /** Host side: answer bytes back to a success or a declared error. */
  readonly decodeAnswer: (bytes: Uint8Array) => Either.Either<Answer, ReadonlyArray<Mismatch>>
  /** Whether a value is of the declared error type (so a handler's failure is answered in-band). */
  readonly isDeclaredError: (error: unknown) => boolean
}

type AnySchema = Schema.Schema<unknown, unknown, never>

const PARSE_OPTIONS: AST.ParseOptions = { errors: "all", onExcessProperty: "ignore" }

/**
 * Compiles the codec of one Rpc of a contract.
 *
 * @since 0.2.0
 */
export const commandCodec = (rpc: Rpc.AnyWithProps): CommandCodec => {
  // Schemas that need services cannot be run synchronously on the wire path; the contract's docs say so.
  const payload = rpc.payloadSchema as unknown as AnySchema
  const success = rpc.successSchema as AnySchema
  const failure = rpc.errorSchema as AnySchema
  const make = (rpc.payloadSchema as { readonly make?: (value: unknown, disableValidation?: boolean) => unknown }).make
  const encodePayloadValue = ParseResult.encodeUnknownEither(payload, PARSE_OPTIONS)
  const decodePayloadValue = ParseResult.decodeUnknownEither(payload, PARSE_OPTIONS)
  const encodeSuccess = ParseResult.encodeUnknownEither(success, PARSE_OPTIONS)
  const decodeSuccess = ParseResult.decodeUnknownEither(success, PARSE_OPTIONS)
  const encodeFailure = ParseResult.encodeUnknownEither(failure, PARSE_OPTIONS)
  const decodeFailure = ParseResult.decodeUnknownEither(failure, PARSE_OPTIONS)
  const isFailure = ParseResult.is(failure)
  // `void` travels as `null`; only a void Schema reads `null` back as `undefined` (NullOr keeps its null).
  const fromJson = (schema: AnySchema) => AST.isVoidKeyword(schema.ast) ? (json: unknown) => json ?? undefined : (json: unknown) => json
  const payloadFromJson = fromJson(payload)
  const successFromJson = fromJson(success)
  return {
    command: rpc._tag,
    encodePayload: (value) => {
      // Struct payloads take constructor input (fields with defaults may be left out), as RpcClient does;
      // validation happens once, in the encoding below.
      let input = value
      if (make !== undefined) {
        try {
          input = make.call(rpc.payloadSchema, value, true)
        } catch (error) {
          return Either.left(single("$", error instanceof Error ? error.message : String(error)))
        }
      }
      return Either.flatMap(
        Either.mapLeft(encodePayloadValue(input), (issue) => mismatchesOf("$", issue)),
        writeJson
      )
    },
    decodePayload: (bytes) =>
      Either.flatMap(
        parseJson(bytes, "the payload"),
        (json) => Either.mapLeft(decodePayloadValue(payloadFromJson(json)), (issue) => mismatchesOf("$", issue))
      ),
    encodeAnswer: (answer) =>
      answer._tag === "Success"
        ? Either.flatMap(
          Either.mapLeft(encodeSuccess(answer.value), (issue) => mismatchesOf("$.success", issue)),
          (encoded) => writeJson({ success: encoded ?? null })
        )
        : Either.flatMap(
          Either.mapLeft(encodeFailure(answer.error), (issue) => mismatchesOf("$.error", issue)),
          (encoded) => writeJson({ error: encoded ?? null })
        ),
    decodeAnswer: (bytes) =>
      Either.flatMap(parseJson(bytes, "the answer"), (json): Either.Either<Answer, ReadonlyArray<Mismatch>> => {
        const envelope = typeof json === "object" && json !== null && !Array.isArray(json)
          ? json as Readonly<Record<string, unknown>>
          : undefined
        const hasSuccess = envelope !== undefined && Object.hasOwn(envelope, "success")
        const hasError = envelope !== undefined && Object.hasOwn(envelope, "error")
        if (envelope === undefined || hasSuccess === hasError) {
          return Either.left(single("$", `expected an object with exactly one of "success" or "error", got ${excerpt(json)}`))
        }
        return hasSuccess
          ? Either.match(decodeSuccess(successFromJson(envelope["success"])), {
            onLeft: (issue) => Either.left(mismatchesOf("$.success", issue)),
            onRight: (value) => Either.right({ _tag: "Success", value })
          })
          : Either.match(decodeFailure(envelope["error"]), {
            onLeft: (issue) => Either.left(mismatchesOf("$.error", issue)),
            onRight: (error) => Either.right({ _tag: "Failure", error })
          })
      }),
    isDeclaredError: isFailure
  }
}

/** The start of a JSON value, for messages about answers that are not envelopes. */
const excerpt = (json: unknown): string => {
  const text = JSON.stringify(json) ?? String(json)
  return text.length > 80 ? `${text.slice(0, 80)}…` : text
}

/**
 * The codecs of every command of a contract, by command name.
 *
 * @since 0.2.0
 */
export const codecs = <Rpcs extends Rpc.Any>(contract: Contract<Rpcs>): ReadonlyMap<string, CommandCodec> =>
  new Map(commandsOf(contract).map((rpc) => [rpc._tag, commandCodec(rpc)]))

/**
 * The Rpcs of a contract that are typed commands, in the contract's order: stream Rpcs are left out
 * (an exec has one answer).
 *
 * @since 0.2.0
 */
export const commandsOf = <Rpcs extends Rpc.Any>(contract: Contract<Rpcs>): ReadonlyArray<Rpc.AnyWithProps> =>
  Array.from(contract.requests.values(), (rpc) => rpc as unknown as Rpc.AnyWithProps).filter((rpc) =>
    !RpcSchema.isStreamSchema(rpc.successSchema)
  )

/**
 * The Rpcs of a contract that are one-answer commands (stream Rpcs are left out: an exec has one answer).
 *
 * @since 0.2.0
 */
export type Commands<Rpcs extends Rpc.Any> = Rpcs extends Rpc.Rpc<
  infer _Tag,
  infer _Payload,
  infer _Success,
  infer _Error,
  infer _Middleware
> ? [_Success] extends [RpcSchema.Stream<infer _A, infer _E>] ? never : Rpcs
  : never
