/**
 * The failures of hosting a hashicorp/go-plugin binary, and of serving that protocol from the SDK.
 * Each message says what went wrong, with which plugin, and what to do.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"
import { CallFailure } from "../PluginError.js"

/**
 * The plugin's first stdout line is not a go-plugin gRPC handshake this host can use: malformed, an
 * unknown field, `netrpc`, an application protocol version the host did not offer, or no line at all.
 *
 * @since 0.2.0
 */
export class HandshakeError extends Schema.TaggedError<HandshakeError>()("HandshakeError", {
  host: Schema.String,
  plugin: Schema.String,
  line: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `Plugin "${this.plugin}" (host "${this.host}"): its go-plugin handshake ${JSON.stringify(this.line)} ` +
      `cannot be used: ${this.problem}. The line must be CORE|APP|NETWORK|ADDR|grpc|CERT (docs/go-plugin.md).`
  }
}

/**
 * The host could not reach the address the plugin announced, or the plugin's health service did not
 * answer SERVING.
 *
 * @since 0.2.0
 */
export class GoPluginConnectError extends Schema.TaggedError<GoPluginConnectError>()("GoPluginConnectError", {
  host: Schema.String,
  plugin: Schema.String,
  address: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Plugin "${this.plugin}" (host "${this.host}"): cannot use its gRPC server at ${this.address}: ` +
      `${this.detail}. Is the plugin still running, and does it serve grpc.health.v1 (service "plugin")?`
  }
}

/**
 * A call to a method of the plugin's gRPC services failed. `code` is the gRPC status name.
 *
 * @since 0.2.0
 */
export class GoPluginCallError extends Schema.TaggedError<GoPluginCallError>()("GoPluginCallError", {
  host: Schema.String,
  plugin: Schema.String,
  method: Schema.String,
  reason: CallFailure,
  code: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Plugin "${this.plugin}" (host "${this.host}"): ${this.method} failed (${this.code}): ${this.detail}`
  }
}

/**
 * A plugin built with go-plugin older than 1.4.4 tried to dial back into the host through the broker
 * under AutoMTLS: such plugins check the host's certificate against the name "unused" instead of
 * "localhost", so the TLS handshake fails. The host never weakens TLS to let it through.
 *
 * @since 0.2.0
 */
export class BrokerTlsUnsupported extends Schema.TaggedError<BrokerTlsUnsupported>()("BrokerTlsUnsupported", {
  host: Schema.String,
  plugin: Schema.String,
  method: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `Plugin "${this.plugin}" (host "${this.host}"): ${this.method} failed because the plugin could not ` +
      `dial back into the host through the go-plugin broker under AutoMTLS (${this.detail}). This is a bug of ` +
      `go-plugin < 1.4.4 in the plugin: rebuild it with go-plugin ≥ 1.4.4, or set auto_mtls = false in ` +
      `[plugins.${this.plugin}.go_plugin] if plain gRPC over the local socket is acceptable.`
  }
}

/**
 * The `.proto` files of a go-plugin entry cannot be loaded, or do not define the named service or method.
 *
 * @since 0.2.0
 */
export class ProtoLoadError extends Schema.TaggedError<ProtoLoadError>()("ProtoLoadError", {
  plugin: Schema.String,
  files: Schema.Array(Schema.String),
  problem: Schema.String
}) {
  override get message(): string {
    return `Plugin "${this.plugin}": cannot use the proto files ${this.files.join(", ") || "(none)"}: ` +
      `${this.problem}. Check proto_files and services in [plugins.${this.plugin}.go_plugin].`
  }
}

/**
 * A go-plugin broker connection could not be set up: the peer never announced the service id within the
 * time limit, the announced network is not unix/tcp, or a brokered server could not listen.
 *
 * @since 0.2.0
 */
export class BrokerError extends Schema.TaggedError<BrokerError>()("BrokerError", {
  serviceId: Schema.Number,
  problem: Schema.String
}) {
  override get message(): string {
    return `go-plugin broker, service id ${this.serviceId}: ${this.problem}`
  }
}

/**
 * The broker of a plugin that a container runs cannot be used: the entry is not a go-plugin one, the
 * plugin is not running (never run, stopped, down, or still starting after its call timeout), or the
 * generation the session belonged to ended (a restart, a crash, a stop) while it was in use.
 *
 * @since 0.2.0
 */
export class GoPluginSessionError extends Schema.TaggedError<GoPluginSessionError>()("GoPluginSessionError", {
  host: Schema.String,
  plugin: Schema.String,
  reason: Schema.Literal("not-go-plugin", "not-running", "generation-ended"),
  detail: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    const advice: Record<typeof this.reason, string> = {
      "not-go-plugin": "The broker exists only for comm_type = \"go-plugin\" entries; call other plugins through container.run's caller.",
      "not-running": "Run the plugin first (container.run) and retry once it is ready.",
      "generation-ended": "Brokered services and ids belong to one process of the plugin: start over with a new session " +
        "(the plugin's broker forgot every id of the old one)."
    }
    return `Plugin "${this.plugin}" (host "${this.host}"): no go-plugin session (${this.reason}): ${this.detail}. ${advice[this.reason]}`
  }
}
