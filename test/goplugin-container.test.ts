/**
 * The go-plugin fixture (test/fixtures/go/kvplugin, go-plugin 1.0.1) run from a config as
 * `comm_type = "go-plugin"`, through `Executor.fromHost` and `container.run`, plain and with AutoMTLS:
 * Ping, calls (also through `JsonClient`), hclog lines at their levels, a SIGKILL answered by the
 * supervisor's restart, a normal stop that leaves nothing and logs no warning, and the typed refusals.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Either } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll } from "vitest"
import * as Executor from "../src/Executor.js"
import * as GoPlugin from "../src/GoPlugin.js"
import * as JsonClient from "../src/goplugin/JsonClient.js"
import type { PluginProcess } from "../src/ProcessRegistry.js"
import type { SupervisorEvent } from "../src/Supervisor.js"
import { goFixtures, kvGoPluginTable, kvProto, testMarker } from "./goFixtures.js"

const marker = testMarker()
import { captureLogs, processesMentioning, renderConfig, survivors, tempDir, utf8, text, writeConfig } from "./helpers.js"



type KV = {
  Get: { request: { key: string }; response: { value: string; found: boolean } }
  Put: { request: { key: string; value: string }; response: object }
}

let kvplugin = ""
beforeAll(() => {
  kvplugin = goFixtures().kvplugin
}, 180_000)

// proto_files relative: resolved against the config file's folder.
const goPluginTable = (name: string, autoMtls: boolean, cookie?: string) =>
  kvGoPluginTable(name, autoMtls, { protoFile: "protos/kv.proto", ...(cookie === undefined ? {} : { cookie }) })

/** A config in a fresh folder (kv.proto beside it) with the given go-plugin entries, all allowed to host "app". */
const configWith = (
  entries: ReadonlyArray<{ readonly name: string; readonly table: string; readonly args?: ReadonlyArray<string> }>,
  settings = ""
) =>
  Effect.map(tempDir, (dir) => {
    fs.mkdirSync(path.join(dir, "protos"))
    fs.copyFileSync(kvProto, path.join(dir, "protos", "kv.proto"))
    const plugins = entries.map(({ args, name, table }) => ({ name, exec: kvplugin, args: [...(args ?? []), marker], execFile: kvplugin, commType: "go-plugin", extra: table }))
    return writeConfig(dir, renderConfig(plugins, { app: entries.map((e) => e.name) }, settings))
  })

describe("go-plugin through the container", () => {
  for (const autoMtls of [false, true]) {
    it.scopedLive(`${autoMtls ? "AutoMTLS" : "plain"}: Ping, exec of a method, JsonClient; a normal stop leaves nothing and logs no warning`, () =>
      Effect.gen(function*() {
        const file = yield* configWith([{ name: "kv", table: goPluginTable("kv", autoMtls) }])
        const logs = captureLogs()
        const pids: Array<number> = []
        const processes: Array<PluginProcess> = []
        yield* Effect.gen(function*() {
          const container = yield* Executor.fromHost("app")
          const caller = yield* container.run("kv")
          expect(caller.protocol).toBe("go-plugin")
          const plugin = (yield* container.running)[0]!.process!
          pids.push(plugin.pid)
          processes.push(plugin)
          expect(yield* caller.ping).toBe("SERVING")
          yield* caller.exec("kv.KV/Put", utf8(JSON.stringify({ key: "greeting", value: Buffer.from("héllo").toString("base64") })))
          const answer = JSON.parse(text(yield* caller.exec("kv.KV/Get", utf8(`{"key":"greeting"}`))))
          expect(answer).toEqual({ value: Buffer.from("héllo").toString("base64"), found: true })
          const kv = yield* JsonClient.fromContainer<KV>(container, "kv", "kv.KV")
          expect(yield* kv.call("Get", { key: "missing" })).toEqual({ value: "", found: false })
          const unknown = yield* Effect.flip(caller.exec("kv.KV/Nope", utf8("{}")))
          expect(unknown).toMatchObject({ _tag: "CallError", reason: "refused" })
          expect(unknown.detail).toMatch(/kv\.KV has no unary method Nope/)
          const notJson = yield* Effect.flip(caller.exec("kv.KV/Get", utf8("{key")))
          expect(notJson.detail).toMatch(/not UTF-8 JSON/)
          const otherService = yield* Effect.flip(caller.exec("kv.Adder/Add", utf8("{}")))
          expect(otherService.detail).toMatch(/not one of the entry's services \(kv\.KV\)/)
        }).pipe(Effect.scoped, Effect.provide(GoPlugin.layer({ configFile: file })), Effect.provide(logs.layer), Effect.provide(logs.everyLevel))
        expect(yield* survivors(pids)).toEqual([])
        expect(processesMentioning(marker)).toEqual([])
        const loud = logs.lines.filter((entry) => ["WARN", "ERROR", "FATAL"].includes(entry.level))
        expect(loud).toEqual([])
        // Shutdown asked the plugin to exit and it did, on its own: the registry never had to signal it.
        expect(yield* processes[0]!.awaitExit).toMatchObject({ code: 0, signal: null })
        const stops = logs.lines.filter((entry) => entry.message === "stopped at the host's request")
        expect(stops.map((entry) => entry.level)).toEqual(["DEBUG"])
      }), 20_000)
  }

  it.scopedLive("stop order: Shutdown, then the plugin may finish exiting by itself before any signal (exit 0, not SIGTERM)", () =>
    Effect.gen(function*() {
      const file = yield* configWith([{ name: "kv", table: goPluginTable("kv", false), args: ["--slow-exit"] }])
      const processes: Array<PluginProcess> = []
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        yield* container.run("kv")
        processes.push((yield* container.running)[0]!.process!)
      }).pipe(Effect.scoped, Effect.provide(GoPlugin.layer({ configFile: file })))
      expect(yield* processes[0]!.awaitExit).toMatchObject({ code: 0, signal: null })
      expect(processesMentioning(marker)).toEqual([])
    }), 20_000)

  it.scopedLive("hclog lines on stderr become log entries at their levels, with their fields as annotations", () =>
    Effect.gen(function*() {
      const file = yield* configWith([{ name: "kv", table: goPluginTable("kv", true) }])
      const logs = captureLogs()
      yield* Effect.gen(function*() {
        const caller = yield* (yield* Executor.fromHost("app")).run("kv")
        yield* caller.exec("kv.KV/Noise", new Uint8Array())
        // The lines arrive on the stderr pipe after the answer: wait for the last one.
        while (!logs.lines.some((entry) => entry.message === "an unprefixed line")) yield* Effect.sleep("5 millis")
      }).pipe(Effect.scoped, Effect.provide(GoPlugin.layer({ configFile: file })), Effect.provide(logs.layer), Effect.provide(logs.everyLevel))
      const byMessage = (message: string) => logs.lines.find((entry) => entry.message === message)
      expect(byMessage("noise at trace")).toMatchObject({ level: "TRACE", annotations: { n: 1, plugin: "kv", host: "app", stream: "stderr" } })
      expect(byMessage("noise at debug")).toMatchObject({ level: "DEBUG", annotations: { n: 2 } })
      expect(byMessage("noise at info")).toMatchObject({ level: "INFO", annotations: { n: 3, module: "kvplugin" } })
      expect(byMessage("noise at warn")).toMatchObject({ level: "WARN", annotations: { n: 4 } })
      expect(byMessage("noise at error")).toMatchObject({ level: "ERROR", annotations: { n: 5, what: "disk full" } })
      expect(byMessage("[WARN] a plain warning line")).toMatchObject({ level: "WARN" })
      expect(byMessage("an unprefixed line")).toMatchObject({ level: "DEBUG" })
      expect(processesMentioning(marker)).toEqual([])
    }), 20_000)

  it.scopedLive("a SIGKILLed plugin is restarted by the supervisor; the same caller works after", () =>
    Effect.gen(function*() {
      const file = yield* configWith([{ name: "kv", table: goPluginTable("kv", true) }], "health_interval = 0.2")
      const logs = captureLogs()
      const pids: Array<number> = []
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const restarted = yield* Deferred.make<SupervisorEvent>()
        yield* container.onEvent((event) => (event._tag === "PluginRestarted" ? Deferred.succeed(restarted, event) : Effect.void))
        const caller = yield* container.run("kv")
        const pid = (yield* container.running)[0]!.process!.pid
        pids.push(pid)
        process.kill(pid, "SIGKILL")
        expect(yield* Deferred.await(restarted)).toMatchObject({ _tag: "PluginRestarted", plugin: "kv", attempt: 1 })
        const newPid = (yield* container.running)[0]!.process!.pid
        pids.push(newPid)
        expect(newPid).not.toBe(pid)
        expect(yield* caller.ping).toBe("SERVING")
        const answer = JSON.parse(text(yield* caller.exec("kv.KV/Get", utf8(`{"key":"k"}`))))
        expect(answer).toEqual({ value: "", found: false })
      }).pipe(Effect.scoped, Effect.provide(GoPlugin.layer({ configFile: file })), Effect.provide(logs.layer))
      expect(logs.lines.some((entry) => entry.level === "WARN" && /killed by SIGKILL/.test(entry.message))).toBe(true)
      expect(yield* survivors(pids)).toEqual([])
      expect(processesMentioning(marker)).toEqual([])
    }), 20_000)

  it.scopedLive("typed refusals: a wrong cookie (the plugin's own message), no go_plugin table; nothing left running", () =>
    Effect.gen(function*() {
      const file = yield* configWith([
        { name: "wrong", table: goPluginTable("wrong", true, "not-the-cookie") },
        { name: "bare", table: "" }
      ], "restart = false")
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const wrong = yield* Effect.either(container.run("wrong"))
        expect(Either.isLeft(wrong) && wrong.left._tag).toBe("PluginExited")
        expect(Either.isLeft(wrong) && wrong.left.message).toMatch(/not meant to be executed directly/)
        const bare = yield* Effect.either(container.run("bare"))
        expect(Either.isLeft(bare) && bare.left._tag).toBe("PluginStartError")
        expect(Either.isLeft(bare) && bare.left.message).toMatch(/\[plugins\.bare\.go_plugin\] is missing/)
      }).pipe(Effect.scoped, Effect.provide(GoPlugin.layer({ configFile: file })))
      expect(processesMentioning(marker)).toEqual([])
    }), 20_000)
})
