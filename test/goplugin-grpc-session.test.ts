/**
 * The lean gRPC client of a go-plugin connection (GrpcSession over internal/http2Client.ts) against the
 * real go-plugin 1.0.1 fixture, plain and with AutoMTLS: calls, a non-OK status mapped to its typed
 * error, an answer over the receive cap refused (and the connection still usable), a deadline that
 * becomes a typed timeout and reaches the plugin, an interruption that reaches the plugin as a
 * cancellation, and a call after the plugin left. HPACK is checked on RFC 7541's own examples.
 */
import { describe, expect, it } from "@effect/vitest"
import type * as grpc from "@grpc/grpc-js"
import { Duration, Effect, Either, Fiber, Logger, LogLevel, type Scope } from "effect"
import { beforeAll } from "vitest"
import * as Hpack from "../src/internal/hpack.js"
import type { GoPluginSettings } from "../src/goplugin/GoPluginSettings.js"
import * as Launch from "../src/goplugin/Launch.js"
import { HEALTH_SERVICE, protocol } from "../src/goplugin/Protocol.js"
import { callFailed } from "../src/goplugin/Rpc.js"
import * as ServiceClient from "../src/goplugin/ServiceClient.js"
import { goFixtures, kvHandshake, kvProto, testMarker } from "./goFixtures.js"
import * as GoHosted from "./goHosted.js"

const marker = testMarker()

let kvplugin = ""
beforeAll(() => {
  kvplugin = goFixtures().kvplugin
}, 180_000)

type KV = {
  Get: { request: { key: string }; response: { value: Buffer; found: boolean } }
  Put: { request: { key: string; value: Buffer }; response: object }
  Sum: { request: { adder_id: number; values: ReadonlyArray<number> }; response: { total: string } }
}

const settings = (autoMtls: boolean, maxReceiveBytes = 64 * 1024 * 1024): GoPluginSettings => ({
  magicCookieKey: kvHandshake.magicCookieKey,
  magicCookieValue: kvHandshake.magicCookieValue,
  protocolVersions: [kvHandshake.protocolVersion],
  autoMtls,
  protoFiles: [kvProto],
  protoInclude: [],
  services: ["kv.KV"],
  handshakeTimeout: Duration.seconds(15),
  maxReceiveBytes
})

/** Runs `body` on the launched fixture (goHosted.ts), logging only warnings. */
const hosted = <A, E>(options: GoPluginSettings, body: (launched: Launch.Launched) => Effect.Effect<A, E, Scope.Scope>) =>
  GoHosted.hosted({ exec: kvplugin, marker, logs: Logger.minimumLogLevel(LogLevel.Warning) }, options, body)

const health = () => protocol().Health.service["Check"] as grpc.MethodDefinition<{ service: string }, { status: string }>

describe("GrpcSession against go-plugin 1.0.1", () => {
  for (const autoMtls of [false, true]) {
    it.live(`${autoMtls ? "AutoMTLS" : "plain"}: calls; a non-OK status becomes its typed error; an answer over the cap is refused and the connection goes on`, () =>
      hosted(settings(autoMtls, 1024), ({ connection }) =>
        Effect.gen(function*() {
          const protos = yield* ServiceClient.loadProtos("kv", [kvProto])
          const kv = yield* ServiceClient.make<KV>(connection, protos, "kv.KV")
          yield* kv.call("Put", { key: "small", value: Buffer.from("héllo") })
          const got = yield* kv.call("Get", { key: "small" })
          expect(Buffer.from(got.value).toString()).toBe("héllo")
          // Many calls at once share the connection.
          const many = yield* Effect.all(Array.from({ length: 50 }, () => kv.call("Get", { key: "small" })), { concurrency: "unbounded" })
          expect(many.every((answer) => answer.found)).toBe(true)

          // grpc-go's health server answers NOT_FOUND for a service it does not know.
          const unknown = yield* Effect.flip(connection.unary(health(), { service: "nope" }, "5 seconds"))
          expect(unknown.code).toBe(5)
          expect(callFailed({ host: "app", plugin: "kv" }, "grpc.health.v1.Health/Check", unknown)).toMatchObject({
            _tag: "GoPluginCallError",
            reason: "remote",
            code: "NOT_FOUND"
          })
          expect(yield* connection.unary(health(), { service: HEALTH_SERVICE }, "5 seconds")).toEqual({ status: "SERVING" })

          // The cap is 1024 bytes: a 4 KiB value is sent fine but its answer is refused.
          yield* kv.call("Put", { key: "big", value: Buffer.alloc(4096, 1) })
          const tooBig = yield* Effect.flip(kv.call("Get", { key: "big" }))
          expect(tooBig).toMatchObject({ _tag: "GoPluginCallError", reason: "too-large", code: "RESOURCE_EXHAUSTED" })
          expect(tooBig.message).toMatch(/4\d{3} vs\. 1024/)
          expect((yield* kv.call("Get", { key: "small" })).found).toBe(true)
        })))
  }

  it.live("a deadline becomes a typed timeout and reaches the plugin; an interruption reaches it as a cancellation", () =>
    hosted(settings(false), ({ connection }) =>
      Effect.gen(function*() {
        const protos = yield* ServiceClient.loadProtos("kv", [kvProto])
        const kv = yield* ServiceClient.make<KV>(connection, protos, "kv.KV")
        // The plugin's Sum calls back into this Adder, which never answers and records how each call ended.
        let started = 0
        const ended: Array<string> = []
        // Each id is dialed once by the plugin: one per call.
        const serveAdder = Effect.gen(function*() {
          const id = yield* connection.broker.nextId
          yield* connection.broker.serve(id, [{
            definition: Either.getOrThrow(ServiceClient.serviceDefinition(protos, "kv.Adder")),
            implementation: {
              Add: (call: grpc.ServerUnaryCall<unknown, unknown>) => {
                started++
                call.on("cancelled", () => ended.push("cancelled"))
              }
            }
          }])
          return id
        })
        const adderId = yield* serveAdder
        // An id nobody serves: the plugin's broker Dial waits 5 s whatever the deadline, so the host's
        // own deadline ends the call.
        const timedOut = yield* Effect.flip(kv.call("Sum", { adder_id: 999, values: [1] }, { timeout: "300 millis" }))
        // (Fields compared one by one: the error carries its span, which a failed match would try to print.)
        expect(timedOut._tag === "GoPluginCallError" && [timedOut.reason, timedOut.code]).toEqual(["timeout", "DEADLINE_EXCEEDED"])

        // The deadline travels with the call (grpc-timeout): the plugin's own call back to the host ends
        // with it. (Which side reports first — this host's timer or the plugin's failed Add — is a race.)
        const late = yield* Effect.flip(kv.call("Sum", { adder_id: adderId, values: [1] }, { timeout: "400 millis" }))
        expect(late._tag).toBe("GoPluginCallError")
        for (let i = 0; i < 200 && ended.length < 1; i++) yield* Effect.sleep("10 millis")
        expect(ended).toEqual(["cancelled"])

        const secondId = yield* serveAdder
        const pending = yield* Effect.fork(kv.call("Sum", { adder_id: secondId, values: [1] }, { timeout: "30 seconds" }))
        for (let i = 0; i < 500 && started < 2; i++) yield* Effect.sleep("10 millis")
        expect(started).toBe(2)
        yield* Fiber.interrupt(pending)
        // RST_STREAM(CANCEL) cancelled the plugin's handler, whose outgoing call then ended too.
        for (let i = 0; i < 200 && ended.length < 2; i++) yield* Effect.sleep("10 millis")
        expect(ended).toEqual(["cancelled", "cancelled"])
        expect((yield* kv.call("Get", { key: "absent" })).found).toBe(false)
      })), 20_000)

  it.live("3 MiB both ways: requests wait for the plugin's flow-control windows, answers span many frames", () =>
    hosted(settings(false), ({ connection }) =>
      Effect.gen(function*() {
        const protos = yield* ServiceClient.loadProtos("kv", [kvProto])
        const kv = yield* ServiceClient.make<KV>(connection, protos, "kv.KV")
        const values = [0, 1, 2].map((n) => Buffer.alloc(3 * 1024 * 1024, n + 1))
        yield* Effect.all(values.map((value, n) => kv.call("Put", { key: `big${n}`, value })), { concurrency: "unbounded" })
        const answers = yield* Effect.all(values.map((_, n) => kv.call("Get", { key: `big${n}` })), { concurrency: "unbounded" })
        answers.forEach((answer, n) => expect(Buffer.compare(Buffer.from(answer.value), values[n]!)).toBe(0))
      })), 20_000)

  it.live("after Shutdown the plugin is gone: a call fails UNAVAILABLE, read as refused", () =>
    hosted(settings(false), ({ connection, process: plugin }) =>
      Effect.gen(function*() {
        yield* connection.shutdown
        yield* plugin.awaitExit.pipe(Effect.timeout("5 seconds"))
        const after = yield* Effect.flip(connection.unary(health(), { service: HEALTH_SERVICE }, "2 seconds"))
        expect(after.code).toBe(14)
        expect(callFailed({ host: "app", plugin: "kv" }, "Check", after)).toMatchObject({ reason: "refused" })
      })))
})

describe("HPACK", () => {
  const hex = (text: string) => Buffer.from(text.replace(/\s/g, ""), "hex")

  it("decodes RFC 7541 C.4 (Huffman strings, the dynamic table across blocks)", () => {
    const decoder = new Hpack.Decoder()
    expect(decoder.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"))).toEqual([
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"]
    ])
    expect(decoder.decode(hex("8286 84be 5886 a8eb 1064 9cbf"))).toEqual([
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
      ["cache-control", "no-cache"]
    ])
  })

  it("reads back what the encoder writes, and refuses an index that does not exist", () => {
    const block = Buffer.concat([Hpack.indexed(3), Hpack.literal(4, "/kv.KV/Get"), Hpack.literal("grpc-timeout", "5000m")])
    expect(new Hpack.Decoder().decode(block)).toEqual([[":method", "POST"], [":path", "/kv.KV/Get"], ["grpc-timeout", "5000m"]])
    expect(() => new Hpack.Decoder().decode(Hpack.indexed(70))).toThrow(Hpack.HpackError)
  })
})
