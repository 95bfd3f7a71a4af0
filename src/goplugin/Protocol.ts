/**
 * go-plugin's own gRPC services, loaded once from `proto/go-plugin/`: `grpc.health.v1.Health` (Ping),
 * `plugin.GRPCBroker`, `plugin.GRPCController` and `plugin.GRPCStdio`, with the message shapes both
 * the host and the SDK use.
 *
 * @since 0.2.0
 */
import type * as grpc from "@grpc/grpc-js"
import type * as protoLoader from "@grpc/proto-loader"
import { fileURLToPath } from "node:url"
import { grpc as loadGrpc, loader as loadProtoLoader } from "../internal/grpcModules.js"

/** `plugin.ConnInfo`: where one side listens for the service the other will call under `service_id`. */
export interface ConnInfo {
  readonly service_id: number
  readonly network: string
  readonly address: string
}

/** `plugin.StdioData`. */
export interface StdioData {
  readonly channel: "INVALID" | "STDOUT" | "STDERR"
  readonly data: Buffer
}

/** `grpc.health.v1.HealthCheckResponse`. */
export interface HealthCheckResponse {
  readonly status: "UNKNOWN" | "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN"
}

/** The health service name go-plugin registers as SERVING. */
export const HEALTH_SERVICE = "plugin"

const protoDir = fileURLToPath(new URL("../../proto/go-plugin/", import.meta.url))

/** Options shared by every proto-loader load of this module: snake_case kept as go-plugin writes it. */
export const loaderOptions: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true }

type Constructor = grpc.ServiceClientConstructor

/** The loaded services: client constructors and service definitions. */
export interface GoPluginProtocol {
  readonly Health: Constructor
  readonly GRPCBroker: Constructor
  readonly GRPCController: Constructor
  readonly GRPCStdio: Constructor
}

let loaded: GoPluginProtocol | undefined

/**
 * The services, loaded on first use.
 *
 * @since 0.2.0
 */
export const protocol = (): GoPluginProtocol => {
  if (loaded === undefined) {
    const files = ["health.proto", "grpc_broker.proto", "grpc_controller.proto", "grpc_stdio.proto"]
    const definition = loadProtoLoader().loadSync(files.map((file) => protoDir + file), loaderOptions)
    const root = loadGrpc().loadPackageDefinition(definition) as unknown as {
      readonly grpc: { readonly health: { readonly v1: { readonly Health: Constructor } } }
      readonly plugin: { readonly GRPCBroker: Constructor; readonly GRPCController: Constructor; readonly GRPCStdio: Constructor }
    }
    loaded = {
      Health: root.grpc.health.v1.Health,
      GRPCBroker: root.plugin.GRPCBroker,
      GRPCController: root.plugin.GRPCController,
      GRPCStdio: root.plugin.GRPCStdio
    }
  }
  return loaded
}
