/**
 * The HPACK header blocks of a lean gRPC session's requests (`goplugin/GrpcSession.ts`). The encoder
 * keeps no dynamic table, so the block of a (method, deadline) pair is the same bytes on every call:
 * it is built once, and a call then costs no HPACK encoding and no concatenation.
 *
 * @internal
 */
import * as GrpcMetadata from "./grpcMetadata.js"
import { timeoutHeader } from "./grpcWire.js"
import * as Hpack from "./hpack.js"

/** Blocks a session keeps built; bounded, because deadlines are the callers' to choose. */
const MAX_BLOCKS = 256

/**
 * The block builder of one session: `:method POST`, `:scheme` (https with TLS), `:path`, then the
 * fixed headers (`:authority localhost`, content type, `te: trailers`, user agent, the session's
 * metadata) and, with a deadline, `grpc-timeout`. Pseudo-headers come first (RFC 9113 8.3).
 */
export const make = (options: { readonly tls: boolean; readonly metadata: GrpcMetadata.Metadata | undefined }) => {
  const head = Buffer.concat([Hpack.indexed(3), Hpack.indexed(options.tls ? 7 : 6)])
  const fixed = Buffer.concat([
    Hpack.literal(1, "localhost"),
    Hpack.literal(31, "application/grpc"),
    Hpack.literal("te", "trailers"),
    Hpack.literal(58, "goplugin-effect"),
    ...(options.metadata === undefined ? [] : [GrpcMetadata.encode(options.metadata)])
  ])
  const blocks = new Map<string, Buffer>()
  return (path: string, timeoutMillis: number | undefined): Buffer => {
    const key = timeoutMillis === undefined ? path : `${timeoutMillis} ${path}`
    let block = blocks.get(key)
    if (block === undefined) {
      block = timeoutMillis === undefined
        ? Buffer.concat([head, Hpack.literal(4, path), fixed])
        : Buffer.concat([head, Hpack.literal(4, path), fixed, Hpack.literal("grpc-timeout", timeoutHeader(timeoutMillis))])
      if (blocks.size >= MAX_BLOCKS) blocks.clear()
      blocks.set(key, block)
    }
    return block
  }
}
