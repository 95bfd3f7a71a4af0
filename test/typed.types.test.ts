/**
 * Compile-time proof of the typed path: `npm test` typechecks this file first, so each
 * `@ts-expect-error` below must meet a real type error (an unused one fails the typecheck), and the
 * `expectTypeOf` assertions pin what the client and the handlers infer from the contract.
 */
import { Effect } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import { BillingContract, Declined, UnknownCustomer } from "../examples/typed/contract.js"
import type { CallError, CommandFailed } from "../src/PluginError.js"
import type { HandlerContext } from "../src/sdk/Handler.js"
import { contractHandlers, type HandlersOf } from "../src/sdk/ContractHandlers.js"
import * as TypedPlugin from "../src/TypedPlugin.js"

class Billing extends TypedPlugin.Tag("types/Billing", BillingContract)<Billing>() {}

type Receipt = {
  readonly id: string
  readonly customer: string
  readonly amount: number
  readonly currency: "EUR" | "USD"
}

const health = () => Effect.succeed({ status: "ok" as const, plugin: "types" })

describe("typed client", () => {
  it("infers payload, success and error of every command from the contract", () => {
    type Client = TypedPlugin.ClientOf<typeof BillingContract>
    expectTypeOf<keyof Client>().toEqualTypeOf<"charge" | "health">()
    expectTypeOf<Parameters<Client["charge"]>[0]>().toEqualTypeOf<{
      readonly customer: string
      readonly amount: number
      readonly currency?: "EUR" | "USD"
    }>()
    expectTypeOf<Effect.Effect.Success<ReturnType<Client["charge"]>>>().toEqualTypeOf<Receipt>()
    expectTypeOf<Effect.Effect.Error<ReturnType<Client["charge"]>>>().toEqualTypeOf<Declined | UnknownCustomer | CallError>()
    expectTypeOf<Effect.Effect.Error<ReturnType<Client["health"]>>>().toEqualTypeOf<CallError>()

    const program = Effect.gen(function*() {
      const billing = yield* Billing
      const receipt = yield* billing.charge({ customer: "alice", amount: 3 })
      expectTypeOf(receipt).toEqualTypeOf<Receipt>()
      return yield* billing.health()
    })
    expectTypeOf(program).toEqualTypeOf<
      Effect.Effect<{ readonly status: "ok"; readonly plugin: string }, Declined | UnknownCustomer | CallError, Billing>
    >()
  })

  it("refuses wrong payloads and unknown commands", () => {
    Effect.gen(function*() {
      const billing = yield* Billing
      // @ts-expect-error amount is a number, not a string
      yield* billing.charge({ customer: "alice", amount: "3" })
      // @ts-expect-error customer is required
      yield* billing.charge({ amount: 3 })
      // @ts-expect-error GBP is not a currency of the contract
      yield* billing.charge({ customer: "alice", amount: 3, currency: "GBP" })
      // @ts-expect-error health takes no payload
      yield* billing.health({ verbose: true })
      // @ts-expect-error the contract has no refund command
      yield* billing.refund({ id: "r-1" })
    })
  })
})

describe("typed handlers", () => {
  it("types each handler's payload and result from the contract", () => {
    type Handlers = HandlersOf<typeof BillingContract>
    expectTypeOf<Parameters<Handlers["charge"]>>().toEqualTypeOf<
      [{ readonly customer: string; readonly amount: number; readonly currency: "EUR" | "USD" }, HandlerContext]
    >()
    expectTypeOf<ReturnType<Handlers["charge"]>>().toEqualTypeOf<
      Effect.Effect<Receipt, Declined | UnknownCustomer | CommandFailed>
    >()
  })

  it("refuses a missing handler, a wrong result, an undeclared error and an unknown command", () => {
    // @ts-expect-error the health handler is missing
    contractHandlers(BillingContract, {
      charge: ({ amount, currency, customer }) => Effect.succeed({ id: "r", customer, amount, currency })
    })
    contractHandlers(BillingContract, {
      // @ts-expect-error amount is answered as a string
      charge: ({ customer }) => Effect.succeed({ id: "r", customer, amount: "3", currency: "EUR" as const }),
      health
    })
    contractHandlers(BillingContract, {
      // @ts-expect-error a plain Error is not the command's declared error
      charge: () => Effect.fail(new Error("no")),
      health
    })
    contractHandlers(BillingContract, {
      // @ts-expect-error the handler expects a payload the contract does not send (amount is a number)
      charge: (payload: { readonly customer: string; readonly amount: string }) =>
        Effect.succeed({ id: payload.amount, customer: payload.customer, amount: 1, currency: "EUR" as const }),
      health
    })
    contractHandlers(BillingContract, {
      charge: () => Effect.fail(new Declined({ reason: "no", limit: 1 })),
      health,
      // @ts-expect-error the contract has no refund command
      refund: () => Effect.void
    })
  })
})
