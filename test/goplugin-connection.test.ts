/**
 * A host connection against a go-plugin-shaped grpc-js server on a unix socket in this process: the
 * plugin's GRPCStdio stream (go-plugin ≥ 1.1) drained into the logger — each output split into lines
 * on its own, a line split across chunks (and interleaved with the other output) whole, stderr read as
 * hclog (level, fields, a Go crash making later lines errors), the last line without a newline logged
 * when the stream ends; and the health check sent at connect, whose answer the first Ping takes within
 * that Ping's own time limit.
 */
import { describe, expect, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import { Duration, Effect, Layer, Schedule } from "effect"
import * as path from "node:path"
import { insecure } from "../src/goplugin/AutoMtls.js"
import * as Connection from "../src/goplugin/Connection.js"
import { protocol, type StdioData } from "../src/goplugin/Protocol.js"
import { captureLogs, tempDir } from "./helpers.js"

type Chunk = readonly [StdioData["channel"], string]

/** A go-plugin-shaped server whose stdio stream sends `chunks`, then ends; `checks` counts health checks (answered unless `silent`). */
const fakePlugin = (socket: string, chunks: ReadonlyArray<Chunk>, checks = { count: 0, silent: false }) =>
  Effect.acquireRelease(
    Effect.async<grpc.Server, Error>((resume) => {
      const services = protocol()
      const server = new grpc.Server()
      server.addService(services.Health.service, {
        Check: (_call: unknown, answer: grpc.sendUnaryData<object>) => {
          checks.count++
          if (!checks.silent) answer(null, { status: "SERVING" })
        }
      })
      server.addService(services.GRPCBroker.service, {
        StartStream: (call: grpc.ServerDuplexStream<object, object>) => call.on("end", () => call.end())
      })
      server.addService(services.GRPCController.service, {
        Shutdown: (_call: unknown, answer: grpc.sendUnaryData<object>) => answer(null, {})
      })
      server.addService(services.GRPCStdio.service, {
        StreamStdio: (call: grpc.ServerWritableStream<object, StdioData>) => {
          for (const [channel, text] of chunks) call.write({ channel, data: Buffer.from(text) })
          call.end()
        }
      })
      server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (error) =>
        resume(error === null ? Effect.succeed(server) : Effect.fail(error)))
    }),
    (server) => Effect.sync(() => server.forceShutdown())
  )

const plugin = (socket: string) => ({
  host: "app",
  plugin: "kv",
  handshake: { appVersion: 1, network: "unix" as const, address: socket, certificate: undefined, multiplexed: false },
  security: insecure()
})

describe("a go-plugin connection", () => {
  it.scopedLive("logs the stdio stream line by line, per output, stderr as hclog, the unfinished last line at the end", () =>
    Effect.gen(function*() {
      const socket = path.join(yield* tempDir, "plugin.sock")
      yield* fakePlugin(socket, [
        ["STDERR", `{"@level":"warn","@message":"disk `],
        ["STDOUT", "plain "],
        ["STDERR", `slow","@module":"kv","ms":12}\n[INFO] prefixed\npanic: boo`],
        ["STDOUT", "line\r\nno newline at the end"],
        ["STDERR", "m\ngoroutine 1 [running]:\n"]
      ])
      const logs = captureLogs()
      yield* Connection.connect(plugin(socket)).pipe(Effect.provide(Layer.merge(logs.layer, logs.everyLevel)))
      const byMessage = (message: string) => logs.lines.find((entry) => entry.message === message)
      // The last stdout line is logged when the stream ends, after every other line.
      yield* Effect.suspend(() => (byMessage("no newline at the end") === undefined ? Effect.fail("not yet") : Effect.void)).pipe(
        Effect.retry({ schedule: Schedule.spaced("10 millis"), times: 500 })
      )
      const where = { host: "app", plugin: "kv" }
      expect(byMessage("disk slow")).toMatchObject({ level: "WARN", annotations: { ...where, module: "kv", ms: 12, stream: "stderr" } })
      expect(byMessage("[INFO] prefixed")).toMatchObject({ level: "INFO", annotations: { stream: "stderr" } })
      // A Go crash: that line and every later stderr line at error.
      expect(byMessage("panic: boom")).toMatchObject({ level: "ERROR", annotations: { stream: "stderr" } })
      expect(byMessage("goroutine 1 [running]:")).toMatchObject({ level: "ERROR", annotations: { stream: "stderr" } })
      expect(byMessage("plain line")).toMatchObject({ level: "INFO", annotations: { ...where, stream: "stdout" } })
      expect(byMessage("no newline at the end")).toMatchObject({ level: "INFO", annotations: { stream: "stdout" } })
      const fromStdio = logs.lines.filter((entry) => entry.annotations["stream"] !== undefined).map((entry) => entry.message)
      expect(fromStdio.filter((message) => message.includes("plain") || message.includes("disk"))).toEqual(["disk slow", "plain line"])
    }))

  it.scopedLive("the first Ping takes the health check sent at connect; later Pings send their own", () =>
    Effect.gen(function*() {
      const socket = path.join(yield* tempDir, "plugin.sock")
      const checks = { count: 0, silent: false }
      yield* fakePlugin(socket, [], checks)
      const connection = yield* Connection.connect({ ...plugin(socket), checkServing: false })
      // Sent at connect, before any Ping.
      yield* Effect.suspend(() => (checks.count === 1 ? Effect.void : Effect.fail("not yet"))).pipe(
        Effect.retry({ schedule: Schedule.spaced("5 millis"), times: 400 })
      )
      yield* connection.ping()
      expect(checks.count).toBe(1)
      yield* connection.ping()
      yield* connection.ping()
      expect(checks.count).toBe(3)
    }))

  it.scopedLive("a first Ping whose check is not answered fails within its own limit, as a timeout", () =>
    Effect.gen(function*() {
      const socket = path.join(yield* tempDir, "plugin.sock")
      yield* fakePlugin(socket, [], { count: 0, silent: true })
      const connection = yield* Connection.connect({ ...plugin(socket), checkServing: false })
      const error = yield* Effect.flip(connection.ping(Duration.millis(100)))
      expect(error).toMatchObject({ _tag: "GoPluginCallError", reason: "timeout", code: "DEADLINE_EXCEEDED" })
    }))
})
