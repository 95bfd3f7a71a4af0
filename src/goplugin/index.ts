/**
 * Hosting hashicorp/go-plugin binaries: in a container, `comm_type = "go-plugin"` (`GoPluginDriver`),
 * `JsonClient` for typed calls that follow restarts and `GoPluginSession` for the broker and the channel
 * of the current generation; outside one, `Launch` starts one and connects to it,
 * `ServiceClient` calls its services, `Connection` and `Broker` are the connection and its broker; the
 * rest are the pieces they use.
 * See docs/go-plugin.md.
 *
 * @since 0.2.0
 */
export * as AutoMtls from "./AutoMtls.js"
export * as Broker from "./Broker.js"
export * as Connection from "./Connection.js"
export * from "./GoPluginError.js"
export * from "./GoPluginSettings.js"
export * as GoPluginDriver from "./GoPluginDriver.js"
export * as GoPluginSession from "./GoPluginSession.js"
export * as Handshake from "./Handshake.js"
export * as HclogLine from "./HclogLine.js"
export * as JsonClient from "./JsonClient.js"
export * as Launch from "./Launch.js"
export * as SelfSignedCertificate from "./SelfSignedCertificate.js"
export * as ServiceClient from "./ServiceClient.js"
