/**
 * Errors of one domain: a Ping or Exec call to a running plugin.
 * Import them from `PluginError.js`, which re-exports every module of errors.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"

/**
 * Why a call failed: the kind decides what a caller may reasonably do next. `refused` means the
 * request never reached the plugin (connection refused, or the plugin was not started), so sending it
 * again is safe; `dropped` means it was sent and the connection broke before an answer, so the plugin
 * may or may not have acted on it. `too-large` means an answer (or a request) went over a size limit;
 * `unimplemented` means the plugin has no such method or service.
 */
export const CallFailure = Schema.Literal(
  "refused",
  "dropped",
  "timeout",
  "status",
  "protocol",
  "too-large",
  "unimplemented",
  "remote",
  "interrupted",
  "exited",
  "restarting",
  "stopped"
)

/** A Ping or Exec call to a running plugin failed. Exec is never retried automatically. */
export class CallError extends Schema.TaggedError<CallError>()("CallError", {
  host: Schema.String,
  plugin: Schema.String,
  operation: Schema.Literal("ping", "exec"),
  command: Schema.optional(Schema.String),
  reason: CallFailure,
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const what = this.operation === "exec" ? `exec "${this.command ?? ""}"` : "ping"
    const advice: Record<typeof this.reason, string> = {
      refused: "The request never reached the plugin, so retrying is safe once it runs and listens again; " +
        "if the plugin was not started, fix what the detail names first.",
      dropped: "The request was sent but the connection broke before an answer: the plugin may have acted on " +
        "it. Retry only if the command is safe to repeat.",
      timeout: "Raise the call timeout if the command is slow, or check the plugin for a hang.",
      status: "The plugin answered with an unexpected status.",
      protocol: "The plugin's answer does not follow the wire protocol (docs/protocol.md).",
      "too-large": `The message is larger than allowed: raise [settings] max_response_bytes (or ` +
        `ContainerOptions.maxResponseBytes; for a go-plugin entry, max_receive_bytes in [plugins.${this.plugin}.go_plugin]), or ask the plugin for less.`,
      unimplemented: "The plugin does not implement this method or service: check the name (package.Service/Method) " +
        "against the plugin's .proto files and version.",
      remote: "The plugin reported this failure itself.",
      interrupted: "The call was cancelled before it finished.",
      exited: "The plugin's process ended without a valid answer: its exit status and last stderr lines say why.",
      restarting: "The supervisor is restarting the plugin; retry later or raise the call timeout.",
      stopped: "The plugin is not running any more: run it again (container.run) once the cause is fixed."
    }
    return `Plugin "${this.plugin}" (host "${this.host}"): ${what} failed (${this.reason}): ${this.detail}. ` +
      advice[this.reason]
  }
}
