/**
 * The one error a plugin's server itself can meet (as opposed to a command failing): it could not start
 * listening, could not read its request, or was started with bad arguments.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { CommandFailed } from "../SdkErrors.js"

/** The plugin could not serve: bad `--port`, the port is taken, or stdin/stdout failed. */
export class ServeError extends Schema.TaggedError<ServeError>()("ServeError", {
  protocol: Schema.Literal("rest", "grpc", "stdio"),
  reason: Schema.String
}) {
  override get message(): string {
    return `plugin cannot serve over ${this.protocol}: ${this.reason}`
  }
}

/**
 * Logs why a plugin stopped serving: the error's message for a failure, the whole cause for a defect,
 * nothing for an interruption (a signal).
 *
 * @since 0.2.0
 */
export const logServeFailure = (cause: Cause.Cause<ServeError | CommandFailed>): Effect.Effect<void> =>
  Cause.isInterruptedOnly(cause) ? Effect.void : Option.match(Cause.failureOption(cause), {
    onNone: () => Effect.logError("the plugin crashed", cause),
    onSome: (error) => Effect.logError(error.message)
  })
