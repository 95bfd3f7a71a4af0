/**
 * A callback-style call as an Effect (`internal/cancellable.ts`): its outcome once, a cancellation
 * when the fiber that made it is interrupted (directly, by `Effect.timeout`, by a closing scope), no
 * cancellation of a call that already ended, and nothing kept per call on a long-lived fiber.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, TestClock } from "effect"
import { cancellable } from "../src/internal/cancellable.js"

/** A call whose outcome the test gives by hand, counting its cancellations. */
const manualCall = () => {
  const state = { cancelled: 0, started: 0, done: undefined as ((outcome: Effect.Effect<number, string>) => void) | undefined }
  const call = cancellable<number, string>((done) => {
    state.started++
    state.done = done
    return () => {
      state.cancelled++
    }
  })
  return { state, call }
}

/** Waits until the call has been started by its fiber. */
const started = (state: { readonly started: number }, count = 1) =>
  Effect.gen(function*() {
    while (state.started < count) yield* Effect.yieldNow()
  })

describe("cancellable", () => {
  it.effect("gives the call's value or failure, and does not cancel a call that ended", () =>
    Effect.gen(function*() {
      const { state, call } = manualCall()
      const fiber = yield* Effect.fork(Effect.zip(call, Effect.flip(call)))
      yield* started(state)
      state.done!(Effect.succeed(7))
      yield* started(state, 2)
      state.done!(Effect.fail("refused"))
      expect(yield* Fiber.join(fiber)).toEqual([7, "refused"])
      expect(state.cancelled).toBe(0)
    }))

  it.effect("an outcome given while starting is the answer", () =>
    Effect.gen(function*() {
      let cancelled = 0
      const value = yield* cancellable<string, never>((done) => {
        done(Effect.succeed("at once"))
        return () => {
          cancelled++
        }
      })
      expect(value).toBe("at once")
      expect(cancelled).toBe(0)
    }))

  it.effect("an interrupted call is cancelled once, and its late outcome is dropped", () =>
    Effect.gen(function*() {
      const { state, call } = manualCall()
      const fiber = yield* Effect.fork(call)
      yield* started(state)
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(state.cancelled).toBe(1)
      state.done!(Effect.succeed(1))
      expect(state.cancelled).toBe(1)
    }))

  it.effect("Effect.timeout cancels the call before it returns", () =>
    Effect.gen(function*() {
      const { state, call } = manualCall()
      const fiber = yield* Effect.fork(Effect.option(Effect.timeout(call, "1 second")))
      yield* started(state)
      yield* TestClock.adjust("1 second")
      expect((yield* Fiber.join(fiber))._tag).toBe("None")
      expect(state.cancelled).toBe(1)
    }))

  it.effect("a closing scope cancels the calls of the fibers it started", () =>
    Effect.gen(function*() {
      const { state, call } = manualCall()
      const ready = yield* Deferred.make<void>()
      yield* Effect.scoped(Effect.gen(function*() {
        yield* Effect.forkScoped(call)
        yield* Effect.forkScoped(call)
        yield* started(state, 2)
        yield* Deferred.succeed(ready, undefined)
      }))
      yield* Deferred.await(ready)
      expect(state.cancelled).toBe(2)
    }))

  it.effect("a long-lived fiber keeps nothing per call", () =>
    Effect.gen(function*() {
      // The runtime's own list of the fiber's exit observers: if it moves, this test must move with it.
      const observerCount = Effect.withFiberRuntime<number>((fiber) => {
        const observers: unknown = Reflect.get(fiber, "_observers")
        return Effect.succeed(Array.isArray(observers) ? observers.length : -1)
      })
      const before = yield* observerCount
      expect(before).toBeGreaterThanOrEqual(0)
      const immediate = cancellable<number, never>((done) => {
        setImmediate(() => done(Effect.succeed(1)))
        return () => {}
      })
      for (let i = 0; i < 2_000; i++) yield* immediate
      // (Other observers of the test's fiber may come and go; none may stay per call.)
      expect(yield* observerCount).toBeLessThanOrEqual(before)
    }))
})
