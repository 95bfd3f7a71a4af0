/**
 * The plugin's GRPCStdio stream (go-plugin ≥ 1.1) drained into the logger by a host connection: each
 * output split into lines on its own, a line split across chunks (and interleaved with the other
 * output) whole, stderr read as hclog (level, fields, a Go crash making later lines errors), the last
 * line without a newline logged when the stream ends. The plugin is a grpc-js server on a unix socket
 * in this process, serving go-plugin's own services.
 */
import { describe, expect, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import { Effect, Layer, Schedule } from "effect"
import * as path from "node:path"
import { insecure } from "../src/goplugin/AutoMtls.js"
import * as Connection from "../src/goplugin/Connection.js"
import { protocol, type StdioData } from "../src/goplugin/Protocol.js"
import { captureLogs, tempDir } from "./helpers.js"

type Chunk = readonly [StdioData["channel"], string]

/** A go-plugin-shaped server whose stdio stream sends `chunks`, then ends. */
const fakePlugin = (socket: string, chunks: ReadonlyArray<Chunk>) =>
  Effect.acquireRelease(
    Effect.async<grpc.Server, Error>((resume) => {
      const services = protocol()
      const server = new grpc.Server()
      server.addService(services.Health.service, {
        Check: (_call: unknown, answer: grpc.sendUnaryData<object>) => answer(null, { status: "SERVING" })
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

describe("go-plugin stdio stream", () => {
  it.scopedLive("is logged line by line, per output, stderr as hclog, the unfinished last line at the end", () =>
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
      yield* Connection.connect({
        host: "app",
        plugin: "kv",
        handshake: { appVersion: 1, network: "unix", address: socket, certificate: undefined, multiplexed: false },
        security: insecure()
      }).pipe(Effect.provide(Layer.merge(logs.layer, logs.everyLevel)))
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
})
