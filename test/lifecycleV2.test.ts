/**
 * Core v2 behaviours of a container on real processes: concurrent runs share one start, a caller
 * asked for during start-up waits for readiness, a normal stop is logged as a stop (never as a
 * crash), and plugin output is decoded as UTF-8 across writes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Fiber, Schedule } from "effect"
import * as path from "node:path"
import * as Executor from "../src/Executor.js"
import * as GoPlugin from "../src/GoPlugin.js"
import { captureLogs, nodePlugin, renderConfig, root, survivors, tempDir, testLayer, text, utf8, writeConfig } from "./helpers.js"



const hostOf = (plugins: Parameters<typeof renderConfig>[0]) =>
  Effect.map(tempDir, (dir) => writeConfig(dir, renderConfig(plugins, { app: plugins.map((p) => p.name) })))

describe("container lifecycle (Core v2)", () => {
  it.scopedLive("8 fibers run one plugin at once: one process, the rest told which pid runs it; caller() waits for readiness", () =>
    Effect.gen(function*() {
      const file = yield* hostOf([nodePlugin("ts_rest", "examples/rest-plugin.cjs", "rest")])
      const pids: Array<number> = []
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const runs = yield* Effect.fork(Effect.all(Array.from({ length: 8 }, () => Effect.either(container.run("ts_rest"))), { concurrency: "unbounded" }))
        // Asked for while the plugin starts (as soon as a run registered it), the caller waits for it instead of failing.
        const starting = yield* Effect.retry(container.caller("ts_rest"), Schedule.spaced("1 millis"))
        const early = yield* Effect.fork(starting.exec("upper", utf8("early")))
        const results = yield* Fiber.join(runs)
        const running = yield* container.running
        expect(running.length).toBe(1)
        const pid = running[0]!.process!.pid
        pids.push(pid)
        expect(results.filter(Either.isRight).length).toBe(1)
        const refusals = results.filter(Either.isLeft).map((result) => result.left)
        expect(refusals.length).toBe(7)
        for (const refusal of refusals) expect(refusal).toMatchObject({ _tag: "PluginAlreadyRunning", pid })
        expect(text(yield* Fiber.join(early))).toBe("EARLY")
      }).pipe(Effect.scoped, Effect.provide(testLayer(file)))
      expect(yield* survivors(pids)).toEqual([])
    }))

  it.scopedLive("a normal stop logs no warning: the stop is a debug entry, not a crash", () =>
    Effect.gen(function*() {
      const file = yield* hostOf([
        nodePlugin("ts_rest", "examples/rest-plugin.cjs", "rest"),
        nodePlugin("ts_grpc", "examples/grpc-plugin.js", "grpc")
      ])
      const logs = captureLogs()
      const pids: Array<number> = []
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        yield* container.run("ts_rest")
        yield* container.run("ts_grpc")
        pids.push(...(yield* container.running).map((p) => p.process!.pid))
        yield* container.kill("ts_rest")
        // ts_grpc is stopped by the scope's end.
      }).pipe(Effect.scoped, Effect.provide(GoPlugin.layer({ configFile: file })), Effect.provide(logs.layer), Effect.provide(logs.everyLevel))
      expect(yield* survivors(pids)).toEqual([])
      const loud = logs.lines.filter((entry) => entry.level === "WARN" || entry.level === "ERROR" || entry.level === "FATAL")
      expect(loud).toEqual([])
      const stops = logs.lines.filter((entry) => entry.message === "stopped at the host's request")
      expect(stops.map((entry) => entry.annotations["plugin"]).sort()).toEqual(["ts_grpc", "ts_rest"])
      expect(stops.every((entry) => entry.level === "DEBUG")).toBe(true)
    }))

  it.scopedLive("a plugin writing \"héllo\" split inside a character across two writes is logged as one whole line", () =>
    Effect.gen(function*() {
      const script = path.join(root, "test", "fixtures", "split-utf8.sh")
      const file = yield* hostOf([{ name: "split", exec: script, execFile: script, commType: "stdio" }])
      const logs = captureLogs()
      yield* Effect.gen(function*() {
        const caller = yield* (yield* Executor.fromHost("app")).run("split")
        expect(yield* caller.ping).toBe("pong")
      }).pipe(Effect.scoped, Effect.provide(GoPlugin.layer({ configFile: file })), Effect.provide(logs.layer), Effect.provide(logs.everyLevel))
      const lines = logs.lines.filter((entry) => entry.annotations["stream"] === "stderr")
      expect(lines.map((entry) => entry.message)).toEqual(["héllo"])
      expect(lines[0]!.annotations).toMatchObject({ host: "app", plugin: "split" })
    }))
})
