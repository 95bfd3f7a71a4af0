/**
 * Helpers every driver shares to turn an answer into bytes or a `CallError`.
 *
 * @internal
 */
import { Duration, Effect } from "effect"
import type { CallOptions } from "../Caller.js"
import type { TargetBase } from "../Launcher.js"
import { CallError } from "../PluginError.js"
import { fromHex } from "./wire.js"

/** Builds the `CallError` of one call. */
export const callError = (
  target: Pick<TargetBase, "host" | "plugin">,
  operation: "ping" | "exec",
  command: string | undefined,
  reason: CallError["reason"],
  detail: string
): CallError =>
  new CallError({
    host: target.host,
    plugin: target.plugin,
    operation,
    ...(command === undefined ? {} : { command }),
    reason,
    detail
  })

/** Why an answer's hex field was refused, in the words every driver uses. */
export const invalidHex = (field: string): string => `${field} is not valid hex (odd length or a non-hex character)`

/** Decodes the hex `response` of an exec answer, failing with a protocol error when it is not hex. */
export const decodeAnswer = (
  target: Pick<TargetBase, "host" | "plugin">,
  command: string,
  field: string
) =>
(response: string): Effect.Effect<Uint8Array, CallError> => {
  const bytes = fromHex(response)
  return bytes === undefined
    ? Effect.fail(callError(target, "exec", command, "protocol", invalidHex(field)))
    : Effect.succeed(bytes)
}

/** The time limit of one call in milliseconds: the per-call option, else the plugin's default. */
export const timeoutMillis = (target: Pick<TargetBase, "timeout">, options?: CallOptions): number =>
  Duration.toMillis(options?.timeout === undefined ? target.timeout : Duration.decode(options.timeout))
