/**
 * A contract as JSON Schema (draft-07, from effect's `JSONSchema` module): one schema per command for
 * its payload, its success and its declared error, each describing the JSON that travels on the wire.
 * Authors in other languages generate or check their types from it (`goplugin contract`).
 *
 * @since 0.2.0
 */
import type * as Rpc from "@effect/rpc/Rpc"
import * as Either from "effect/Either"
import * as JSONSchema from "effect/JSONSchema"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import { commandsOf, type Contract } from "./Contract.js"

/**
 * The three schemas of one command.
 *
 * @since 0.2.0
 */
export interface CommandSchemas {
  /** The JSON of the exec payload. */
  readonly payload: JSONSchema.JsonSchema7Root
  /** The value of `"success"` in the answer envelope. */
  readonly success: JSONSchema.JsonSchema7Root
  /** The value of `"error"` in the answer envelope (`{"not":{}}` when the command declares none). */
  readonly error: JSONSchema.JsonSchema7Root
}

/**
 * What `goplugin contract` prints.
 *
 * @since 0.2.0
 */
export interface ContractDocument {
  readonly $comment: string
  readonly commands: Readonly<Record<string, CommandSchemas>>
}

/**
 * A Schema of the contract has no JSON Schema (e.g. it encodes to `undefined`, a bigint or a class
 * without a JSON form).
 *
 * @since 0.2.0
 */
export class ContractSchemaError extends Schema.TaggedError<ContractSchemaError>()("ContractSchemaError", {
  command: Schema.String,
  part: Schema.Literal("payload", "success", "error"),
  detail: Schema.String
}) {
  override get message(): string {
    return `command "${this.command}": its ${this.part} Schema cannot be printed as JSON Schema (${this.detail}). ` +
      `Use Schemas that encode to JSON, or give this one a "jsonSchema" annotation.`
  }
}

const COMMENT = "goplugin typed contract: exec <command> with the UTF-8 JSON of its payload; the answer is " +
  `{"success":<success>} or {"error":<error>} (docs/protocol.md, "Typed commands")`

/** `void` travels as `null`, so its schema says so (effect's own rendering of void accepts anything). */
const VOID_AS_NULL: JSONSchema.JsonSchema7Root = {
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "null",
  description: "no value: null on the wire"
}

const schemaOf = (
  command: string,
  part: ContractSchemaError["part"],
  schema: Schema.Schema.All
): Either.Either<JSONSchema.JsonSchema7Root, ContractSchemaError> =>
  AST.isVoidKeyword(schema.ast)
    ? Either.right(VOID_AS_NULL)
    : Either.try({
      try: () => JSONSchema.make(schema as Schema.Schema<unknown, unknown, unknown>),
      catch: (error) =>
        new ContractSchemaError({
          command,
          part,
          detail: (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "unknown reason"
        })
    })

/**
 * The JSON Schema document of a contract, commands in the contract's order.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const document = ContractJsonSchema.make(BillingContract)  // Either<ContractDocument, ContractSchemaError>
 * ```
 */
export const make = <Rpcs extends Rpc.Any>(
  contract: Contract<Rpcs>
): Either.Either<ContractDocument, ContractSchemaError> =>
  Either.gen(function*() {
    const commands: Record<string, CommandSchemas> = {}
    for (const { _tag: command, errorSchema, payloadSchema, successSchema } of commandsOf(contract)) {
      commands[command] = {
        payload: yield* schemaOf(command, "payload", payloadSchema as unknown as Schema.Schema.All),
        success: yield* schemaOf(command, "success", successSchema),
        error: yield* schemaOf(command, "error", errorSchema)
      }
    }
    return { $comment: COMMENT, commands }
  })
