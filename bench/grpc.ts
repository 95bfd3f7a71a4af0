/**
 * Row 3: gRPC exec round trips and throughput. The library's `Caller.exec` and raw clients call
 * `plugin.Plugin/Exec` with the same hex payload on the same plugin process (examples/grpc-plugin.ts).
 * Two raw clients, so that the ratio is always against the fastest one: a `@grpc/grpc-js` client
 * generated from the same proto/plugin.proto, and the library's own HTTP/2 gRPC client
 * (`goplugin/GrpcSession.ts`) called from a Promise loop without Effect.
 */
import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import { Effect } from "effect"
import * as path from "node:path"
import * as GrpcSession from "../src/goplugin/GrpcSession.js"
import { CALL_TIMEOUT_SECONDS, HOST, payloadOf, root, runNetworkPlugin } from "./fixtures.js"
import { type BenchOptions, transportRowsAgainst } from "./measure.js"

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

/** proto/plugin.proto as a user loads it, with the loader options every example uses. */
const pluginProto = () =>
  protoLoader.loadSync(path.join(root, "proto", "plugin.proto"), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true })

/** Decodes an Exec echo answer the way a careful client does: Status "success" and a hex Response. */
const settleEcho = (response: ExecResponse | undefined, resolve: (bytes: Uint8Array) => void, reject: (error: unknown) => void): void => {
  if (response?.Status !== "success") return reject(new Error(`Status ${JSON.stringify(response?.Status)}`))
  resolve(new Uint8Array(Buffer.from(response.Data?.Response ?? "", "hex")))
}

/**
 * The client a user would write by hand from the proto: default channel options, the metadata the
 * library sends (x-host and, when the plugin was given one, the bearer token). `deadlineMillis` adds a
 * per-call deadline: the rows pass the library's call timeout, so both sides send the same `grpc-timeout`.
 */
export const rawGrpcClient = (port: number, token: string | undefined, deadlineMillis?: number) => {
  const definition = pluginProto()
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
        settleEcho(response, resolve, reject)
      }
      if (deadlineMillis === undefined) client.Exec({ Command: command, Payload: hex }, metadata, callback)
      else client.Exec({ Command: command, Payload: hex }, metadata, { deadline: Date.now() + deadlineMillis }, callback)
    })
  return { exec, close: () => client.close() }
}

/**
 * The library's own HTTP/2 gRPC client used raw: the same session and request bytes as the library's
 * (x-host and bearer metadata, and the same `grpc-timeout`: the library sends the plugin's call timeout
 * with every call, and the plugin arms a timer for it, which costs it ~10-15% of its throughput here),
 * each call a Promise around the session's callback.
 */
export const rawOwnGrpcClient = (port: number, token: string | undefined, deadlineMillis: number) =>
  Effect.gen(function*() {
    const session = yield* GrpcSession.open({
      endpoint: { network: "tcp", address: `127.0.0.1:${port}` },
      maxReceiveBytes: 64 * 1024 * 1024,
      metadata: [["x-host", HOST], ...(token === undefined ? [] : [["authorization", `Bearer ${token}`] as const])]
    }).pipe(Effect.orDie)
    const definition = pluginProto()
    const method = (definition["plugin.Plugin"] as grpc.ServiceDefinition)["Exec"] as grpc.MethodDefinition<
      { Command: string; Payload: string },
      ExecResponse
    >
    const exec = (command: string, payload: Uint8Array): Promise<Uint8Array> =>
      new Promise((resolve, reject) => {
        const hex = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("hex")
        session.call(method, { Command: command, Payload: hex }, deadlineMillis, undefined, (failure, response) => {
          if (failure !== undefined) return reject(new Error(`${failure.code}: ${failure.details}`))
          settleEcho(response, resolve, reject)
        })
      })
    return { exec }
  })

/**
 * The gRPC rows: exec p50/p99 at 16 B, 1 KiB, 64 KiB, 1 MiB, and 64-in-flight throughput against
 * grpc-js; then 16 B and 1 KiB p50/p99 and throughput against the library's own client used raw.
 */
export const grpcRows = (options: BenchOptions) =>
  Effect.gen(function*() {
    const { caller, port, token } = yield* runNetworkPlugin("ts_grpc")
    const raw = yield* Effect.acquireRelease(Effect.sync(() => rawGrpcClient(port, token, CALL_TIMEOUT_SECONDS * 1000)), (client) => Effect.sync(client.close))
    const own = yield* rawOwnGrpcClient(port, token, CALL_TIMEOUT_SECONDS * 1000)
    return yield* transportRowsAgainst(
      {
        library: (payload) => caller.exec("echo", payload),
        p50Target: { kind: "ratioAtMost", value: 1.1 },
        throughputTarget: { kind: "ratioAtLeast", value: 0.9 },
        inFlight: 64
      },
      [
        {
          group: "gRPC",
          idPrefix: "grpc.exec",
          baselineName: "raw @grpc/grpc-js client from the same proto/plugin.proto, same plugin process",
          sizes: [16, 1024, 64 * 1024, 1024 * 1024],
          baseline: (payload) => raw.exec("echo", payload)
        },
        {
          group: "gRPC (own client raw)",
          idPrefix: "grpc.own-client.exec",
          baselineName: "the library's own HTTP/2 gRPC client (goplugin/GrpcSession.ts) from a Promise loop, same metadata and grpc-timeout, same plugin process",
          sizes: [16, 1024],
          baseline: (payload) => own.exec("echo", payload)
        }
      ],
      options,
      payloadOf
    )
  }).pipe(Effect.scoped)
