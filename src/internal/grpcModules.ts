/**
 * `@grpc/grpc-js` and `@grpc/proto-loader`, loaded on first use rather than when a module that may call
 * gRPC is imported: most hosts and most CLI commands never speak gRPC, and evaluating the two packages
 * (and the Node built-ins they pull in: http2, tls, zlib, dns) was a tenth of the CLI's start. The CLI's
 * bundle swaps the `require` below for esbuild's own, so the packages stay inside the bundle and are
 * evaluated only when called for (scripts/bundle.mjs).
 *
 * @internal
 */
import type * as GrpcJs from "@grpc/grpc-js"
import type * as ProtoLoader from "@grpc/proto-loader"
import { createRequire } from "node:module"

const load = createRequire(import.meta.url)

let grpcJs: typeof GrpcJs | undefined
let protoLoader: typeof ProtoLoader | undefined

/** `@grpc/grpc-js`, loaded on the first call. */
export const grpc = (): typeof GrpcJs => (grpcJs ??= load("@grpc/grpc-js") as typeof GrpcJs)

/** `@grpc/proto-loader`, loaded on the first call. */
export const loader = (): typeof ProtoLoader => (protoLoader ??= load("@grpc/proto-loader") as typeof ProtoLoader)

/** A gRPC status code, as grpc-js types it. */
export type Status = GrpcJs.status

/** gRPC's status codes (grpc-js's `status` enum), usable without loading grpc-js. */
export const Status = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16
} as const satisfies { readonly [K in keyof typeof GrpcJs.status]: (typeof GrpcJs.status)[K] }

const names: ReadonlyArray<string> = Object.keys(Status)

/** The name of a status code (`UNAVAILABLE`), or the number when it is not one of gRPC's. */
export const statusName = (code: number): string => names[code] ?? String(code)
