/**
 * Row 3: gRPC exec round trips and throughput. The library's `Caller.exec` and a raw `@grpc/grpc-js`
 * client generated from the same proto/plugin.proto call `plugin.Plugin/Exec` with the same hex payload
 * on the same plugin process (examples/grpc-plugin.ts).
 */
import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import { Effect } from "effect"
import * as path from "node:path"
import { HOST, payloadOf, root, runNetworkPlugin } from "./fixtures.js"
import { type BenchOptions, transportRows } from "./measure.js"

interface ExecResponse {
  readonly Status?: string
  readonly Data?: { readonly Response?: string } | null
}

interface RawPluginClient extends grpc.Client {
  Exec(
    request: { Command: string; Payload: string },
    metadata: grpc.Metadata,
    callback: (error: grpc.ServiceError | null, response?: ExecResponse) => void
  ): grpc.ClientUnaryCall
  Exec(
    request: { Command: string; Payload: string },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: ExecResponse) => void
  ): grpc.ClientUnaryCall
}

/**
 * The client a user would write by hand from the proto: default channel options, the metadata the
 * library sends (x-host and, when the plugin was given one, the bearer token). `deadlineMillis` (not
 * used by the bench rows) adds a per-call deadline, to price it on its own.
 */
export const rawGrpcClient = (port: number, token: string | undefined, deadlineMillis?: number) => {
  const definition = protoLoader.loadSync(path.join(root, "proto", "plugin.proto"), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true
  })
  const Client = (grpc.loadPackageDefinition(definition) as unknown as {
    plugin: { Plugin: new(address: string, credentials: grpc.ChannelCredentials) => RawPluginClient }
  }).plugin.Plugin
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure())
  const metadata = new grpc.Metadata()
  metadata.set("x-host", HOST)
  if (token !== undefined) metadata.set("authorization", `Bearer ${token}`)
  const exec = (command: string, payload: Uint8Array): Promise<Uint8Array> =>
    new Promise((resolve, reject) => {
      const hex = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("hex")
      const callback = (error: grpc.ServiceError | null, response?: ExecResponse) => {
        if (error !== null) return reject(error)
        if (response?.Status !== "success") return reject(new Error(`Status ${JSON.stringify(response?.Status)}`))
        resolve(new Uint8Array(Buffer.from(response.Data?.Response ?? "", "hex")))
      }
      if (deadlineMillis === undefined) client.Exec({ Command: command, Payload: hex }, metadata, callback)
      else client.Exec({ Command: command, Payload: hex }, metadata, { deadline: Date.now() + deadlineMillis }, callback)
    })
  return { exec, close: () => client.close() }
}

/** The gRPC rows: exec p50/p99 at 16 B, 1 KiB, 64 KiB, 1 MiB, and 64-in-flight throughput. */
export const grpcRows = (options: BenchOptions) =>
  Effect.gen(function*() {
    const { caller, port, token } = yield* runNetworkPlugin("ts_grpc")
    const raw = yield* Effect.acquireRelease(Effect.sync(() => rawGrpcClient(port, token)), (client) => Effect.sync(client.close))
    return yield* transportRows(
      {
        group: "gRPC",
        idPrefix: "grpc.exec",
        baselineName: "raw @grpc/grpc-js client from the same proto/plugin.proto, same plugin process",
        sizes: [16, 1024, 64 * 1024, 1024 * 1024],
        library: (payload) => caller.exec("echo", payload),
        baseline: (payload) => raw.exec("echo", payload),
        p50Target: { kind: "ratioAtMost", value: 1.1 },
        throughputTarget: { kind: "ratioAtLeast", value: 0.9 },
        inFlight: 64
      },
      options,
      payloadOf
    )
  }).pipe(Effect.scoped)
