/**
 * A `Caller` talks to one running plugin: `ping` and `exec`, bytes in and bytes out, whatever the
 * transport. A transport builds callers for a launched plugin; see {@link Launcher} and {@link CallerFactory}.
 *
 * @since 0.1.0
 */
import type { Duration, Effect } from "effect"
import type { CallError } from "./PluginError.js"

/**
 * Where a call runs inside a pipeline, told to the plugin with the request (stdio: the request's
 * `"pipeline"` object; REST headers and gRPC metadata `x-goplugin-*`; see docs/protocol.md). Plugins
 * may read it and may ignore it.
 *
 * @since 0.2.0
 */
export interface PipelineContext {
  /** The pipeline's `name`, or the absolute path of its file when it has none. */
  readonly name: string
  /** The step's name. */
  readonly step: string
  /** Whether the step runs at the same time as other steps (a parallel group of two or more). */
  readonly parallel: boolean
  /** The step's position in its group, from 0 (0 for a step that runs alone). */
  readonly index: number
  /** How many steps its group has (1 for a step that runs alone). */
  readonly size: number
}

/** Per-call options. */
export interface CallOptions {
  /** Overrides the plugin's call timeout for this call. */
  readonly timeout?: Duration.DurationInput
  /**
   * The pipeline step this call belongs to; sent to the plugin with the request.
   *
   * @since 0.2.0
   */
  readonly pipeline?: PipelineContext | undefined
  /**
   * Receives the answer's variable updates (`data.vars` of the JSend answer, or the gRPC `Data.Vars`
   * map) as parsed, unchecked JSON, just before `exec` succeeds; not called when the answer has none.
   * Pipelines use it to let plugins set `${vars.NAME}` for later steps.
   *
   * @since 0.2.0
   */
  readonly onVars?: ((vars: unknown) => void) | undefined
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
