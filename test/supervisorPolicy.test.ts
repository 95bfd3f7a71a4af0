/**
 * The supervisor's policy on the TestClock, with fake generations and no processes: backoff delays,
 * the crash budget's window, give-up, health checks, restart off, and a stop that is not a crash.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Deferred, Duration, Effect, Exit, Fiber, Option, Queue, Ref, Scope, SubscriptionRef, TestClock } from "effect"
import type { Generation } from "../src/CallerFactory.js"
import { callError } from "../src/internal/callResult.js"
import { PluginStartError, type StartError } from "../src/PluginError.js"
import type { ExitInfo, PluginProcess } from "../src/ProcessRegistry.js"
import {
  defaultBackoff,
  PluginState,
  supervise,
  type SupervisorEvent,
  type SupervisorPolicy
} from "../src/Supervisor.js"

const policy: SupervisorPolicy = {
  restart: true,
  healthInterval: Duration.seconds(5),
  healthTimeout: Duration.seconds(2),
  unhealthyAfter: 3,
  backoff: defaultBackoff,
  maxRestarts: 3,
  window: Duration.seconds(60)
}

/** A generation whose process exits when `exit` is completed and whose Ping answers as `healthy` says. */
interface FakeGeneration {
  readonly generation: Generation
  readonly exit: Deferred.Deferred<ExitInfo>
  readonly healthy: Ref.Ref<boolean>
  readonly released: Deferred.Deferred<void>
}

const fakeGeneration = (pid: number): Effect.Effect<FakeGeneration, never, Scope.Scope> =>
  Effect.gen(function*() {
    const exit = yield* Deferred.make<ExitInfo>()
    const healthy = yield* Ref.make(true)
    const released = yield* Deferred.make<void>()
    yield* Effect.addFinalizer(() => Deferred.succeed(released, undefined))
    const target = { host: "h", plugin: "p" }
    const process = {
      id: pid,
      host: "h",
      plugin: "p",
      pid,
      awaitExit: Deferred.await(exit),
      stderrTail: Effect.succeed(["last words"])
    } as Partial<PluginProcess> as PluginProcess
    const generation: Generation = {
      caller: {
        host: "h",
        plugin: "p",
        protocol: "fake",
        ping: Effect.flatMap(Ref.get(healthy), (ok) =>
          ok ? Effect.succeed("pong") : Effect.fail(callError(target, "ping", undefined, "timeout", "no answer"))),
        exec: () => Effect.succeed(new Uint8Array())
      },
      process,
      port: undefined
    }
    return { generation, exit, healthy, released }
  })

/** Runs a supervisor whose starts take fakes from `starts` (a failure when the queue holds a StartError). */
const harness = (overrides: Partial<SupervisorPolicy> = {}) =>
  Effect.gen(function*() {
    const events = yield* Queue.unbounded<SupervisorEvent>()
    const generations = yield* Queue.unbounded<FakeGeneration | StartError>()
    const state = yield* SubscriptionRef.make<PluginState>(PluginState.Starting())
    const firstStart = yield* Deferred.make<Generation, StartError>()
    let pid = 100
    const start = Effect.gen(function*() {
      const next = yield* fakeGeneration(++pid)
      yield* generations.offer(next)
      return next.generation
    })
    const fiber = yield* Effect.fork(supervise({
      host: "h",
      plugin: "p",
      policy: { ...policy, ...overrides },
      start,
      state,
      firstStart,
      stoppedBeforeReady: () => new PluginStartError({ host: "h", plugin: "p", exec: "x", detail: "stopped" }),
      publish: (event) => Queue.offer(events, event)
    }))
    const nextGeneration = Effect.flatMap(Queue.take(generations), (g) =>
      "generation" in g ? Effect.succeed(g) : Effect.die("unexpected start error"))
    const nextEvent = Queue.take(events)
    return { fiber, state, firstStart, nextGeneration, nextEvent, events }
  })

const crash = (g: FakeGeneration) => Deferred.succeed(g.exit, { code: 1, signal: null })

describe("Supervisor policy (TestClock, no processes)", () => {
  it.scoped("restarts after a crash with exponential backoff: 100 ms, 200 ms, 400 ms", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      const first = yield* h.nextGeneration
      expect((yield* Deferred.await(h.firstStart)).process?.pid).toBe(101)
      for (const [attempt, delay] of [[1, 100], [2, 200], [3, 400]] as const) {
        const current = attempt === 1 ? first : yield* h.nextGeneration
        if (attempt > 1) expect(yield* h.nextEvent).toMatchObject({ _tag: "PluginRestarted", attempt: attempt - 1 })
        yield* crash(current)
        expect(yield* h.nextEvent).toMatchObject({ _tag: "PluginCrashed", exitCode: 1, lastStderr: ["last words"] })
        // The failed generation is released before the next one starts; calls wait meanwhile.
        yield* Deferred.await(current.released)
        expect((yield* SubscriptionRef.get(h.state))._tag).toBe("Restarting")
        yield* TestClock.adjust(Duration.millis(delay - 1))
        expect(yield* Queue.size(h.events)).toBe(0)
        yield* TestClock.adjust(Duration.millis(1))
        expect(yield* h.nextEvent).toMatchObject({ _tag: "PluginRestarting", attempt, delayMillis: delay })
      }
    }))

  it.scoped("gives up when the crash budget is spent within the window, and says so", () =>
    Effect.gen(function*() {
      const h = yield* harness({ maxRestarts: 2 })
      yield* crash(yield* h.nextGeneration)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* crash(yield* h.nextGeneration)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* crash(yield* h.nextGeneration)
      const seen: Array<SupervisorEvent["_tag"]> = []
      let event: SupervisorEvent
      do {
        event = yield* h.nextEvent
        seen.push(event._tag)
      } while (event._tag !== "PluginGaveUp")
      expect(event).toMatchObject({ restarts: 2, windowMillis: 60_000 })
      yield* Fiber.join(h.fiber)
      const final = yield* SubscriptionRef.get(h.state)
      expect(final._tag).toBe("Down")
      expect(final._tag === "Down" && final.reason).toMatch(/2 restarts within 1m; last failure: exited with code 1/)
    }))

  it.scoped("crashes spread wider than the window never spend the budget, and backoff starts over", () =>
    Effect.gen(function*() {
      const h = yield* harness({ maxRestarts: 1, window: Duration.seconds(10) })
      for (let round = 1; round <= 4; round++) {
        yield* crash(yield* h.nextGeneration)
        expect(yield* h.nextEvent).toMatchObject({ _tag: "PluginCrashed" })
        yield* TestClock.adjust(Duration.millis(100))
        expect(yield* h.nextEvent).toMatchObject({ _tag: "PluginRestarting", attempt: round, delayMillis: 100 })
        expect(yield* h.nextEvent).toMatchObject({ _tag: "PluginRestarted", attempt: round })
        yield* TestClock.adjust(Duration.seconds(11))
      }
      expect((yield* SubscriptionRef.get(h.state))._tag).toBe("Ready")
    }))

  it.scoped("a plugin that stops answering Pings is unhealthy after `unhealthyAfter` failures in a row", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      const first = yield* h.nextGeneration
      yield* TestClock.adjust(Duration.seconds(5))
      yield* Ref.set(first.healthy, false)
      yield* TestClock.adjust(Duration.seconds(10))
      expect(yield* Queue.size(h.events)).toBe(0)
      yield* TestClock.adjust(Duration.seconds(5))
      expect(yield* h.nextEvent).toMatchObject({
        _tag: "PluginUnhealthy",
        pid: 101,
        reason: "3 health Pings in a row failed (last: no answer)"
      })
      yield* Deferred.await(first.released)
    }))

  it.scoped("with restart off, the first failure leaves the plugin down", () =>
    Effect.gen(function*() {
      const h = yield* harness({ restart: false })
      yield* crash(yield* h.nextGeneration)
      yield* Fiber.join(h.fiber)
      const final = yield* SubscriptionRef.get(h.state)
      expect(final._tag === "Down" && final.reason).toBe("exited with code 1; restart is off for this plugin")
      expect((yield* h.nextEvent)._tag).toBe("PluginCrashed")
      expect(yield* Queue.size(h.events)).toBe(0)
    }))

  it.scoped("a stop is not a crash: interrupting the supervisor releases the generation and publishes nothing", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      const first = yield* h.nextGeneration
      yield* Fiber.interrupt(h.fiber)
      yield* Deferred.await(first.released)
      yield* crash(first)
      expect(yield* Queue.size(h.events)).toBe(0)
      expect(yield* SubscriptionRef.get(h.state)).toEqual(PluginState.Down({ reason: "the plugin was stopped" }))
    }))

  it.scoped("a first start that fails reports its error and leaves the plugin down", () =>
    Effect.gen(function*() {
      const state = yield* SubscriptionRef.make<PluginState>(PluginState.Starting())
      const firstStart = yield* Deferred.make<Generation, StartError>()
      const error = new PluginStartError({ host: "h", plugin: "p", exec: "/x", detail: "ENOENT" })
      yield* supervise({
        host: "h",
        plugin: "p",
        policy,
        start: Effect.fail(error),
        state,
        firstStart,
        stoppedBeforeReady: () => error,
        publish: () => Effect.void
      })
      expect(yield* Effect.flip(Deferred.await(firstStart))).toBe(error)
      expect((yield* SubscriptionRef.get(state))._tag).toBe("Down")
    }))

  it.scoped("a start that dies fails the first start with the defect and leaves the plugin down, not pending", () =>
    Effect.gen(function*() {
      const state = yield* SubscriptionRef.make<PluginState>(PluginState.Starting())
      const firstStart = yield* Deferred.make<Generation, StartError>()
      const boom = new Error("boom")
      const ended = yield* Effect.exit(supervise({
        host: "h",
        plugin: "p",
        policy,
        start: Effect.die(boom),
        state,
        firstStart,
        stoppedBeforeReady: () => new PluginStartError({ host: "h", plugin: "p", exec: "x", detail: "stopped" }),
        publish: () => Effect.void
      }))
      expect(Exit.isFailure(ended) && Cause.isDie(ended.cause)).toBe(true)
      const started = yield* Effect.exit(Deferred.await(firstStart))
      expect(Exit.isFailure(started) && Option.getOrUndefined(Cause.dieOption(started.cause))).toBe(boom)
      expect(yield* SubscriptionRef.get(state)).toEqual(PluginState.Down({ reason: "the supervisor failed unexpectedly: boom" }))
    }))

  it.scoped("a defect after the first start (an event listener that dies) leaves the plugin down, not looking ready", () =>
    Effect.gen(function*() {
      const state = yield* SubscriptionRef.make<PluginState>(PluginState.Starting())
      const firstStart = yield* Deferred.make<Generation, StartError>()
      const fake = yield* fakeGeneration(7)
      const fiber = yield* Effect.fork(supervise({
        host: "h",
        plugin: "p",
        policy,
        start: Effect.succeed(fake.generation),
        state,
        firstStart,
        stoppedBeforeReady: () => new PluginStartError({ host: "h", plugin: "p", exec: "x", detail: "stopped" }),
        publish: (event) => (event._tag === "PluginCrashed" ? Effect.die(new Error("the listener broke")) : Effect.void)
      }))
      expect((yield* Deferred.await(firstStart)).process?.pid).toBe(7)
      yield* crash(fake)
      const ended = yield* Fiber.await(fiber)
      expect(Exit.isFailure(ended) && Cause.isDie(ended.cause)).toBe(true)
      expect(yield* SubscriptionRef.get(state)).toEqual(PluginState.Down({ reason: "the supervisor failed unexpectedly: the listener broke" }))
    }))
})
