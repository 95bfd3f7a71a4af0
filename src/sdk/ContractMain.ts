/**
 * `runContract`: the entry point of a typed plugin, `runMain` with handlers typed from a contract.
 *
 * @since 0.2.0
 */
import type * as Rpc from "@effect/rpc/Rpc"
import type { Contract } from "../Contract.js"
import { contractHandlers, type TypedHandlers } from "./ContractHandlers.js"
import { runMain, type RunMainOptions } from "./PluginMain.js"

/**
 * How `runContract` runs a typed plugin: the contract, its handlers, and `runMain`'s other options.
 *
 * @since 0.2.0
 */
export interface RunContractOptions<Rpcs extends Rpc.Any> extends Omit<RunMainOptions, "handlers"> {
  readonly contract: Contract<Rpcs>
  readonly handlers: NoInfer<TypedHandlers<Rpcs>>
}

/**
 * Serves a contract exactly as `runMain` serves byte handlers (port, token, hosts, stdin end-of-file,
 * signals), with one handler per command typed from the contract.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * #!/usr/bin/env node
 * import { Effect } from "effect"
 * import { runContract } from "goplugin-effect/sdk"
 * import { BillingContract, Declined } from "./contract.js"
 *
 * runContract({
 *   contract: BillingContract,
 *   protocol: "grpc",
 *   handlers: {
 *     charge: ({ amount }) =>
 *       amount > 100 ? Effect.fail(new Declined({ reason: "over the limit" })) : Effect.succeed({ receipt: `r-${amount}` })
 *   }
 * })
 * ```
 */
export const runContract = <Rpcs extends Rpc.Any>(options: RunContractOptions<Rpcs>): void => {
  const { contract, handlers, ...rest } = options
  runMain({ ...rest, handlers: contractHandlers(contract, handlers) })
}
