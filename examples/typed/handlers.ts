/**
 * The billing contract's handlers, typed from the contract: served by examples/typed/billing-plugin.ts
 * and run in-process by `Billing.layerTest` in tests.
 */
import { Effect } from "effect"
import type { HandlersOf } from "goplugin-effect/sdk"
import { BillingContract, Declined, LIMITS, UnknownCustomer } from "./contract.js"

/** Charges within the customer's limit; the receipt id is derived from the request, so answers are reproducible. */
export const billingHandlers = (plugin: string): HandlersOf<typeof BillingContract> => ({
  charge: ({ amount, currency, customer }) => {
    const limit = LIMITS[customer]
    if (limit === undefined) return Effect.fail(new UnknownCustomer({ customer }))
    if (amount > limit) return Effect.fail(new Declined({ reason: `${amount} ${currency} is over the limit`, limit }))
    return Effect.succeed({ id: `r-${customer}-${Math.round(amount * 100)}`, customer, amount, currency })
  },
  health: () => Effect.succeed({ status: "ok" as const, plugin })
})
