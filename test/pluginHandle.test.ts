/**
 * The stable caller of a plugin handle, on the TestClock with fake generations and no processes: it
 * reaches the ready generation (read from the supervisor's mirror), follows a restart, waits while the
 * plugin restarts, reads the generation when it runs (not when it is built), and fails fast once the
 * plugin is stopped.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Queue, Stream, TestClock } from "effect"
import type { Generation } from "../src/CallerFactory.js"
import * as PluginHandle from "../src/PluginHandle.js"
import { PluginStartError } from "../src/PluginError.js"
import type { ExitInfo, PluginProcess } from "../src/ProcessRegistry.js"
import { defaultBackoff, type SupervisorPolicy } from "../src/Supervisor.js"

const policy: SupervisorPolicy = {
  restart: true,
  healthInterval: Duration.hours(1),
  healthTimeout: Duration.seconds(2),
  unhealthyAfter: 3,
  backoff: defaultBackoff,
  maxRestarts: 5,
  window: Duration.seconds(60)
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/** Generation `n` answers every exec with "gen <n>" and exits when its `exit` is completed. */
const harness = Effect.gen(function*() {
  const exits = yield* Queue.unbounded<Deferred.Deferred<ExitInfo>>()
  let started = 0
  const start = Effect.gen(function*() {
    const n = ++started
    const exit = yield* Deferred.make<ExitInfo>()
    yield* Queue.offer(exits, exit)
    const process = { id: n, host: "h", plugin: "p", pid: 1000 + n, awaitExit: Deferred.await(exit), stderrTail: Effect.succeed([]) }
    return {
      caller: {
        host: "h",
        plugin: "p",
        protocol: "fake",
        ping: Effect.succeed(`gen ${n}`),
        exec: () => Effect.succeed(new TextEncoder().encode(`gen ${n}`))
      },
      process: process as Partial<PluginProcess> as PluginProcess,
      port: undefined
    } satisfies Generation
  })
  const handle = yield* PluginHandle.make({
    host: "h",
    plugin: "p",
    protocol: "fake",
    callTimeout: Duration.seconds(30),
    policy,
    start,
    stoppedBeforeReady: () => new PluginStartError({ host: "h", plugin: "p", exec: "x", detail: "stopped" }),
    publish: () => Effect.void
  })
  return { handle, nextExit: Queue.take(exits) }
})

describe("PluginHandle's stable caller (TestClock, no processes)", () => {
  it.scoped("reaches the ready generation, waits through a restart, follows it, and fails fast once stopped", () =>
    Effect.gen(function*() {
      const { handle, nextExit } = yield* harness
      yield* handle.started
      const first = yield* nextExit
      // One effect value, run before and after the restart: the generation is read when it runs.
      const exec = handle.caller.exec("any", new Uint8Array())
      expect(text(yield* exec)).toBe("gen 1")
      expect(yield* handle.caller.ping).toBe("gen 1")

      yield* Deferred.succeed(first, { code: 1, signal: null })
      yield* Stream.runHead(Stream.filter(handle.changes, (state) => state._tag === "Restarting"))
      // A call made while the plugin restarts waits for the next generation instead of reaching the old one.
      const waiting = yield* Effect.fork(exec)
      yield* TestClock.adjust(Duration.millis(100))
      expect(text(yield* Fiber.join(waiting))).toBe("gen 2")
      expect(text(yield* exec)).toBe("gen 2")
      expect(yield* handle.caller.ping).toBe("gen 2")

      yield* handle.stop
      expect((yield* handle.state)._tag).toBe("Down")
      const refused = yield* Effect.flip(exec)
      expect(refused).toMatchObject({ _tag: "CallError", reason: "stopped", operation: "exec" })
      expect(yield* Effect.flip(handle.caller.ping)).toMatchObject({ _tag: "CallError", reason: "stopped", operation: "ping" })
    }))
})
