/**
 * The plugin side of a typed contract: one handler per command, typed from the contract's Schemas,
 * turned into the byte handlers every transport serves. A payload that does not decode is answered as a
 * bad request naming the JSON path; a declared error travels back in-band as `{"error":…}`.
 *
 * @since 0.2.0
 */
import type * as Rpc from "@effect/rpc/Rpc"
import type * as RpcGroup from "@effect/rpc/RpcGroup"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { type Answer, codecs, type Commands, type Contract, describeMismatches, type Mismatch } from "../Contract.js"
import { CommandFailed } from "../SdkErrors.js"
import type { Handler, HandlerContext, Handlers } from "./Handler.js"

/**
 * One handler per command of the contract: the decoded payload in, the success out, failing with the
 * command's declared error (answered in-band) or `CommandFailed` (answered as a transport failure).
 * A missing command, an extra one, or a handler with the wrong payload or result type does not compile.
 *
 * @since 0.2.0
 */
export type TypedHandlers<Rpcs extends Rpc.Any> = {
  readonly [R in Commands<Rpcs> as R["_tag"]]: (
    payload: Rpc.Payload<R>,
    context: HandlerContext
  ) => Effect.Effect<Rpc.Success<R>, Rpc.Error<R> | CommandFailed>
}

/**
 * The handlers of a contract given as a value: `HandlersOf<typeof BillingContract>`.
 *
 * @since 0.2.0
 */
export type HandlersOf<Group> = TypedHandlers<RpcGroup.Rpcs<Group>>

type AnyTypedHandler = (payload: unknown, context: HandlerContext) => Effect.Effect<unknown, unknown>

const internal = (command: string, what: string, mismatches: ReadonlyArray<Mismatch>): CommandFailed =>
  new CommandFailed({
    command,
    kind: "internal",
    detail: `the plugin's ${what} does not match the contract, ${describeMismatches(mismatches)}; this is a bug in the plugin`
  })

/**
 * The byte handlers of a contract, for `runMain`, `serve` or any transport of the SDK.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { contractHandlers, runMain } from "goplugin-effect/sdk"
 * import { BillingContract } from "./contract.js"
 *
 * runMain({ handlers: contractHandlers(BillingContract, { charge: ({ amount }) => Effect.succeed({ receipt: `r-${amount}` }) }) })
 * ```
 */
export const contractHandlers = <Rpcs extends Rpc.Any>(
  contract: Contract<Rpcs>,
  handlers: NoInfer<TypedHandlers<Rpcs>>
): Handlers => {
  const typed = handlers as unknown as Readonly<Record<string, AnyTypedHandler>>
  const result: Record<string, Handler> = {}
  for (const [command, codec] of codecs(contract)) {
    const handler = Object.hasOwn(typed, command) ? typed[command] : undefined
    if (handler === undefined) continue
    const answer = (outcome: Answer): Effect.Effect<Uint8Array, CommandFailed> =>
      Either.match(codec.encodeAnswer(outcome), {
        onLeft: (mismatches) =>
          Effect.fail(internal(command, outcome._tag === "Success" ? "result" : "error", mismatches)),
        onRight: Effect.succeed
      })
    result[command] = (bytes, context) =>
      Either.match(codec.decodePayload(bytes), {
        onLeft: (mismatches) =>
          Effect.fail(
            new CommandFailed({
              command,
              kind: "invalid_argument",
              detail: `the payload does not match the contract, ${describeMismatches(mismatches)}`
            })
          ),
        onRight: (payload) =>
          Effect.matchEffect(Effect.suspend(() => handler(payload, context)), {
            onSuccess: (value) => answer({ _tag: "Success", value }),
            onFailure: (error) =>
              codec.isDeclaredError(error) || !(error instanceof CommandFailed)
                ? answer({ _tag: "Failure", error })
                : Effect.fail(error)
          })
      })
  }
  return result
}
