/**
 * The SDK's go-plugin server seen from real hosts: a go-plugin 1.0.1 Go host (test/fixtures/go/kvhost)
 * launches the TypeScript fixture plugin and calls it, plain and with AutoMTLS, broker both ways; and the
 * TypeScript host does the same with AutoMTLS. Nothing may be left running.
 */
import { describe, expect, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import { Duration, Effect, Either, Layer, Logger, LogLevel } from "effect"
import { execFile } from "node:child_process"
import { beforeAll } from "vitest"
import * as Launch from "../src/goplugin/Launch.js"
import * as ServiceClient from "../src/goplugin/ServiceClient.js"
import * as ProcessRegistry from "../src/ProcessRegistry.js"
import { goFixtures, kvHandshake, kvProto } from "./goFixtures.js"
import { built, processesMentioning, survivors } from "./helpers.js"
import { pluginEnv, startProcess } from "./sdk-helpers.js"

const plugin = built("test/fixtures/go-kv-plugin.js")
let kvhost = ""
beforeAll(() => {
  kvhost = goFixtures().kvhost
}, 180_000)

const runGoHost = (args: ReadonlyArray<string>) =>
  Effect.async<{ readonly stdout: string; readonly stderr: string; readonly code: number }>((resume) => {
    const child = execFile(kvhost, [...args, process.execPath, plugin], { timeout: 20_000 }, (error, stdout, stderr) =>
      resume(Effect.succeed({ stdout, stderr, code: error === null ? 0 : typeof error.code === "number" ? error.code : -1 })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

describe("Go host (go-plugin 1.0.1), TypeScript plugin", () => {
  for (const mtls of [false, true]) {
    it.live(`${mtls ? "AutoMTLS" : "plain"}: launches it, calls it, broker both ways, and stops it`, () =>
      Effect.gen(function*() {
        const result = yield* runGoHost(mtls ? ["-mtls"] : [])
        expect(result.stderr).not.toMatch(/\[ERROR\]|panic/)
        expect(result.code).toBe(0)
        expect(JSON.parse(result.stdout)).toEqual({ get: "hello from go", absentFound: false, sum: 10, counter: [1, 2] })
        expect(processesMentioning(plugin)).toEqual([])
      }))
  }
})

describe("TypeScript host, TypeScript go-plugin plugin", () => {
  it.live("AutoMTLS: handshake with a certificate, calls, broker both ways, hclog levels, Shutdown → exit 0", () => {
    const levels = new Map<string, string>()
    const logger = Layer.merge(
      Logger.replace(Logger.defaultLogger, Logger.make(({ logLevel, message }) => levels.set(String(message), logLevel.label))),
      Logger.minimumLogLevel(LogLevel.All)
    )
    return Effect.gen(function*() {
      const pids: Array<number> = []
      yield* Effect.scoped(Effect.gen(function*() {
        const { connection, handshake, process: started } = yield* Launch.launch({
          host: "app",
          plugin: "ts-kv",
          exec: process.execPath,
          args: [plugin],
          cwd: process.cwd(),
          grace: Duration.seconds(2),
          settings: {
            magicCookieKey: kvHandshake.magicCookieKey,
            magicCookieValue: kvHandshake.magicCookieValue,
            protocolVersions: [2, 3],
            autoMtls: true,
            protoFiles: [],
            protoInclude: [],
            services: [],
            handshakeTimeout: Duration.seconds(15),
            maxReceiveBytes: 1024 * 1024
          }
        })
        pids.push(started.pid)
        expect(handshake.appVersion).toBe(3)
        expect(handshake.certificate).toBeDefined()
        yield* connection.ping()
        const protos = yield* ServiceClient.loadProtos("ts-kv", [kvProto])
        const kv = yield* ServiceClient.make(connection, protos, "kv.KV")
        yield* kv.call("Put", { key: "k", value: Buffer.from("v") })
        expect(yield* kv.call("Get", { key: "k" })).toEqual({ value: Buffer.from("v"), found: true })
        const adderId = yield* connection.broker.nextId
        yield* connection.broker.serve(adderId, [{
          definition: Either.getOrThrow(ServiceClient.serviceDefinition(protos, "kv.Adder")),
          implementation: {
            Add: (call: grpc.ServerUnaryCall<{ a: string; b: string }, unknown>, callback: grpc.sendUnaryData<unknown>) =>
              callback(null, { sum: String(Number(call.request.a) + Number(call.request.b)) })
          }
        }])
        expect(yield* kv.call("Sum", { adder_id: adderId, values: [5, 6] })).toEqual({ total: "11" })
        const { counter_id } = (yield* kv.call("Counter", {})) as { counter_id: number }
        const count = yield* ServiceClient.make(
          { host: "app", plugin: "ts-kv", client: yield* connection.open(yield* connection.broker.dial(counter_id)) },
          protos,
          "kv.Count"
        )
        expect(yield* count.call("Next", {})).toEqual({ value: "1" })
        yield* kv.call("Noise", {})
        for (let i = 0; i < 200 && !levels.has("noise at error"); i++) yield* Effect.sleep(10)
        expect(levels.get("noise at warn")).toBe("WARN")
        expect(levels.get("noise at error")).toBe("ERROR")
        yield* connection.shutdown
        expect(yield* started.awaitExit.pipe(Effect.timeout("5 seconds"))).toEqual({ code: 0, signal: null })
      })).pipe(Effect.provide(Layer.merge(ProcessRegistry.layer, logger)))
      expect(yield* survivors(pids)).toEqual([])
    })
  })

  it.scopedLive("without the host's cookie it refuses to run: exit 1 and the reason on stderr", () =>
    Effect.gen(function*() {
      const started = yield* startProcess(process.execPath, [plugin], pluginEnv())
      const exit = yield* Effect.promise(() => started.exited)
      expect(exit.code).toBe(1)
      expect(started.stderr()).toMatch(/KV_PLUGIN_COOKIE is not set to the expected value: this binary is a plugin/)
      expect(yield* survivors([started.pid])).toEqual([])
    }))

  it.scopedLive("a garbled PLUGIN_CLIENT_CERT is refused rather than served without trust", () =>
    Effect.gen(function*() {
      const started = yield* startProcess(process.execPath, [plugin], pluginEnv({
        [kvHandshake.magicCookieKey]: kvHandshake.magicCookieValue,
        PLUGIN_CLIENT_CERT: "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"
      }))
      const exit = yield* Effect.promise(() => started.exited)
      expect(exit.code).toBe(1)
      expect(started.stderr()).toMatch(/PLUGIN_CLIENT_CERT is not a PEM certificate/)
    }))
})
