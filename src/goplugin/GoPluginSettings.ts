/**
 * `[plugins.<name>.go_plugin]`: how to host a hashicorp/go-plugin binary — its handshake values, the
 * application protocol versions offered, AutoMTLS, and the `.proto` files and services to call. Like
 * the rest of the config, the TOML is snake_case (times in seconds) and the decoded model camelCase
 * (times as `Duration`s); relative `.proto` paths are resolved against the config file's folder by
 * {@link resolvePaths} when a plugin of that config starts.
 *
 * @since 0.2.0
 */
import { Duration } from "effect"
import * as Schema from "effect/Schema"
import * as path from "node:path"
import { Seconds } from "../internal/seconds.js"

const Version = Schema.Int.pipe(Schema.positive({ message: () => "expected a protocol version: a whole number greater than 0" }))

const withDefault = <A, I, R>(schema: Schema.Schema<A, I, R>, key: string, value: () => A) =>
  Schema.optionalWith(schema, { default: value, exact: true }).pipe(Schema.fromKey(key))

const Paths = Schema.Array(Schema.NonEmptyTrimmedString)

/**
 * The settings of a go-plugin entry.
 *
 * @since 0.2.0
 * @example
 * ```toml
 * [plugins.aws.go_plugin]   # Terraform's handshake
 * magic_cookie_key = "TF_PLUGIN_MAGIC_COOKIE"
 * magic_cookie_value = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
 * protocol_versions = [6, 5]
 * proto_files = ["tfplugin6.proto"]
 * services = ["tfplugin6.Provider"]
 * ```
 */
export const GoPluginSettings = Schema.Struct({
  /** The environment variable the plugin checks before it serves (go-plugin's `MagicCookieKey`). */
  magicCookieKey: Schema.propertySignature(Schema.NonEmptyTrimmedString).pipe(Schema.fromKey("magic_cookie_key")),
  /** Its expected value (`MagicCookieValue`). */
  magicCookieValue: Schema.propertySignature(Schema.NonEmptyString).pipe(Schema.fromKey("magic_cookie_value")),
  /** Application protocol versions the host speaks, sent as `PLUGIN_PROTOCOL_VERSIONS`; the plugin picks one. */
  protocolVersions: Schema.propertySignature(Schema.NonEmptyArray(Version)).pipe(Schema.fromKey("protocol_versions")),
  /** A fresh host certificate per start and mutual TLS with the plugin's (go-plugin's `AutoMTLS`). */
  autoMtls: withDefault(Schema.Boolean, "auto_mtls", () => true),
  /** `.proto` files defining the plugin's services, relative to the config file's folder. */
  protoFiles: withDefault(Paths, "proto_files", () => []),
  /** Folders imports in those files resolve against (the file's own folder is always searched). */
  protoInclude: withDefault(Paths, "proto_include", () => []),
  /** Fully qualified names of the services to call, e.g. `tfplugin6.Provider`. */
  services: Schema.optionalWith(Paths, { default: () => [], exact: true }),
  /** How long to wait for the handshake line (go-plugin's Go host waits 60 s); also bounded by `exec_time`. */
  handshakeTimeout: withDefault(Seconds, "handshake_timeout", () => Duration.seconds(60)),
  /** Largest message accepted from the plugin, in bytes (grpc-js's default of 4 MiB is too small for providers). */
  maxReceiveBytes: withDefault(Schema.Int.pipe(Schema.positive()), "max_receive_bytes", () => 256 * 1024 * 1024)
})

/**
 * The decoded `[plugins.<name>.go_plugin]` table.
 *
 * @since 0.2.0
 */
export type GoPluginSettings = typeof GoPluginSettings.Type

/**
 * The settings with `protoFiles` and `protoInclude` made absolute against `dir` (the config file's folder).
 *
 * @since 0.2.0
 */
export const resolvePaths = (settings: GoPluginSettings, dir: string): GoPluginSettings => ({
  ...settings,
  protoFiles: settings.protoFiles.map((file) => path.resolve(dir, file)),
  protoInclude: settings.protoInclude.map((folder) => path.resolve(dir, folder))
})
