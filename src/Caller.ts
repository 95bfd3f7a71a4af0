/**
 * A `Caller` talks to one running plugin: `ping` and `exec`, bytes in and bytes out, whatever the
 * transport. Drivers build callers for a `comm_type`; see {@link CallerFactory}.
 *
 * @since 0.1.0
 */
import type { Duration, Effect, Scope } from "effect"
import type { CallError, ChecksumMismatch, FileUnreadable, PluginStartError } from "./PluginError.js"
import type { PluginProcess } from "./ProcessRegistry.js"

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

/** Where and how a driver reaches a plugin. */
export interface CallTarget {
  readonly host: string
  readonly plugin: string
  /** Loopback port the plugin listens on, for network drivers. */
  readonly port: number | undefined
  /** The secret given to this launch of the plugin (`GOPLUGIN_TOKEN`); callers send it with every call. */
  readonly token: string
  /** Default time limit of one call. */
  readonly timeout: Duration.Duration
  /** Largest answer body accepted, in bytes. */
  readonly maxResponseBytes: number
  /** The plugin's executable and arguments, for drivers that start a process per call. */
  readonly exec: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  /**
   * Verifies the plugin's checksum again (cached on device, inode, size and mtime, so an unchanged
   * file is not re-read), for drivers that start a process per call.
   */
  readonly verify: Effect.Effect<void, ChecksumMismatch | FileUnreadable>
  /**
   * Starts one process of this plugin (exec, args, cwd, GOPLUGIN_* environment), tracked by the
   * process registry, in its own process group, stopped when the scope closes. Its stderr lines go to
   * the logger as they arrive; with `collectStdout` (a byte limit) stdout is collected instead of logged.
   */
  readonly start: (options: { readonly collectStdout?: number }) => Effect.Effect<PluginProcess, PluginStartError, Scope.Scope>
}

/** Builds callers for one `comm_type`. Add your own with `CallerFactory.withDriver`. */
export interface CallerDriver {
  /** The `comm_type` value this driver serves, e.g. "rest". */
  readonly commType: string
  /** Whether plugins of this type listen on a port (so `--port` is passed and readiness waits for it). */
  readonly usesPort: boolean
  /** Whether plugins of this type run as a long-lived process (false for one process per call). */
  readonly longLived: boolean
  /** Creates a caller whose resources (connections, channels) are released with the scope. */
  readonly make: (target: CallTarget) => Effect.Effect<Caller, never, Scope.Scope>
}
