/**
 * Errors of one domain: what a plugin written with the SDK answers when a command fails.
 * Import them from `PluginError.js`, which re-exports every module of errors.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"

/**
 * For plugin authors using the SDK: a handler fails with this to answer an error to the host.
 * `kind` picks the wire status (REST 400/404/500, gRPC INVALID_ARGUMENT/NOT_FOUND/INTERNAL).
 */
export class CommandFailed extends Schema.TaggedError<CommandFailed>()("CommandFailed", {
  command: Schema.String,
  kind: Schema.Literal("invalid_argument", "not_found", "internal"),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `command "${this.command}" failed: ${this.detail}`
  }
}
