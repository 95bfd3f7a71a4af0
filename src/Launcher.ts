/**
 * How a plugin comes alive, apart from how it is called. A launcher turns a {@link LaunchPlan} into a
 * running generation's target: spawn it and hand it a port ({@link PortLauncher}), spawn it once per
 * call ({@link PerCallLauncher}), spawn it and read the address it announces ({@link AnnouncedLauncher}).
 * A transport ({@link Transport}) then turns the target into a {@link Caller}; a {@link Driver} pairs
 * one of each for a `comm_type`. Adding a launcher or a transport is a module and a layer: the
 * container knows neither's internals.
 *
 * @since 0.2.0
 */
import { Data, type Duration, type Effect, type Scope } from "effect"
import type { Caller } from "./Caller.js"
import type { InstalledPlugin } from "./Host.js"
import type { ChecksumMismatch, FileUnreadable, PluginStartError, StartError } from "./PluginError.js"
import type { PluginProcess } from "./ProcessRegistry.js"

/**
 * Where a network plugin listens.
 *
 * @since 0.2.0
 */
export type Address = Data.TaggedEnum<{
  /** A TCP listener, on loopback for plugins the host starts. */
  Tcp: { readonly host: string; readonly port: number }
  /** A unix domain socket. */
  Unix: { readonly path: string }
}>

/**
 * Constructors and matchers for {@link Address}.
 *
 * @since 0.2.0
 */
export const Address = Data.taggedEnum<Address>()

/**
 * `host:port` or `unix:/path`, as people read it in logs and errors.
 *
 * @since 0.2.0
 */
export const formatAddress: (address: Address) => string = Address.$match({
  Tcp: ({ host, port }) => `${host}:${port}`,
  Unix: ({ path }) => `unix:${path}`
})

/**
 * What every target carries: who calls, the launch's secret, and the limits of one call.
 *
 * @since 0.2.0
 */
export interface TargetBase {
  readonly host: string
  readonly plugin: string
  /** The secret given to this launch of the plugin (`GOPLUGIN_TOKEN`); callers send it with every call. */
  readonly token: string
  /** Default time limit of one call. */
  readonly timeout: Duration.Duration
  /** Largest answer accepted, in bytes. */
  readonly maxResponseBytes: number
  /** Whether calls are wrapped in spans (`GoPlugin.layer({ traceCalls: true })`); off keeps the hot path lean. */
  readonly traceCalls: boolean
}

/**
 * A plugin reached over a socket.
 *
 * @since 0.2.0
 */
export interface NetworkTarget extends TargetBase {
  readonly address: Address
}

/**
 * A plugin started once per call: the transport starts each process itself.
 *
 * @since 0.2.0
 */
export interface ProcessTarget extends TargetBase {
  /**
   * Verifies the plugin's checksum again (cached on device, inode, size, mtime and ctime, so an
   * unchanged file is not re-read).
   */
  readonly verify: Effect.Effect<void, ChecksumMismatch | FileUnreadable>
  /**
   * Starts one process of this plugin (exec, args, cwd, GOPLUGIN_* environment) in its own process
   * group, stopped when the scope closes. With `collectStdout` (a byte limit) stdout is the answer
   * channel and is collected instead of logged.
   */
  readonly start: (options: { readonly collectStdout?: number }) => Effect.Effect<PluginProcess, PluginStartError, Scope.Scope>
}

/**
 * Everything a launcher needs to know about one plugin of one host; built by the container from the
 * decoded config.
 *
 * @since 0.2.0
 */
export interface LaunchPlan {
  readonly host: string
  readonly plugin: InstalledPlugin
  readonly callTimeout: Duration.Duration
  readonly stopGrace: Duration.Duration
  readonly execTime: Duration.Duration
  readonly maxResponseBytes: number
  readonly traceCalls: boolean
  /**
   * Verifies the executable's checksum, skipping the read when the file (device, inode, size, mtime,
   * ctime) is unchanged since it last passed: what every launcher runs right before a start, so a
   * swapped or edited file is refused (docs/security.md, "Checksums").
   */
  readonly verify: Effect.Effect<void, ChecksumMismatch | FileUnreadable>
}

/**
 * What a launcher produced: the target a transport calls, the process behind it (none when each call
 * starts its own), and how to tell it is listening.
 *
 * @since 0.2.0
 */
export interface Launched<Target> {
  readonly target: Target
  readonly process: PluginProcess | undefined
  /** The TCP port, when there is one (for `container.running` and logs). */
  readonly port: number | undefined
  /**
   * Completes once the plugin's own listener exists (e.g. its port accepts connections and belongs to
   * its process group). A string failure is "not yet" and is polled again until `exec_time` runs out;
   * a start error (e.g. the port is somebody else's) ends the start at once.
   */
  readonly listening: Effect.Effect<void, string | StartError>
}

/**
 * Brings one generation of a plugin to life in the current scope: closing the scope stops it.
 *
 * @since 0.2.0
 */
export interface Launcher<Target> {
  /** Short name for messages, e.g. "port". */
  readonly kind: string
  readonly launch: (plan: LaunchPlan) => Effect.Effect<Launched<Target>, StartError, Scope.Scope>
}

/**
 * Turns a launched target into a {@link Caller} whose connections close with the scope.
 *
 * @since 0.2.0
 */
export interface Transport<Target> {
  /** The wire protocol's name, shown as `caller.protocol`. */
  readonly protocol: string
  readonly make: (target: Target) => Effect.Effect<Caller, never, Scope.Scope>
}
