/**
 * The contract of the example billing plugin, written once with @effect/rpc and shared by the host
 * (typed client), the TypeScript plugin (typed handlers) and, through `goplugin contract`, the Python one.
 */
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"

/** The charge was refused: over the customer's limit. */
export class Declined extends Schema.TaggedError<Declined>()("Declined", {
  reason: Schema.String,
  limit: Schema.Number
}) {}

/** No such customer. */
export class UnknownCustomer extends Schema.TaggedError<UnknownCustomer>()("UnknownCustomer", {
  customer: Schema.String
}) {}

/** What a successful charge answers. */
export const Receipt = Schema.Struct({
  id: Schema.String,
  customer: Schema.String,
  amount: Schema.Number,
  currency: Schema.Literal("EUR", "USD")
})

/** What `charge` takes; `currency` may be left out (it defaults to EUR, on the host's side). */
export const Charge = Schema.Struct({
  customer: Schema.String,
  amount: Schema.Number.pipe(Schema.positive()),
  currency: Schema.optionalWith(Schema.Literal("EUR", "USD"), { default: () => "EUR" as const })
})

/** The billing plugin's commands. */
export class BillingContract extends RpcGroup.make(
  Rpc.make("charge", {
    payload: Charge,
    success: Receipt,
    error: Schema.Union(Declined, UnknownCustomer)
  }),
  Rpc.make("health", { success: Schema.Struct({ status: Schema.Literal("ok"), plugin: Schema.String }) })
) {}

/** The customers the example plugins know, and the most each may be charged at once. */
export const LIMITS: Readonly<Record<string, number>> = { alice: 100, bob: 1000 }
