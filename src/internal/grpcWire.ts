/**
 * The pieces of gRPC's HTTP/2 mapping (grpc/doc/PROTOCOL-HTTP2.md) a lean client needs: message
 * framing with a receive cap, `grpc-timeout`, and the call status from trailers, trailers-only
 * headers, the HTTP status or the RST_STREAM code.
 *
 * @internal
 */
import { Status } from "./grpcModules.js"
import type { HeaderList } from "./hpack.js"

/** A call's final status: its code and details. */
export interface CallStatus {
  readonly code: Status
  readonly details: string
}

/** Prefixes one serialized message: compressed flag 0, then its length, big endian. */
export const frame = (message: Buffer): Buffer => {
  const framed = Buffer.allocUnsafe(5 + message.length)
  framed[0] = 0
  framed.writeUInt32BE(message.length, 1)
  message.copy(framed, 5)
  return framed
}

/** A request serialized and framed, or the status that says why it could not be encoded. */
export const framedRequest = <Req>(serialize: (request: Req) => Buffer, request: Req): Buffer | CallStatus => {
  try {
    return frame(serialize(request))
  } catch (error) {
    return { code: Status.INTERNAL, details: `the request could not be encoded: ${(error as Error).message}` }
  }
}

/** The status of a call whose deadline passed (`during`: what it was doing then, e.g. " while connecting"). */
export const deadlineExceeded = (millis: number, during = ""): CallStatus => ({
  code: Status.DEADLINE_EXCEEDED,
  details: `Deadline exceeded after ${millis} ms${during}`
})

/**
 * Splits received bytes into messages; a message announced larger than `maxBytes`, or compressed
 * (this client never offers an encoding), ends reading with a status instead.
 */
export const messageReader = (
  maxBytes: number,
  onMessage: (message: Buffer) => void,
  onRefused: (status: CallStatus) => void
) => {
  let buffered: Buffer = Buffer.alloc(0)
  // A message spanning many DATA frames is gathered in parts and joined once: joining each frame to
  // what came before copied a 2 MiB answer ~64 times over.
  let parts: Array<Buffer> = []
  let partsLength = 0
  let needed = 0
  let refused = false
  return (chunk: Buffer): void => {
    if (refused) return
    if (needed > 0) {
      parts.push(chunk)
      partsLength += chunk.length
      if (partsLength < needed) return
      buffered = Buffer.concat(parts, partsLength)
      parts = []
      partsLength = 0
      needed = 0
    } else {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
    }
    while (buffered.length >= 5) {
      const length = buffered.readUInt32BE(1)
      if (buffered[0] !== 0) {
        refused = true
        return onRefused({ code: Status.INTERNAL, details: "received a compressed message, but no encoding was offered" })
      }
      if (length > maxBytes) {
        refused = true
        return onRefused({
          code: Status.RESOURCE_EXHAUSTED,
          details: `Received message larger than max (${length} vs. ${maxBytes})`
        })
      }
      if (buffered.length < 5 + length) {
        needed = 5 + length
        parts = [buffered]
        partsLength = buffered.length
        buffered = Buffer.alloc(0)
        return
      }
      const message = buffered.subarray(5, 5 + length)
      buffered = buffered.subarray(5 + length)
      onMessage(message)
    }
  }
}

/** `grpc-timeout`: at most 8 digits, in the finest unit that fits. */
export const timeoutHeader = (millis: number): string => {
  const whole = Math.max(0, Math.ceil(millis))
  if (whole < 1e8) return `${whole}m`
  if (whole / 1000 < 1e8) return `${Math.ceil(whole / 1000)}S`
  return `${Math.min(99_999_999, Math.ceil(whole / 3_600_000))}H`
}

const percentDecoded = (text: string): string => {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** The value of header `name` in a decoded header block, if present. */
export const header = (headers: HeaderList, name: string): string | undefined => {
  for (const [key, value] of headers) if (key === name) return value
  return undefined
}

/** The status a header block carries (trailers, or trailers-only headers), if any. */
export const statusIn = (headers: HeaderList): CallStatus | undefined => {
  const code = header(headers, "grpc-status")
  return code === undefined ? undefined : statusOf(code, header(headers, "grpc-message"))
}

/** The status of `grpc-status` and `grpc-message` values (from trailers or trailers-only headers). */
export const statusOf = (code: string, message: string | undefined): CallStatus => {
  const parsed = Number(code)
  return {
    code: /^\d+$/.test(code) && parsed <= 16 ? parsed : Status.UNKNOWN,
    details: percentDecoded(message ?? "")
  }
}

/** gRPC's HTTP-status table (PROTOCOL-HTTP2.md); other statuses are UNKNOWN. */
const BY_HTTP_STATUS: Readonly<Record<number, Status>> = {
  400: Status.INTERNAL,
  401: Status.UNAUTHENTICATED,
  403: Status.PERMISSION_DENIED,
  404: Status.UNIMPLEMENTED,
  429: Status.UNAVAILABLE,
  502: Status.UNAVAILABLE,
  503: Status.UNAVAILABLE,
  504: Status.UNAVAILABLE
}

/** The status of an answer whose HTTP status is not 200. */
export const httpStatusOf = (httpStatus: number): CallStatus =>
  ({ code: BY_HTTP_STATUS[httpStatus] ?? Status.UNKNOWN, details: `Received HTTP status code ${httpStatus}` })

/** RFC 9113 error codes a reset maps to a status (REFUSED_STREAM, CANCEL, ENHANCE_YOUR_CALM, INADEQUATE_SECURITY); others are INTERNAL. */
const BY_RESET_CODE: Readonly<Record<number, Status>> = {
  0x7: Status.UNAVAILABLE,
  0x8: Status.CANCELLED,
  0xb: Status.RESOURCE_EXHAUSTED,
  0xc: Status.PERMISSION_DENIED
}

/** The status of a stream reset by the peer before it sent one. */
export const resetStatusOf = (rstCode: number): CallStatus =>
  ({ code: BY_RESET_CODE[rstCode] ?? Status.INTERNAL, details: `Received RST_STREAM with code ${rstCode}` })
