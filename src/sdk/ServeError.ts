/**
 * The one error a plugin's server itself can meet (as opposed to a command failing): it could not start
 * listening, could not read its request, or was started with bad arguments.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/** The plugin could not serve: bad `--port`, the port is taken, or stdin/stdout failed. */
export class ServeError extends Schema.TaggedError<ServeError>()("ServeError", {
  protocol: Schema.Literal("rest", "grpc", "stdio"),
  reason: Schema.String
}) {
  override get message(): string {
    return `plugin cannot serve over ${this.protocol}: ${this.reason}`
  }
}
