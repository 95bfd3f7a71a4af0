/**
 * `[plugins.<name>.go_plugin]`: how to host a hashicorp/go-plugin binary — its handshake values, the
 * application protocol versions offered, AutoMTLS, and the `.proto` files and services to call.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"

const Version = Schema.Int.pipe(Schema.positive({ message: () => "expected a protocol version: a whole number greater than 0" }))

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
  magic_cookie_key: Schema.NonEmptyTrimmedString,
  /** Its expected value (`MagicCookieValue`). */
  magic_cookie_value: Schema.NonEmptyString,
  /** Application protocol versions the host speaks, sent as `PLUGIN_PROTOCOL_VERSIONS`; the plugin picks one. */
  protocol_versions: Schema.NonEmptyArray(Version),
  /** A fresh host certificate per start and mutual TLS with the plugin's (go-plugin's `AutoMTLS`). */
  auto_mtls: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** `.proto` files defining the plugin's services, relative to the config file's folder. */
  proto_files: Schema.optionalWith(Schema.Array(Schema.NonEmptyTrimmedString), { default: () => [] }),
  /** Folders imports in those files resolve against (the file's own folder is always searched). */
  proto_include: Schema.optionalWith(Schema.Array(Schema.NonEmptyTrimmedString), { default: () => [] }),
  /** Fully qualified names of the services to call, e.g. `tfplugin6.Provider`. */
  services: Schema.optionalWith(Schema.Array(Schema.NonEmptyTrimmedString), { default: () => [] }),
  /** Seconds to wait for the handshake line (go-plugin's host waits 60). */
  handshake_timeout: Schema.optionalWith(
    Schema.Number.pipe(Schema.greaterThan(0, { message: () => "expected a number of seconds greater than 0" })),
    { default: () => 60 }
  ),
  /** Largest message accepted from the plugin, in bytes (grpc-js's default of 4 MiB is too small for providers). */
  max_receive_bytes: Schema.optionalWith(Schema.Int.pipe(Schema.positive()), { default: () => 256 * 1024 * 1024 })
})

/**
 * The decoded `[plugins.<name>.go_plugin]` table.
 *
 * @since 0.2.0
 */
export type GoPluginSettings = typeof GoPluginSettings.Type
