/**
 * A `Caller` talks to one running plugin: `ping` and `exec`, bytes in and bytes out, whatever the
 * transport. A transport builds callers for a launched plugin; see {@link Launcher} and {@link CallerFactory}.
 *
 * @since 0.1.0
 */
import type { Duration, Effect } from "effect"
import type { CallError } from "./PluginError.js"

/** Per-call options. */
export interface CallOptions {
  /** Overrides the plugin's call timeout for this call. */
  readonly timeout?: Duration.DurationInput
}

/**
 * The client side of one plugin. Exec is never retried automatically: a command may not be idempotent.
 *
 * @example
 * ```ts
 * const caller = yield* container.run("log")
 * const pong = yield* caller.ping
 * const out = yield* caller.exec("plugin.log.store", new TextEncoder().encode("hello"))
 * ```
 */
export interface Caller {
  readonly host: string
  readonly plugin: string
  /** The plugin's `comm_type`. */
  readonly protocol: string
  /** Asks the plugin whether it is alive; succeeds with its answer ("pong"). */
  readonly ping: Effect.Effect<string, CallError>
  /** Runs a command of the plugin with a binary payload and returns its binary answer. */
  readonly exec: (command: string, payload: Uint8Array, options?: CallOptions) => Effect.Effect<Uint8Array, CallError>
}
