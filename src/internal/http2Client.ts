/**
 * A minimal HTTP/2 client connection (RFC 9113) over one socket, for gRPC calls to a local plugin:
 * prior knowledge (h2c, or h2 over TLS), client streams only, flow control both ways, SETTINGS, PING,
 * GOAWAY, RST_STREAM, and HPACK through `hpack.ts`. It exists because `node:http2` costs ~150–250 µs
 * of CPU per request on a small machine (a Duplex stream, an AsyncResource and several events per
 * request), more than a whole grpc-go round trip; this costs a few buffers and one socket write.
 *
 * @internal
 */
import type * as net from "node:net"
import { Decoder, type HeaderList, HpackError } from "./hpack.js"

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1")
const DATA = 0x0
const HEADERS = 0x1
const RST_STREAM = 0x3
const SETTINGS = 0x4
const PUSH_PROMISE = 0x5
const PING = 0x6
const GOAWAY = 0x7
const WINDOW_UPDATE = 0x8
const CONTINUATION = 0x9
const END_STREAM = 0x1
const ACK = 0x1
const END_HEADERS = 0x4
const PADDED = 0x8
const PRIORITY = 0x20

/** RST_STREAM's CANCEL code. */
export const CANCEL = 0x8
const DEFAULT_WINDOW = 65_535
/** Our receive windows, per stream and for the connection; the largest frame we accept is the default 16 KiB. */
const RECEIVE_WINDOW = 4 * 1024 * 1024
const MAX_FRAME = 16_384
/** The largest header block (HEADERS and its CONTINUATIONs) kept: a plugin that never ends one must not grow the host. */
const MAX_HEADER_BLOCK = 1024 * 1024

/** What a stream tells its owner. */
export interface StreamEvents {
  /** A complete header block: the response headers, then (if any) the trailers. */
  readonly onHeaders: (headers: HeaderList, endStream: boolean) => void
  readonly onData: (chunk: Buffer) => void
  /**
   * The stream is over: after END_STREAM (`reset` undefined, `lost` false), a reset by the peer
   * (`reset` its code), or the connection's end (`lost` true with why).
   */
  readonly onClose: (end: { readonly reset?: number | undefined; readonly lost?: string | undefined }) => void
}

/** A stream this side opened. */
export interface ClientStream {
  /** Sends `data` (flow controlled); `end` half-closes after it. */
  readonly write: (data: Buffer, end: boolean) => void
  /** Resets the stream with CANCEL; no more events. */
  readonly cancel: () => void
}

interface StreamState {
  readonly id: number
  readonly events: StreamEvents
  sendWindow: number
  received: number
  pending: Array<Buffer>
  endPending: boolean
  localClosed: boolean
}

const frameHeader = (length: number, type: number, flags: number, id: number): Buffer => {
  const header = Buffer.allocUnsafe(9)
  header.writeUIntBE(length, 0, 3)
  header[3] = type
  header[4] = flags
  header.writeUInt32BE(id, 5)
  return header
}

const windowUpdate = (id: number, increment: number): Buffer => {
  const frame = frameHeader(4, WINDOW_UPDATE, 0, id)
  return Buffer.concat([frame, uint32(increment)])
}

const uint32 = (value: number): Buffer => {
  const bytes = Buffer.allocUnsafe(4)
  bytes.writeUInt32BE(value, 0)
  return bytes
}

/** A connection: open streams, or learn why it ended. */
export interface Http2Client {
  /**
   * Opens a stream with a header block (HPACK-encoded) and, when given, its whole body (the stream is
   * then half-closed), in one write; `undefined` when no new stream can open (see `closedReason`).
   */
  readonly request: (headerBlock: Buffer, body: Buffer | undefined, events: StreamEvents) => ClientStream | undefined
  /** Why the connection no longer opens streams, once it does not. */
  readonly closedReason: () => string | undefined
  readonly destroy: () => void
}

/**
 * Starts HTTP/2 on a connected socket: the preface and our SETTINGS are written at once, and streams
 * may open right away, before the server's SETTINGS arrive (RFC 9113 section 3.4); until then the
 * protocol's defaults apply, and settings that arrive later adjust open streams. Not waiting saves a
 * round trip on every connection: a plugin's first call leaves with the preface.
 */
export const start = (socket: net.Socket): Http2Client => {
  const decoder = new Decoder()
  const streams = new Map<number, StreamState>()
  /** Streams over the peer's concurrency limit, opened in order as others end. */
  const waiting: Array<{ readonly open: () => void; readonly events: StreamEvents; cancelled: boolean }> = []
  let nextId = 1
  let connectionWindow = DEFAULT_WINDOW
  let peerInitialWindow = DEFAULT_WINDOW
  let peerMaxFrame = MAX_FRAME
  let peerMaxStreams = Number.POSITIVE_INFINITY
  let connectionReceived = 0
  let closed: string | undefined
  let goingAway: string | undefined
  let buffered: Buffer = Buffer.alloc(0)
  let headerBlock: { readonly id: number; readonly endStream: boolean; readonly parts: Array<Buffer>; size: number } | undefined

  // Control frames (acks, window updates) wait for the next write, or the end of this turn of the
  // event loop: grpc-go pings with nearly every answer, and one write per call costs less than two.
  let control: Array<Buffer> = []
  const flushControl = () => {
    if (control.length === 0 || closed !== undefined) return
    const frames = control
    control = []
    socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames))
  }
  const sendControl = (bytes: Buffer) => {
    if (control.push(bytes) === 1) setImmediate(flushControl)
  }
  const send = (bytes: Buffer) => {
    if (closed !== undefined) return
    if (control.length === 0) return void socket.write(bytes)
    control.push(bytes)
    flushControl()
  }

  const fail = (reason: string) => {
    if (closed !== undefined) return
    closed = reason
    const lost = [...streams.values()].map((stream) => stream.events)
    for (const queued of waiting.splice(0)) if (!queued.cancelled) lost.push(queued.events)
    streams.clear()
    socket.destroy()
    for (const events of lost) events.onClose({ lost: reason })
  }

  const finish = (stream: StreamState, end: { readonly reset?: number; readonly lost?: string }) => {
    if (!streams.delete(stream.id)) return
    stream.events.onClose(end)
    openWaiting()
  }

  const openWaiting = () => {
    for (let next = waiting.shift(); next !== undefined; next = waiting.shift()) {
      if (!next.cancelled) return next.open()
    }
  }

  const flush = (stream: StreamState) => {
    // Every frame the windows allow goes out in one write: a frame per write cost a syscall and a
    // segment each.
    const frames: Array<Buffer> = []
    while (stream.pending.length > 0) {
      const next = stream.pending[0]!
      const room = Math.min(stream.sendWindow, connectionWindow, peerMaxFrame)
      if (room <= 0 && next.length > 0) break
      const chunk = next.length <= room ? next : next.subarray(0, room)
      if (chunk.length === next.length) stream.pending.shift()
      else stream.pending[0] = next.subarray(room)
      stream.sendWindow -= chunk.length
      connectionWindow -= chunk.length
      const last = stream.pending.length === 0 && stream.endPending
      frames.push(frameHeader(chunk.length, DATA, last ? END_STREAM : 0, stream.id), chunk)
      if (last) stream.localClosed = true
    }
    if (stream.pending.length === 0 && stream.endPending && !stream.localClosed) {
      stream.localClosed = true
      frames.push(frameHeader(0, DATA, END_STREAM, stream.id))
    }
    if (frames.length > 0) send(frames.length === 1 ? frames[0]! : Buffer.concat(frames))
  }

  const consumed = (stream: StreamState | undefined, length: number) => {
    connectionReceived += length
    if (connectionReceived >= RECEIVE_WINDOW / 2) {
      sendControl(windowUpdate(0, connectionReceived))
      connectionReceived = 0
    }
    if (stream === undefined) return
    stream.received += length
    if (stream.received >= RECEIVE_WINDOW / 2) {
      sendControl(windowUpdate(stream.id, stream.received))
      stream.received = 0
    }
  }

  const headersDone = (id: number, endStream: boolean, block: Buffer) => {
    // Decoded even for a stream we dropped: the table must stay in step with the server's.
    const headers = decoder.decode(block)
    const stream = streams.get(id)
    if (stream === undefined) return
    stream.events.onHeaders(headers, endStream)
    if (endStream) finish(stream, {})
  }

  const applySettings = (payload: Buffer) => {
    for (let at = 0; at + 6 <= payload.length; at += 6) {
      const id = payload.readUInt16BE(at)
      const value = payload.readUInt32BE(at + 2)
      if (id === 0x3) peerMaxStreams = value
      else if (id === 0x4) {
        const delta = value - peerInitialWindow
        peerInitialWindow = value
        for (const stream of streams.values()) stream.sendWindow += delta
      } else if (id === 0x5) peerMaxFrame = value
    }
    sendControl(frameHeader(0, SETTINGS, ACK, 0))
    for (const stream of streams.values()) flush(stream)
  }

  const onFrame = (type: number, flags: number, id: number, payload: Buffer) => {
    if (headerBlock !== undefined && (type !== CONTINUATION || id !== headerBlock.id)) {
      return fail("protocol error: a header block was interrupted")
    }
    switch (type) {
      case DATA: {
        const stream = streams.get(id)
        consumed(stream, payload.length)
        if (stream === undefined) return
        const padding = flags & PADDED ? payload[0]! + 1 : 0
        if (padding > payload.length) return fail("protocol error: padding longer than its frame")
        const body = flags & PADDED ? payload.subarray(1, payload.length - payload[0]!) : payload
        if (body.length > 0) stream.events.onData(body)
        if (flags & END_STREAM && streams.has(id)) finish(stream, {})
        return
      }
      case HEADERS: {
        let block = payload
        if (flags & PADDED) block = block.subarray(1, block.length - payload[0]!)
        if (flags & PRIORITY) block = block.subarray(5)
        if (flags & END_HEADERS) return headersDone(id, (flags & END_STREAM) !== 0, block)
        headerBlock = { id, endStream: (flags & END_STREAM) !== 0, parts: [block], size: block.length }
        return
      }
      case CONTINUATION: {
        if (headerBlock === undefined) return fail("protocol error: CONTINUATION without HEADERS")
        headerBlock.parts.push(payload)
        headerBlock.size += payload.length
        if (headerBlock.size > MAX_HEADER_BLOCK) return fail(`protocol error: a header block over ${MAX_HEADER_BLOCK} bytes`)
        if (flags & END_HEADERS) {
          const { endStream, parts } = headerBlock
          headerBlock = undefined
          headersDone(id, endStream, Buffer.concat(parts))
        }
        return
      }
      case RST_STREAM: {
        const stream = streams.get(id)
        if (stream !== undefined) finish(stream, { reset: payload.readUInt32BE(0) })
        return
      }
      case SETTINGS: {
        if (!(flags & ACK)) applySettings(payload)
        return
      }
      case PING: {
        if (!(flags & ACK)) sendControl(Buffer.concat([frameHeader(8, PING, ACK, 0), payload]))
        return
      }
      case GOAWAY: {
        const lastId = payload.readUInt32BE(0) & 0x7fffffff
        goingAway = `the plugin is going away (GOAWAY, code ${payload.readUInt32BE(4)})`
        for (const stream of [...streams.values()]) if (stream.id > lastId) finish(stream, { lost: goingAway })
        return
      }
      case WINDOW_UPDATE: {
        const increment = payload.readUInt32BE(0) & 0x7fffffff
        if (id === 0) {
          connectionWindow += increment
          for (const stream of streams.values()) flush(stream)
        } else {
          const stream = streams.get(id)
          if (stream === undefined) return
          stream.sendWindow += increment
          flush(stream)
        }
        return
      }
      case PUSH_PROMISE:
        return fail("protocol error: the plugin pushed a stream, which this client disabled")
      default:
        // PRIORITY and unknown frame types are ignored (RFC 9113 section 5.5).
        return
    }
  }

  socket.on("data", (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk])
    try {
      while (buffered.length >= 9 && closed === undefined) {
        const length = buffered.readUIntBE(0, 3)
        if (length > MAX_FRAME) return fail(`protocol error: a frame of ${length} bytes (the limit is ${MAX_FRAME})`)
        if (buffered.length < 9 + length) break
        const type = buffered[3]!
        const flags = buffered[4]!
        const id = buffered.readUInt32BE(5) & 0x7fffffff
        const payload = buffered.subarray(9, 9 + length)
        buffered = buffered.subarray(9 + length)
        onFrame(type, flags, id, payload)
      }
    } catch (error) {
      fail(error instanceof HpackError ? `protocol error: ${error.message}` : `protocol error: ${String(error)}`)
    }
  })
  socket.on("error", (error) => fail(`the connection failed: ${error.message}`))
  socket.on("close", () => fail("the connection to the plugin closed"))

  // Our settings: no push, large windows; then the connection window raised to match.
  send(Buffer.concat([
    PREFACE,
    frameHeader(12, SETTINGS, 0, 0),
    Buffer.from([0, 0x2, 0, 0, 0, 0, 0, 0x4]),
    uint32(RECEIVE_WINDOW),
    windowUpdate(0, RECEIVE_WINDOW - DEFAULT_WINDOW)
  ]))

  const open = (headerBlockBytes: Buffer, body: Buffer | undefined, events: StreamEvents): ClientStream => {
    const id = nextId
    nextId += 2
    const stream: StreamState = { id, events, sendWindow: peerInitialWindow, received: 0, pending: [], endPending: false, localClosed: false }
    streams.set(id, stream)
    const frames: Array<Buffer> = []
    for (let at = 0; at < headerBlockBytes.length || at === 0; at += peerMaxFrame) {
      const part = headerBlockBytes.subarray(at, at + peerMaxFrame)
      const last = at + peerMaxFrame >= headerBlockBytes.length
      frames.push(frameHeader(part.length, at === 0 ? HEADERS : CONTINUATION, last ? END_HEADERS : 0, id), part)
    }
    if (body !== undefined && body.length <= Math.min(stream.sendWindow, connectionWindow, peerMaxFrame)) {
      // The whole request fits the windows: headers and body in one write.
      stream.sendWindow -= body.length
      connectionWindow -= body.length
      stream.endPending = true
      stream.localClosed = true
      frames.push(frameHeader(body.length, DATA, END_STREAM, id), body)
      send(Buffer.concat(frames))
    } else {
      send(Buffer.concat(frames))
      if (body !== undefined) {
        stream.pending.push(body)
        stream.endPending = true
        flush(stream)
      }
    }
    return {
      write: (data, end) => {
        if (!streams.has(id) || stream.endPending) return
        if (data.length > 0) stream.pending.push(data)
        stream.endPending = end
        flush(stream)
      },
      cancel: () => {
        if (!streams.delete(id)) return
        send(Buffer.concat([frameHeader(4, RST_STREAM, 0, id), uint32(CANCEL)]))
        openWaiting()
      }
    }
  }

  const closedReason = () => closed ?? goingAway ?? (nextId > 0x7fffffff ? "the connection used up its stream ids" : undefined)

  return {
    request: (headerBlockBytes, body, events) => {
      if (closedReason() !== undefined) return undefined
      if (streams.size < peerMaxStreams) return open(headerBlockBytes, body, events)
      // Over the peer's limit: the stream opens when another ends; writes before wait with it.
      let opened: ClientStream | undefined
      const early: Array<readonly [Buffer, boolean]> = []
      const queued = {
        events,
        cancelled: false,
        open: () => {
          opened = open(headerBlockBytes, body, events)
          for (const [data, end] of early) opened.write(data, end)
        }
      }
      waiting.push(queued)
      return {
        write: (data, end) => (opened === undefined ? void early.push([data, end]) : opened.write(data, end)),
        cancel: () => {
          queued.cancelled = true
          opened?.cancel()
        }
      }
    },
    closedReason,
    destroy: () => fail("the connection was closed by the host")
  }
}
