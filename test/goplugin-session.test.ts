/**
 * The broker of a go-plugin plugin that a container runs (`GoPluginSession`), against the go-plugin
 * 1.0.1 fixture (test/fixtures/go/kvplugin): the host serves Adder and the plugin dials back (Sum), the
 * plugin serves Count and the host dials it (Counter), AutoMTLS's dial-back reported as
 * `BrokerTlsUnsupported`, a restart in the middle of a session, the typed refusals, and nothing left
 * running after each.
 */
import { describe, expect, it } from "@effect/vitest"
import * as grpc from "@grpc/grpc-js"
import { Deferred, Effect, Either, Layer, Logger, LogLevel } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll } from "vitest"
import type { Container } from "../src/Container.js"
import * as Executor from "../src/Executor.js"
import * as GoPlugin from "../src/GoPlugin.js"
import * as GoPluginSession from "../src/goplugin/GoPluginSession.js"
import * as ServiceClient from "../src/goplugin/ServiceClient.js"
import type { SupervisorEvent } from "../src/Supervisor.js"
import { goFixtures, kvGoPluginTable, kvProto, testMarker } from "./goFixtures.js"
import { processesMentioning, renderConfig, survivors, tempDir, writeConfig } from "./helpers.js"

const marker = testMarker()

type KV = {
  Sum: { request: { adder_id: number; values: ReadonlyArray<number> }; response: { total: string } }
  Counter: { request: object; response: { counter_id: number } }
}
type Count = { Next: { request: object; response: { value: string } } }

let kvplugin = ""
beforeAll(() => {
  kvplugin = goFixtures().kvplugin
}, 180_000)

/** A config with the kv go-plugin entry and a stdio entry (`/bin/cat`, never started before a call). */
const config = (autoMtls: boolean, settings = "") =>
  Effect.map(tempDir, (dir) => {
    fs.copyFileSync(kvProto, path.join(dir, "kv.proto"))
    return writeConfig(dir, renderConfig([
      { name: "kv", exec: kvplugin, args: [marker], execFile: kvplugin, commType: "go-plugin", extra: kvGoPluginTable("kv", autoMtls, { services: [] }) },
      { name: "cat", exec: "/bin/cat", execFile: "/bin/cat", commType: "stdio" }
    ], { app: ["kv", "cat"] }, settings))
  })

const quiet = Layer.merge(Logger.minimumLogLevel(LogLevel.Error), Logger.remove(Logger.defaultLogger))

/** Runs `body` with a container of host "app", then checks every process it started is gone. */
const inContainer = <A, E>(file: string, body: (container: Container, pids: Array<number>) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const pids: Array<number> = []
    const result = yield* Effect.gen(function*() {
      const container = yield* Executor.fromHost("app")
      return yield* body(container, pids)
    }).pipe(Effect.scoped, Effect.provide(GoPlugin.layer({ configFile: file })), Effect.provide(quiet))
    expect(yield* survivors(pids)).toEqual([])
    expect(processesMentioning(marker)).toEqual([])
    return result
  })

const adder = (protos: ServiceClient.Protos) => ({
  definition: Either.getOrThrow(ServiceClient.serviceDefinition(protos, "kv.Adder")),
  implementation: {
    Add: (call: grpc.ServerUnaryCall<{ a: string; b: string }, unknown>, done: grpc.sendUnaryData<unknown>) =>
      done(null, { sum: String(Number(call.request.a) + Number(call.request.b)) })
  }
})

describe("GoPluginSession: the broker of a plugin a container runs", () => {
  for (const autoMtls of [false, true]) {
    it.scopedLive(`${autoMtls ? "AutoMTLS" : "plain"}: the plugin dials a service the host serves, the host dials one the plugin serves`, () =>
      Effect.gen(function*() {
        const file = yield* config(autoMtls)
        const protos = yield* ServiceClient.loadProtos("kv", [kvProto])
        yield* inContainer(file, (container, pids) =>
          Effect.gen(function*() {
            yield* container.run("kv")
            const outcome = yield* GoPluginSession.use(container, "kv", (session) =>
              Effect.gen(function*() {
                pids.push(session.pid!)
                const kv = yield* ServiceClient.make<KV>(session.connection, protos, "kv.KV")
                // Host → plugin: the plugin serves Count under the id it answers.
                const { counter_id } = yield* kv.call("Counter", {})
                const count = yield* ServiceClient.make<Count>(yield* session.dial(counter_id), protos, "kv.Count")
                expect((yield* count.call("Next", {})).value).toBe("1")
                expect((yield* count.call("Next", {})).value).toBe("2")
                // Plugin → host: the host serves Adder, the plugin dials it while answering Sum.
                const adderId = yield* session.serve([adder(protos)])
                return yield* kv.call("Sum", { adder_id: adderId, values: [1, 2, 3, 4] }).pipe(Effect.either)
              }))
            if (autoMtls) {
              // go-plugin 1.0.1 checks the host's certificate against "unused": a typed error, TLS kept.
              expect(Either.isLeft(outcome) && outcome.left._tag).toBe("BrokerTlsUnsupported")
              expect(Either.isLeft(outcome) && outcome.left.message).toMatch(/go-plugin < 1\.4\.4.*auto_mtls = false/s)
            } else {
              expect(Either.getOrThrow(outcome).total).toBe("10")
            }
            // The plugin is still up and callable after the session's scope closed its brokered server.
            expect(yield* (yield* container.caller("kv")).ping).toBe("SERVING")
          }))
      }), 20_000)
  }

  it.scopedLive("a restart in the middle of a session fails it with generation-ended; the next session reaches the new process", () =>
    Effect.gen(function*() {
      const file = yield* config(false, "health_interval = 0.2")
      yield* inContainer(file, (container, pids) =>
        Effect.gen(function*() {
          const restarted = yield* Deferred.make<SupervisorEvent>()
          yield* container.onEvent((event) => (event._tag === "PluginRestarted" ? Deferred.succeed(restarted, event) : Effect.void))
          yield* container.run("kv")
          const failure = yield* GoPluginSession.use(container, "kv", (session) =>
            Effect.gen(function*() {
              pids.push(session.pid!)
              // A callback served for the old process: it must not outlive the session.
              yield* session.serve([adder(yield* ServiceClient.loadProtos("kv", [kvProto]))])
              process.kill(session.pid!, "SIGKILL")
              return yield* Effect.never
            })).pipe(Effect.flip)
          expect(failure).toMatchObject({ _tag: "GoPluginSessionError", reason: "generation-ended", plugin: "kv", host: "app" })
          expect(failure.message).toMatch(/stopped while the session was in use/)
          yield* Deferred.await(restarted)
          const next = yield* GoPluginSession.use(container, "kv", (session) =>
            Effect.as(session.connection.ping(), session.pid))
          pids.push(next!)
          expect(next).not.toBe(pids[0])
        }))
    }), 20_000)

  it.scopedLive("typed refusals: a plugin not running, an entry that is not go-plugin", () =>
    Effect.gen(function*() {
      const file = yield* config(false)
      yield* inContainer(file, (container) =>
        Effect.gen(function*() {
          const notRunning = yield* Effect.flip(GoPluginSession.use(container, "kv", () => Effect.void))
          expect(notRunning).toMatchObject({ _tag: "GoPluginSessionError", reason: "not-running" })
          expect(notRunning.message).toMatch(/Run the plugin first/)
          yield* container.run("cat")
          const notGoPlugin = yield* Effect.flip(GoPluginSession.current(container, "cat"))
          expect(notGoPlugin).toMatchObject({ _tag: "GoPluginSessionError", reason: "not-go-plugin" })
          expect(notGoPlugin.message).toMatch(/comm_type is "stdio"/)
        }))
    }), 20_000)
})
