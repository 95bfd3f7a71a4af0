/**
 * A `Caller` that runs SDK byte handlers in the host's own process: the test double of a plugin. It
 * dispatches exactly as a plugin built with the SDK does (unknown command, handler failure, defect),
 * and reports failures as the `CallError`s a real transport would (`remote`, with the plugin's message).
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type { Caller } from "../Caller.js"
import { CallError } from "../PluginError.js"
import { dispatch, type Handlers } from "../sdk/Handler.js"
import { fromHex, toHex } from "./wire.js"

/** Who the double pretends to be. */
export interface InProcessTarget {
  readonly host: string
  readonly plugin: string
}

/** A caller over handlers run in-process; `protocol` is "in-process". */
export const inProcessCaller = (handlers: Handlers, target: InProcessTarget): Caller => ({
  host: target.host,
  plugin: target.plugin,
  protocol: "in-process",
  ping: Effect.succeed("pong"),
  exec: (command, payload) =>
    dispatch(handlers, command, toHex(payload), target.host).pipe(
      Effect.map((hex) => fromHex(hex) ?? new Uint8Array()),
      Effect.mapError((failed) =>
        new CallError({
          host: target.host,
          plugin: target.plugin,
          operation: "exec",
          command,
          reason: "remote",
          detail: failed.message
        })
      )
    )
})
