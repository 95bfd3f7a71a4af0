/**
 * The `grpc` transport's caller on the lean HTTP/2 client (src/GrpcCaller.ts over
 * internal/grpcChannel.ts and goplugin/GrpcSession.ts) against a grpc-js `plugin.Plugin` server on
 * loopback, reached through a TCP relay that counts and can cut connections: the metadata every call
 * carries (x-host, the bearer token, the pipeline's x-goplugin-*), on TCP and a unix socket; no
 * connection before the first call, a call before the plugin listens refused and the next one after
 * it listens answered; concurrent first calls sharing one connection; a new connection after the
 * plugin's closed; a header value that cannot be sent refused, never thrown.
 */
import { describe, expect, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import { Duration, Effect, Either } from "effect"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as GrpcCaller from "../src/GrpcCaller.js"
import * as GrpcSession from "../src/goplugin/GrpcSession.js"
import * as GrpcMetadata from "../src/internal/grpcMetadata.js"
import { Address, type NetworkTarget } from "../src/Launcher.js"
import type { CallError } from "../src/PluginError.js"
import { protoLoaderOptions, protoPath } from "../src/internal/wire.js"
import { frame, messageReader } from "../src/internal/grpcWire.js"

const TOKEN = "0123456789abcdef"

const pluginService = (): grpc.ServiceDefinition => {
  const root = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, protoLoaderOptions))
  return ((root["plugin"] as grpc.GrpcObject)["Plugin"] as grpc.ServiceClientConstructor).service
}

type Seen = Record<string, string>

/** A grpc-js plugin server echoing Exec payloads and recording each call's metadata; closed with the scope. */
const pluginServer = (bindTo: string) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: grpc.Server; readonly port: number; readonly seen: Array<Seen> }>((resume) => {
      const seen: Array<Seen> = []
      const record = (metadata: grpc.Metadata) => {
        const entries: Seen = {}
        for (const [key, value] of Object.entries(metadata.getMap())) entries[key] = String(value)
        seen.push(entries)
      }
      const server = new grpc.Server()
      server.addService(pluginService(), {
        Ping: (call: grpc.ServerUnaryCall<object, unknown>, callback: grpc.sendUnaryData<unknown>) => {
          record(call.metadata)
          callback(null, { Status: "success", Data: { Response: "pong" } })
        },
        Exec: (call: grpc.ServerUnaryCall<{ Command: string; Payload: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
          record(call.metadata)
          callback(null, { Status: "success", Data: { Response: call.request.Payload, Vars: {} } })
        }
      })
      server.bindAsync(bindTo, grpc.ServerCredentials.createInsecure(), (error, port) =>
        resume(error === null ? Effect.succeed({ server, port, seen }) : Effect.die(error)))
    }),
    ({ server }) => Effect.sync(() => server.forceShutdown())
  )

/** A TCP relay on `port` (0: any) to `upstream`, counting connections; `cut` closes every one. Closed with the scope. */
const relay = (port: number, upstream: number) =>
  Effect.acquireRelease(
    Effect.async<{ readonly port: number; readonly connections: () => number; readonly cut: () => void; readonly server: net.Server }>((resume) => {
      const open = new Set<net.Socket>()
      let connections = 0
      const server = net.createServer((socket) => {
        connections++
        const up = net.connect(upstream, "127.0.0.1")
        for (const side of [socket, up]) {
          open.add(side)
          side.on("error", () => {})
          side.on("close", () => {
            open.delete(side)
            socket.destroy()
            up.destroy()
          })
        }
        socket.pipe(up).pipe(socket)
      })
      server.listen(port, "127.0.0.1", () =>
        resume(Effect.succeed({
          port: (server.address() as net.AddressInfo).port,
          connections: () => connections,
          cut: () => {
            for (const socket of [...open]) socket.destroy()
          },
          server
        })))
    }),
    ({ cut, server }) => Effect.sync(() => {
      cut()
      server.close()
    })
  )

/** A loopback port nothing listens on (bound, then closed). */
const freePort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as net.AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

const targetOf = (address: Address, host = "app"): NetworkTarget => ({
  host,
  plugin: "echo",
  token: TOKEN,
  timeout: Duration.seconds(5),
  maxResponseBytes: 1024 * 1024,
  traceCalls: false,
  address
})

const pipeline = { name: "nightly run", step: "étape 2", parallel: true, index: 1, size: 3 }

describe("GrpcCaller on the lean HTTP/2 client", () => {
  it.scopedLive("every call carries x-host and the bearer token; an exec in a pipeline its x-goplugin-* context", () =>
    Effect.gen(function*() {
      const plugin = yield* pluginServer("127.0.0.1:0")
      const caller = yield* GrpcCaller.make(targetOf(Address.Tcp({ host: "127.0.0.1", port: plugin.port })))
      expect(yield* caller.ping).toBe("pong")
      const vars: Array<unknown> = []
      const answer = yield* caller.exec("echo", new Uint8Array([1, 2, 3]), { pipeline, onVars: (v) => vars.push(v) })
      expect([...answer]).toEqual([1, 2, 3])
      expect(vars).toEqual([]) // an empty Vars map is not reported
      expect(plugin.seen[0]).toMatchObject({ "x-host": "app", authorization: `Bearer ${TOKEN}` })
      expect(plugin.seen[0]!["x-goplugin-step"]).toBeUndefined()
      expect(plugin.seen[1]).toMatchObject({
        "x-host": "app",
        authorization: `Bearer ${TOKEN}`,
        "x-goplugin-pipeline": "nightly%20run",
        "x-goplugin-step": "%C3%A9tape%202",
        "x-goplugin-parallel": "true",
        "x-goplugin-parallel-index": "1",
        "x-goplugin-parallel-size": "3"
      })
    }))

  it.scopedLive("a plugin on a unix socket is called, with the same metadata", () =>
    Effect.gen(function*() {
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "grpc-caller-"))),
        (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
      )
      const socket = path.join(dir, "plugin.sock")
      const plugin = yield* pluginServer(`unix:${socket}`)
      const caller = yield* GrpcCaller.make(targetOf(Address.Unix({ path: socket })))
      expect([...(yield* caller.exec("echo", new Uint8Array([9])))]).toEqual([9])
      expect(plugin.seen[0]).toMatchObject({ "x-host": "app", authorization: `Bearer ${TOKEN}` })
    }))

  it.scopedLive("no connection until the first call; a call before the plugin listens is refused, the next one after answers; first calls share one connection", () =>
    Effect.gen(function*() {
      const plugin = yield* pluginServer("127.0.0.1:0")
      const port = yield* freePort
      const caller = yield* GrpcCaller.make(targetOf(Address.Tcp({ host: "127.0.0.1", port })))
      const early = yield* Effect.flip(caller.ping)
      expect(early).toMatchObject({ _tag: "CallError", reason: "refused", operation: "ping" })
      expect(early.detail).toMatch(/^UNAVAILABLE: No connection established: .*ECONNREFUSED/)

      const front = yield* relay(port, plugin.port)
      expect(front.connections()).toBe(0)
      const answers = yield* Effect.all(Array.from({ length: 20 }, () => caller.ping), { concurrency: "unbounded" })
      expect(answers.every((answer) => answer === "pong")).toBe(true)
      expect(front.connections()).toBe(1)
      expect(yield* caller.ping).toBe("pong")
      expect(front.connections()).toBe(1)
    }))

  it.scopedLive("after the plugin's connection closes, the next call opens a new one", () =>
    Effect.gen(function*() {
      const plugin = yield* pluginServer("127.0.0.1:0")
      const front = yield* relay(0, plugin.port)
      const caller = yield* GrpcCaller.make(targetOf(Address.Tcp({ host: "127.0.0.1", port: front.port })))
      expect(yield* caller.ping).toBe("pong")
      front.cut()
      // The close reaches the client within a turn or two of the event loop; a call racing it may be
      // lost (dropped) or refused, never anything else, and one soon after answers on a new connection.
      const outcomes: Array<string> = []
      for (let attempt = 0; attempt < 50; attempt++) {
        const outcome = yield* Effect.either(caller.ping)
        if (Either.isRight(outcome)) break
        outcomes.push(outcome.left.reason)
        yield* Effect.sleep("20 millis")
      }
      expect(outcomes.every((reason) => reason === "dropped" || reason === "refused")).toBe(true)
      expect(yield* caller.exec("echo", new Uint8Array([7]))).toEqual(new Uint8Array([7]))
      expect(front.connections()).toBe(2)
    }))

  it.scopedLive("a host name that cannot be sent as metadata refuses each call with the reason, and nothing connects", () =>
    Effect.gen(function*() {
      const plugin = yield* pluginServer("127.0.0.1:0")
      const front = yield* relay(0, plugin.port)
      const caller = yield* GrpcCaller.make(targetOf(Address.Tcp({ host: "127.0.0.1", port: front.port }), "app\r\nx-evil: 1"))
      for (const call of [caller.ping, caller.exec("echo", new Uint8Array([1]))] as ReadonlyArray<Effect.Effect<unknown, CallError>>) {
        const refused = yield* Effect.flip(call)
        expect(refused).toMatchObject({ _tag: "CallError", reason: "refused" })
        expect(refused.detail).toContain("x-host metadata value")
      }
      expect(front.connections()).toBe(0)
      expect(plugin.seen).toEqual([])
    }))
})

describe("gRPC metadata checks", () => {
  it("refuses CR, LF, NUL and characters above 0xff, and keys gRPC does not allow", () => {
    expect(GrpcMetadata.refusal([["x-host", "app"], ["authorization", "Bearer abc"], ["x-goplugin-step", "caf\xe9\tok"]])).toBeUndefined()
    for (const value of ["a\rb", "a\nb", "a\0b", "a€b"]) {
      expect(GrpcMetadata.refusal([["x-host", value]])).toMatch(/^the x-host metadata value .* cannot be sent/)
    }
    for (const key of ["X-Host", "a b", "", "grpc-status", "trace-bin", "te"]) {
      expect(GrpcMetadata.refusal([[key, "v"]])).toMatch(/metadata key/)
    }
  })

  it.scopedLive("a session refuses to open with session metadata that cannot be sent; a call's own bad entry fails INTERNAL", () =>
    Effect.gen(function*() {
      const plugin = yield* pluginServer("127.0.0.1:0")
      const endpoint = { network: "tcp", address: `127.0.0.1:${plugin.port}` } as const
      const refused = yield* Effect.flip(GrpcSession.open({ endpoint, maxReceiveBytes: 1024, metadata: [["x-host", "a\nb"]] }))
      expect(refused).toMatch(/x-host metadata value/)
      const session = yield* GrpcSession.open({ endpoint, maxReceiveBytes: 1024, metadata: [["x-host", "app"]] })
      const ping = pluginService()["Ping"] as grpc.MethodDefinition<object, { Status: string }>
      const failed = yield* Effect.flip(session.unary(ping, {}, "5 seconds", [["x-goplugin-step", "a\0b"]]))
      expect(failed).toMatchObject({ code: grpc.status.INTERNAL })
      expect(failed.details).toMatch(/x-goplugin-step metadata value/)
      expect(yield* session.unary(ping, {}, "5 seconds", [["x-goplugin-step", "ok"]])).toMatchObject({ Status: "success" })
      expect(plugin.seen).toEqual([{ "x-host": "app", "x-goplugin-step": "ok", "user-agent": expect.any(String) }])
    }))
})

describe("gRPC message framing", () => {
  it("reads messages split at any byte and across many pieces; refuses one announced over the cap", () => {
    const messages = [Buffer.from("a"), Buffer.alloc(0), Buffer.alloc(40_000, 7), Buffer.from("last")]
    const wire = Buffer.concat(messages.map(frame))
    for (const pieceSize of [1, 3, 5, 16_384, wire.length]) {
      for (const offset of [0, 2, 4]) {
        const got: Array<Buffer> = []
        const read = messageReader(1 << 20, (message) => got.push(Buffer.from(message)), (status) => expect.fail(status.details))
        read(wire.subarray(0, offset))
        for (let at = offset; at < wire.length; at += pieceSize) read(wire.subarray(at, at + pieceSize))
        expect(got).toEqual(messages)
      }
    }
    const refusals: Array<string> = []
    const read = messageReader(100, () => expect.fail("no message expected"), (status) => refusals.push(status.details))
    read(frame(Buffer.alloc(101)).subarray(0, 7))
    expect(refusals).toEqual(["Received message larger than max (101 vs. 100)"])
  })
})
