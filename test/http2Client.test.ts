/**
 * The lean HTTP/2 client (src/internal/http2Client.ts) against a server that does not cooperate: a
 * header block that never ends, a frame over the size we allow, and garbage. Each must end the
 * connection with a protocol error delivered to the open stream, not grow the host or throw.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as net from "node:net"
import * as Hpack from "../src/internal/hpack.js"
import * as Http2Client from "../src/internal/http2Client.js"

const frame = (type: number, flags: number, id: number, payload: Buffer): Buffer => {
  const header = Buffer.alloc(9)
  header.writeUIntBE(payload.length, 0, 3)
  header[3] = type
  header[4] = flags
  header.writeUInt32BE(id, 5)
  return Buffer.concat([header, payload])
}

const SETTINGS = frame(0x4, 0, 0, Buffer.alloc(0))
const request = Buffer.concat([Hpack.indexed(3), Hpack.literal(4, "/kv.KV/Get")])

/**
 * A loopback server that answers the client's preface with SETTINGS, then, once the first bytes
 * arrive, writes what `misbehave` returns; the client's stream (opened at once, before the server's
 * SETTINGS) reports how it ended.
 */
const againstServer = (misbehave: () => ReadonlyArray<Buffer>) =>
  Effect.async<string | undefined, never>((resume) => {
    let requested = false
    const server = net.createServer((socket) => {
      socket.on("error", () => {})
      socket.write(SETTINGS)
      socket.on("data", () => {
        if (requested) return
        requested = true
        for (const bytes of misbehave()) socket.write(bytes)
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      const socket = net.connect(port, "127.0.0.1", () => {
        const client = Http2Client.start(socket)
        client.request(request, Buffer.alloc(5), {
          onHeaders: () => {},
          onData: () => {},
          onClose: (end) => {
            client.destroy()
            server.close()
            resume(Effect.succeed(end.lost ?? `reset ${end.reset}`))
          }
        })
      })
    })
    return Effect.sync(() => server.close())
  })

describe("the lean HTTP/2 client against a server that does not cooperate", () => {
  it.live("a header block that never ends is refused past 1 MiB", () =>
    Effect.gen(function*() {
      const chunk = Buffer.alloc(16_384, 0x41)
      const lost = yield* againstServer(() => [
        frame(0x1, 0, 1, chunk),
        ...Array.from({ length: 70 }, () => frame(0x9, 0, 1, chunk))
      ])
      expect(lost).toMatch(/protocol error: a header block over 1048576 bytes/)
    }))

  it.live("a frame larger than the client allows ends the connection", () =>
    Effect.gen(function*() {
      const lost = yield* againstServer(() => [frame(0x0, 0, 1, Buffer.alloc(20_000))])
      expect(lost).toMatch(/protocol error: a frame of 20000 bytes/)
    }))

  it.live("garbage in a header block is a protocol error, not an exception", () =>
    Effect.gen(function*() {
      const lost = yield* againstServer(() => [frame(0x1, 0x4, 1, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))])
      expect(lost).toMatch(/^protocol error: /)
    }))
})

describe("the lean HTTP/2 client's first request", () => {
  it.live("leaves with the preface: a server that answers nothing before it has a request still answers it", () =>
    Effect.async<{ readonly status: string | undefined; readonly end: string }>((resume) => {
      const server = net.createServer((socket) => {
        socket.on("error", () => {})
        let received = Buffer.alloc(0)
        socket.on("data", (chunk: Buffer) => {
          received = Buffer.concat([received, chunk])
          // Past the 24-byte preface, look for a HEADERS frame (type 1) of stream 1 before writing anything.
          for (let at = 24; at + 9 <= received.length; at += 9 + received.readUIntBE(at, 3)) {
            if (received[at + 3] === 0x1 && received.readUInt32BE(at + 5) === 1) {
              socket.write(Buffer.concat([SETTINGS, frame(0x1, 0x4 | 0x1, 1, Hpack.indexed(8))]))
              return void socket.removeAllListeners("data")
            }
          }
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as net.AddressInfo
        const socket = net.connect(port, "127.0.0.1", () => {
          const client = Http2Client.start(socket)
          let status: string | undefined
          client.request(request, Buffer.alloc(5), {
            onHeaders: (headers) => void (status = headers.find(([name]) => name === ":status")?.[1]),
            onData: () => {},
            onClose: (end) => {
              client.destroy()
              server.close()
              resume(Effect.succeed({ status, end: end.lost ?? (end.reset === undefined ? "ended" : `reset ${end.reset}`) }))
            }
          })
        })
      })
      return Effect.sync(() => server.close())
    }).pipe(
      // A client that waited for the server's SETTINGS would never send the request: no answer at all.
      Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => "no answer: the request waited for the server's SETTINGS" }),
      Effect.map((outcome) => expect(outcome).toEqual({ status: "200", end: "ended" }))
    ))
})
