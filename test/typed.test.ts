/**
 * Typed plugins end to end: the billing contract served by real plugin processes over REST, gRPC and
 * stdio (TypeScript, and Python written from the printed JSON Schema alone), decoding failures in both
 * directions, and the in-process test double.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Logger, LogLevel, Schema } from "effect"
import * as path from "node:path"
import * as Executor from "../src/Executor.js"
import type { CallError } from "../src/PluginError.js"
import * as TypedPlugin from "../src/TypedPlugin.js"
import { BillingContract, Declined, UnknownCustomer } from "../examples/typed/contract.js"
import { billingHandlers } from "../examples/typed/handlers.js"
import { built, nodePlugin, type PluginEntry, renderConfig, root, survivors, tempDir, utf8, writeConfig } from "./helpers.js"
import { libraryLayer, recorder } from "./pipelineHelpers.js"

class Billing extends TypedPlugin.Tag("test/Billing", BillingContract)<Billing>() {}

const billingPlugin = (name: string, transport: "rest" | "grpc" | "stdio"): PluginEntry => ({
  ...nodePlugin(name, "examples/typed/billing-plugin.js", transport),
  args: [built("examples/typed/billing-plugin.js"), "--transport", transport]
})

const pythonBilling = (name: string): PluginEntry => {
  const script = path.join(root, "examples", "python", "typed_billing.py")
  return { name, exec: "python3", args: [script], execFile: script, commType: "stdio" }
}

/**
 * Runs `body` with the plugins of host "app" available through `Executor`; afterwards every process the
 * registry started must be gone.
 */
const withHost = <A, E>(
  plugins: ReadonlyArray<PluginEntry>,
  body: Effect.Effect<A, E, Executor.Executor>
) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const file = writeConfig(dir, renderConfig(plugins, { app: plugins.map((p) => p.name) }))
    const record = recorder()
    const result = yield* body.pipe(
      Effect.provide(libraryLayer(file, record)),
      Logger.withMinimumLogLevel(LogLevel.Warning)
    )
    expect(record.pids.length).toBeGreaterThan(0)
    expect(yield* survivors(record.pids)).toEqual([])
    return result
  })

/** What every implementation of the billing contract must do, through the typed client. */
const billingBehaviour = (expectedPlugin: string) =>
  Effect.gen(function*() {
    const billing = yield* Billing
    // currency is left out: the payload's default fills it in on the host's side.
    expect(yield* billing.charge({ customer: "alice", amount: 30 })).toEqual({
      id: "r-alice-3000",
      customer: "alice",
      amount: 30,
      currency: "EUR"
    })
    expect(yield* billing.health()).toEqual({ status: "ok", plugin: expectedPlugin })

    const declined = yield* Effect.flip(billing.charge({ customer: "alice", amount: 500, currency: "USD" }))
    expect(declined).toBeInstanceOf(Declined)
    expect(declined).toMatchObject({ _tag: "Declined", limit: 100, reason: "500 USD is over the limit" })
    const unknown = yield* Effect.flip(billing.charge({ customer: "carol", amount: 1 }))
    expect(unknown).toBeInstanceOf(UnknownCustomer)
    expect(unknown).toMatchObject({ customer: "carol" })

    // Refused on the host before anything is sent: the Schema's refinement (positive) fails.
    const negative = (yield* Effect.flip(billing.charge({ customer: "alice", amount: -1 }))) as CallError
    expect(negative).toMatchObject({ _tag: "CallError", reason: "protocol", command: "charge" })
    expect(negative.message).toContain("at $.amount: Expected a positive number, actual -1")
    expect(negative.message).toContain("it was not sent")
  })

/** The plugin's side of a payload that does not decode: a bad request naming the path. */
const badPayload = (plugin: string, alsoNotJson: boolean) =>
  Effect.gen(function*() {
    const container = yield* Executor.fromHost("app")
    const caller = yield* container.run(plugin)
    const wrong = yield* Effect.flip(caller.exec("charge", utf8(`{"customer":"alice","amount":"3"}`)))
    expect(wrong).toMatchObject({ _tag: "CallError", reason: "remote", command: "charge" })
    expect(wrong.message).toMatch(/the payload does not match the contract, at \$\.amount: Expected (a positive )?number/i)
    if (alsoNotJson) {
      const notJson = yield* Effect.flip(caller.exec("charge", utf8("amount=3")))
      expect(notJson.message).toContain("at $: the payload is not UTF-8 JSON")
    }
    return wrong
  })

describe("typed plugins over real processes", () => {
  for (const transport of ["rest", "grpc", "stdio"] as const) {
    it.scopedLive(`${transport}: typed calls, declared errors, bad payloads both ways; nothing left`, () =>
      withHost(
        [billingPlugin("billing", transport)],
        Effect.gen(function*() {
          yield* billingBehaviour(`ts-${transport}`)
          // stdio starts a process per call (each ~1 s on a loaded machine): one bad payload is enough there.
          const wrong = yield* badPayload("billing", transport !== "stdio")
          if (transport === "rest") expect(wrong.detail).toContain("HTTP 400")
          if (transport === "grpc") expect(wrong.detail).toMatch(/INVALID_ARGUMENT/)
        }).pipe(
          Effect.provide(Billing.layer({ host: "app", plugin: "billing" })),
          Effect.scoped
        )
      ))
  }

  it.scopedLive("Python, written from the printed JSON Schema alone (stdio), answers the typed client", () =>
    withHost(
      [pythonBilling("py_billing")],
      Effect.gen(function*() {
        yield* billingBehaviour("py-stdio")
        const container = yield* Executor.fromHost("app")
        const caller = yield* container.run("py_billing")
        const wrong = yield* Effect.flip(caller.exec("charge", utf8(`{"customer":"alice"}`)))
        expect(wrong.message).toContain("the payload does not match the contract, at $.amount: is missing")
      }).pipe(Effect.provide(Billing.layer({ host: "app", plugin: "py_billing" })), Effect.scoped)
    ))

  it.scopedLive("an answer that does not match the contract is a protocol CallError naming command and path", () => {
    class Odd extends RpcGroup.make(
      Rpc.make("wrongError", { error: Declined }),
      Rpc.make("bare", { success: Schema.Struct({ id: Schema.String }) })
    ) {}
    const liar = nodePlugin("liar", "test/fixtures/typed-liar.js", "rest")
    return withHost(
      [liar],
      Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const caller = yield* container.run("liar")
        const billing = TypedPlugin.make(BillingContract, caller)
        const odd = TypedPlugin.make(Odd, caller)
        const check = (error: CallError, command: string, detail: string) => {
          expect(error).toMatchObject({ _tag: "CallError", reason: "protocol", command, plugin: "liar", host: "app" })
          expect(error.message).toContain(`exec "${command}"`)
          expect(error.detail).toContain(detail)
        }
        check(
          (yield* Effect.flip(billing.charge({ customer: "alice", amount: 3 }))) as CallError,
          "charge",
          `the answer does not match the contract, at $.success.amount: Expected number, actual "3"`
        )
        check((yield* Effect.flip(billing.health())), "health", "at $: the answer is not UTF-8 JSON")
        check(
          (yield* Effect.flip(odd.wrongError())) as CallError,
          "wrongError",
          "at $.error.limit: is missing"
        )
        check((yield* Effect.flip(odd.bare())), "bare", `at $: expected an object with exactly one of "success" or "error"`)
      }).pipe(Effect.scoped)
    )
  })
})

describe("typed plugin test double", () => {
  it.effect("layerTest runs the contract's handlers in-process, through the same codec", () =>
    billingBehaviour("double").pipe(Effect.provide(Billing.layerTest(billingHandlers("double")))))

  it.effect("a handler's result that breaks the contract is the plugin's bug, not a success", () =>
    Effect.gen(function*() {
      const billing = yield* Billing
      const error = yield* Effect.flip(billing.charge({ customer: "alice", amount: 1 }))
      expect(error).toMatchObject({ _tag: "CallError", reason: "remote", command: "charge" })
      expect((error as CallError).detail).toContain("the plugin's result does not match the contract, at $.success.currency")
      // The message quotes the wrong value, cut short: a plugin's garbage must not make huge errors.
      expect((error as CallError).detail.length).toBeLessThan(1000)
    }).pipe(
      Effect.provide(
        Billing.layerTest({
          ...billingHandlers("double"),
          // Deliberately wrong at run time (the cast hides it from the compiler, as a bug in JS would).
          charge: ({ amount, customer }) =>
            Effect.succeed({ id: "r", customer, amount, currency: "GBP".repeat(10_000) as unknown as "EUR" })
        })
      )
    ))

  it.effect("null and void travel as null: a NullOr keeps its null, a void answer is undefined", () => {
    class Small extends RpcGroup.make(
      Rpc.make("maybe", { payload: Schema.NullOr(Schema.Number), success: Schema.NullOr(Schema.String) }),
      Rpc.make("forget", { payload: { id: Schema.String } })
    ) {}
    class SmallService extends TypedPlugin.Tag("test/Small", Small)<SmallService>() {}
    return Effect.gen(function*() {
      const small = yield* SmallService
      expect(yield* small.maybe(null)).toBeNull()
      expect(yield* small.maybe(2)).toBe("2")
      expect(yield* small.forget({ id: "x" })).toBeUndefined()
    }).pipe(
      Effect.provide(SmallService.layerTest({
        maybe: (n) => Effect.succeed(n === null ? null : String(n)),
        forget: () => Effect.void
      }))
    )
  })
})
