/**
 * The TypeScript host against a real go-plugin 1.0.1 plugin (test/fixtures/go/kvplugin), plain and with
 * AutoMTLS: handshake, health, calls, the broker both ways, stderr logs at their levels, shutdown, and
 * nothing left running.
 */
import { describe, expect, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import { Duration, Effect, Either, Layer, Logger, LogLevel, type Scope } from "effect"
import { beforeAll } from "vitest"
import * as Launch from "../src/goplugin/Launch.js"
import type { GoPluginSettings } from "../src/goplugin/GoPluginSettings.js"
import * as ServiceClient from "../src/goplugin/ServiceClient.js"
import { goFixtures, kvHandshake, kvProto, testMarker } from "./goFixtures.js"
import * as GoHosted from "./goHosted.js"

const marker = testMarker()

interface LogEntry {
  readonly level: LogLevel.LogLevel
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

const capture = (entries: Array<LogEntry>) =>
  Layer.merge(
    Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ annotations, logLevel, message }) => {
        entries.push({
          level: logLevel,
          message: Array.isArray(message) ? message.map(String).join(" ") : String(message),
          annotations: Object.fromEntries(annotations)
        })
      })
    ),
    Logger.minimumLogLevel(LogLevel.All)
  )

const settings = (overrides: Partial<GoPluginSettings> = {}): GoPluginSettings => ({
  magicCookieKey: kvHandshake.magicCookieKey,
  magicCookieValue: kvHandshake.magicCookieValue,
  protocolVersions: [kvHandshake.protocolVersion],
  autoMtls: false,
  protoFiles: [kvProto],
  protoInclude: [],
  services: ["kv.KV"],
  handshakeTimeout: Duration.seconds(15),
  maxReceiveBytes: 64 * 1024 * 1024,
  ...overrides
})

type KV = {
  Get: { request: { key: string }; response: { value: Buffer; found: boolean } }
  Put: { request: { key: string; value: Buffer }; response: object }
  Sum: { request: { adder_id: number; values: ReadonlyArray<number> }; response: { total: string } }
  Counter: { request: object; response: { counter_id: number } }
  Noise: { request: object; response: object }
}

let kvplugin = ""
beforeAll(() => {
  kvplugin = goFixtures().kvplugin
}, 180_000)

/** Runs `body` on the launched fixture (goHosted.ts), its logs captured into `entries`. */
const hosted = <A, E>(
  overrides: Partial<GoPluginSettings>,
  body: (launched: Launch.Launched) => Effect.Effect<A, E, Scope.Scope>,
  entries: Array<LogEntry> = [],
  env: Record<string, string> = {}
) => GoHosted.hosted({ exec: kvplugin, marker, logs: capture(entries) }, settings(overrides), body, env)

const adder = (definition: grpc.ServiceDefinition) => ({
  definition,
  implementation: {
    Add: (call: grpc.ServerUnaryCall<{ a: string; b: string }, unknown>, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { sum: String(Number(call.request.a) + Number(call.request.b)) })
  }
})

describe("TypeScript host, go-plugin 1.0.1 plugin", () => {
  for (const autoMtls of [false, true]) {
    it.live(`${autoMtls ? "AutoMTLS" : "plain"}: health, calls, broker, shutdown with exit 0`, () =>
      hosted({ autoMtls: autoMtls }, ({ connection, handshake, process: plugin }) =>
        Effect.gen(function*() {
          expect(handshake.network).toBe("unix")
          expect(handshake.appVersion).toBe(3)
          expect(handshake.certificate !== undefined).toBe(autoMtls)
          yield* connection.ping()
          const protos = yield* ServiceClient.loadProtos("kv", [kvProto])
          const kv = yield* ServiceClient.make<KV>(connection, protos, "kv.KV")
          yield* kv.call("Put", { key: "greeting", value: Buffer.from("hello from ts") })
          const got = yield* kv.call("Get", { key: "greeting" })
          expect(got.found).toBe(true)
          expect(Buffer.from(got.value).toString()).toBe("hello from ts")
          expect((yield* kv.call("Get", { key: "absent" })).found).toBe(false)

          // Host → plugin through the broker: the plugin serves Count and announces it.
          const { counter_id } = yield* kv.call("Counter", {})
          const target = yield* connection.broker.dial(counter_id)
          const count = yield* ServiceClient.make<{ Next: { request: object; response: { value: string } } }>(
            { host: "app", plugin: "kv", client: yield* connection.open(target) },
            protos,
            "kv.Count"
          )
          expect((yield* count.call("Next", {})).value).toBe("1")
          expect((yield* count.call("Next", {})).value).toBe("2")

          // Plugin → host through the broker: the host serves Adder, the plugin dials it.
          const adderId = yield* connection.broker.nextId
          yield* connection.broker.serve(adderId, [adder(Either.getOrThrow(ServiceClient.serviceDefinition(protos, "kv.Adder")))])
          const sum = yield* kv.call("Sum", { adder_id: adderId, values: [1, 2, 3, 4] }).pipe(Effect.either)
          if (autoMtls) {
            // go-plugin 1.0.1's broker dial checks the host's certificate against "unused": a clear typed error.
            expect(Either.isLeft(sum) && sum.left._tag).toBe("BrokerTlsUnsupported")
            expect(Either.isLeft(sum) && sum.left.message).toMatch(/go-plugin < 1\.4\.4.*auto_mtls = false/s)
          } else {
            expect(Either.getOrThrow(sum).total).toBe("10")
          }

          const missing = yield* kv.call("Nope" as "Get", { key: "x" }).pipe(Effect.flip)
          expect(missing._tag === "GoPluginCallError" && missing.code).toBe("UNIMPLEMENTED")
          yield* connection.shutdown
          const exit = yield* plugin.awaitExit.pipe(Effect.timeout("5 seconds"))
          expect(exit).toEqual({ code: 0, signal: null })
        })))
  }

  it.live("stderr hclog lines become log entries at their levels, with their fields", () => {
    const entries: Array<LogEntry> = []
    return hosted({}, ({ connection }) =>
      Effect.gen(function*() {
        const protos = yield* ServiceClient.loadProtos("kv", [kvProto])
        const kv = yield* ServiceClient.make<KV>(connection, protos, "kv.KV")
        yield* kv.call("Noise", {})
        // stderr is read asynchronously: wait for the last line.
        for (let i = 0; i < 200 && !entries.some((e) => e.message === "an unprefixed line"); i++) yield* Effect.sleep(10)
        const level = (message: string) => entries.find((e) => e.message === message)?.level.label
        expect(level("noise at trace")).toBe("TRACE")
        expect(level("noise at debug")).toBe("DEBUG")
        expect(level("noise at info")).toBe("INFO")
        expect(level("noise at warn")).toBe("WARN")
        expect(level("noise at error")).toBe("ERROR")
        expect(level("[WARN] a plain warning line")).toBe("WARN")
        expect(level("an unprefixed line")).toBe("DEBUG")
        const error = entries.find((e) => e.message === "noise at error")!
        expect(error.annotations).toMatchObject({ plugin: "kv", host: "app", module: "kvplugin", n: 5, what: "disk full", stream: "stderr" })
      }), entries)
  })

  it.live("a Go panic at start: PluginExited with its stderr, and every line after `panic:` logged as an error", () => {
    const entries: Array<LogEntry> = []
    return Effect.gen(function*() {
      const failure = yield* hosted({}, () => Effect.void, entries, { KV_PLUGIN_PANIC: "1" }).pipe(Effect.flip)
      expect(failure._tag).toBe("PluginExited")
      expect(failure.message).toMatch(/exited with code 2[\s\S]*panic: the fixture was asked to panic/)
      expect(entries.find((e) => e.message === "goroutine 1 [running]:")?.level.label).toBe("ERROR")
    })
  })

  it.live("a wrong magic cookie: the plugin refuses to run, and the error carries its message", () =>
    Effect.gen(function*() {
      const failure = yield* hosted({ magicCookieValue: "wrong" }, () => Effect.void).pipe(Effect.flip)
      expect(failure._tag).toBe("PluginExited")
      expect(failure.message).toMatch(/This binary is a plugin/)
    }))

  it.live("versions the plugin does not speak: HandshakeError naming both sides", () =>
    Effect.gen(function*() {
      const failure = yield* hosted({ protocolVersions: [5, 6] }, () => Effect.void).pipe(Effect.flip)
      expect(failure._tag).toBe("HandshakeError")
      expect(failure.message).toMatch(/version 3, but the host offered 5, 6/)
    }))
})
