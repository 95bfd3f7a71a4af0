import { describe, expect, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Either, Fiber, Stream } from "effect"
import type { CallError } from "../src/PluginError.js"
import * as Executor from "../src/Executor.js"
import type { SupervisorEvent } from "../src/Supervisor.js"
import { isAlive, nodePlugin, renderConfig, survivors, tempDir, testLayer, text, utf8, writeConfig } from "./helpers.js"

const hostWith = (plugin: Parameters<typeof nodePlugin>, settings: string) =>
  Effect.map(tempDir, (dir) => writeConfig(dir, renderConfig([nodePlugin(...plugin)], { app: [plugin[0]] }, settings)))

describe("supervision", () => {
  it.scopedLive("kill -9 under 8 concurrent callers: every call succeeds or fails typed, the plugin restarts, the same caller works after", () =>
    Effect.gen(function*() {
      const file = yield* hostWith(["ts_rest", "examples/rest-plugin.cjs", "rest"], "health_interval = 0.2")
      const pids: Array<number> = []
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const seen: Array<SupervisorEvent["_tag"]> = []
        yield* container.onEvent((event) => Effect.sync(() => seen.push(event._tag)))
        const restarted = yield* Deferred.make<SupervisorEvent>()
        const duringRestart = yield* Deferred.make<Either.Either<Uint8Array, CallError>>()
        const caller = yield* container.run("ts_rest")
        yield* container.onEvent((event) =>
          event._tag === "PluginRestarting"
            ? Effect.flatMap(Effect.either(caller.exec("echo", utf8("now?"), { timeout: "5 millis" })), (result) =>
              Deferred.succeed(duringRestart, result))
            : event._tag === "PluginRestarted"
            ? Deferred.succeed(restarted, event)
            : Effect.void
        )
        const [first] = yield* container.running
        const pid = first!.process!.pid
        pids.push(pid)

        let calls = 0
        const worker = (id: number) =>
          Effect.forEach(Array.from({ length: 40 }, (_, i) => i), (i) => {
            const payload = utf8(`worker ${id} call ${i}`)
            return Effect.either(caller.exec("echo", payload)).pipe(
              Effect.tap(() => Effect.sync(() => calls++)),
              Effect.map((result) => ({ payload, result }))
            )
          })
        const workers = yield* Effect.forEach(Array.from({ length: 8 }, (_, id) => id), (id) => Effect.fork(worker(id)))
        while (calls < 40) yield* Effect.sleep("2 millis")
        process.kill(pid, "SIGKILL")
        const results = (yield* Effect.forEach(workers, Fiber.join)).flat()

        expect(results.length).toBe(320)
        for (const { payload, result } of results) {
          if (Either.isRight(result)) expect(text(result.right)).toBe(text(payload))
          else expect(result.left._tag).toBe("CallError")
        }
        const event = yield* Deferred.await(restarted)
        expect(event).toMatchObject({ _tag: "PluginRestarted", plugin: "ts_rest", attempt: 1 })
        const during = yield* Deferred.await(duringRestart)
        expect(Either.isLeft(during) && during.left.reason).toBe("restarting")

        const [second] = yield* container.running
        const newPid = second!.process!.pid
        pids.push(newPid)
        expect(newPid).not.toBe(pid)
        expect(isAlive(pid)).toBe(false)
        expect(text(yield* caller.exec("upper", utf8("after the restart")))).toBe("AFTER THE RESTART")
        expect(yield* container.caller("ts_rest")).toBe(caller)
        expect(seen.slice(0, 3)).toEqual(["PluginCrashed", "PluginRestarting", "PluginRestarted"])
      }).pipe(Effect.scoped, Effect.provide(testLayer(file)))
      expect(yield* survivors(pids)).toEqual([])
    }))

  it.scopedLive("gives up after the crash budget, with a final event, and calls then fail as stopped", () =>
    Effect.gen(function*() {
      const file = yield* hostWith(["flaky", "test/fixtures/short-lived.js", "rest"], "max_restarts = 2\nrestart_window = 60")
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const events = yield* (yield* container.events).pipe(
          Stream.takeUntil((event) => event._tag === "PluginGaveUp"),
          Stream.runCollect,
          Effect.fork
        )
        const caller = yield* container.run("flaky")
        const collected = Chunk.toReadonlyArray(yield* Fiber.join(events))
        expect(collected.map((e) => e._tag)).toEqual([
          "PluginCrashed",
          "PluginRestarting",
          "PluginRestarted",
          "PluginCrashed",
          "PluginRestarting",
          "PluginRestarted",
          "PluginCrashed",
          "PluginGaveUp"
        ])
        const crash = collected[0]!
        expect(crash).toMatchObject({ exitCode: 9, lastStderr: expect.arrayContaining(["short-lived: giving up on purpose"]) })
        expect(collected[7]).toMatchObject({ restarts: 2, windowMillis: 60_000 })
        const error = yield* Effect.flip(caller.exec("echo", utf8("anyone?")))
        expect(error).toMatchObject({ _tag: "CallError", reason: "stopped" })
        expect(error.detail).toContain("2 restarts within 1m")
        expect(yield* container.running).toEqual([])
      }).pipe(Effect.scoped, Effect.provide(testLayer(file)))
    }))

  it.scopedLive("a plugin that stops answering (SIGSTOP) is found unhealthy by the health Ping and replaced", () =>
    Effect.gen(function*() {
      const file = yield* hostWith(
        ["ts_rest", "examples/rest-plugin.cjs", "rest"],
        "health_interval = 0.05\nhealth_timeout = 0.1\nunhealthy_after = 2\nstop_grace = 0.2"
      )
      const pids: Array<number> = []
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const events = yield* (yield* container.events).pipe(
          Stream.takeUntil((event) => event._tag === "PluginRestarted"),
          Stream.runCollect,
          Effect.fork
        )
        const caller = yield* container.run("ts_rest")
        const [first] = yield* container.running
        pids.push(first!.process!.pid)
        process.kill(first!.process!.pid, "SIGSTOP")
        const collected = Chunk.toReadonlyArray(yield* Fiber.join(events))
        expect(collected.map((e) => e._tag)).toEqual(["PluginUnhealthy", "PluginRestarting", "PluginRestarted"])
        expect(collected[0]).toMatchObject({ pid: first!.process!.pid, reason: expect.stringContaining("2 health Pings in a row failed") })
        const [second] = yield* container.running
        pids.push(second!.process!.pid)
        expect(text(yield* caller.exec("echo", utf8("fresh")))).toBe("fresh")
      }).pipe(Effect.scoped, Effect.provide(testLayer(file)))
      expect(yield* survivors(pids)).toEqual([])
    }))
})
