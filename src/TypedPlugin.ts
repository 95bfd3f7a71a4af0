/**
 * The host side of a typed contract: a client whose methods are the contract's commands, over a running
 * plugin's `Caller`, and the `Layer`s that provide it as a service, from a real plugin process or from
 * the contract's handlers run in-process (the test double).
 *
 * @since 0.2.0
 */
import type * as Rpc from "@effect/rpc/Rpc"
import type * as RpcGroup from "@effect/rpc/RpcGroup"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type { Caller, CallOptions } from "./Caller.js"
import { codecs, type Commands, type Contract, describeMismatches } from "./Contract.js"
import * as Executor from "./Executor.js"
import { CallError, type HostNotFound, type StartError } from "./PluginError.js"
import { inProcessCaller } from "./internal/inProcessCaller.js"
import { contractHandlers, type TypedHandlers } from "./sdk/ContractHandlers.js"

/**
 * The typed client of a contract: one method per command, payload in, success out, failing with the
 * command's declared error or a `CallError` (transport failures, and `protocol` when the answer does not
 * match the contract).
 *
 * @since 0.2.0
 */
export type Client<Rpcs extends Rpc.Any> = {
  readonly [R in Commands<Rpcs> as R["_tag"]]: (
    payload: Rpc.PayloadConstructor<R>,
    options?: CallOptions
  ) => Effect.Effect<Rpc.Success<R>, Rpc.Error<R> | CallError>
}

/**
 * The client of a contract given as a value: `ClientOf<typeof BillingContract>`.
 *
 * @since 0.2.0
 */
export type ClientOf<Group> = Client<RpcGroup.Rpcs<Group>>

type AnyMethod = (payload: unknown, options?: CallOptions) => Effect.Effect<unknown, unknown>

/**
 * The typed client of a contract over a running plugin's caller. Each call is one `caller.exec` of the
 * command's tag with the JSON payload; nothing else goes over the wire.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * const caller = yield* container.run("billing")
 * const billing = TypedPlugin.make(BillingContract, caller)
 * const { receipt } = yield* billing.charge({ amount: 3 })
 * ```
 */
export const make = <Rpcs extends Rpc.Any>(contract: Contract<Rpcs>, caller: Caller): Client<Rpcs> => {
  const client: Record<string, AnyMethod> = {}
  for (const [command, codec] of codecs(contract)) {
    const protocolError = (detail: string) =>
      new CallError({ host: caller.host, plugin: caller.plugin, operation: "exec", command, reason: "protocol", detail })
    const decodeAnswer = (bytes: Uint8Array): Effect.Effect<unknown, unknown> =>
      Either.match(codec.decodeAnswer(bytes), {
        onLeft: (mismatches) => Effect.fail(protocolError(`the answer does not match the contract, ${describeMismatches(mismatches)}`)),
        onRight: (answer) => answer._tag === "Success" ? Effect.succeed(answer.value) : Effect.fail(answer.error)
      })
    client[command] = (payload, options) =>
      Either.match(codec.encodePayload(payload), {
        onLeft: (mismatches) =>
          Effect.fail(protocolError(`the payload does not match the contract, ${describeMismatches(mismatches)}; it was not sent`)),
        onRight: (bytes) => Effect.flatMap(caller.exec(command, bytes, options), decodeAnswer)
      })
  }
  return client as unknown as Client<Rpcs>
}

/**
 * Which plugin of which host provides a contract.
 *
 * @since 0.2.0
 */
export interface PluginOptions {
  /** The host (`[hosts.<name>]`) whose container runs the plugin. */
  readonly host: string
  /** The plugin (`[plugins.<name>]`). */
  readonly plugin: string
}

/**
 * A layer that runs the plugin in its own scope (`Executor.fromHost(host)`, then `container.run(plugin)`)
 * and provides its typed client; the plugin stops when the layer is released.
 *
 * @since 0.2.0
 */
export const layer = <Self, Rpcs extends Rpc.Any>(
  tag: Context.Tag<Self, Client<Rpcs>>,
  contract: Contract<Rpcs>,
  options: PluginOptions
): Layer.Layer<Self, HostNotFound | StartError, Executor.Executor> =>
  Layer.scoped(
    tag,
    Effect.gen(function*() {
      const container = yield* Executor.fromHost(options.host)
      const caller = yield* container.run(options.plugin)
      return make(contract, caller)
    }).pipe(Effect.withSpan("TypedPlugin.layer", { attributes: { host: options.host, plugin: options.plugin } }))
  )

/**
 * A layer whose client runs the contract's handlers in this process, through the same JSON codec and
 * dispatch as a real plugin: the test double of a typed plugin.
 *
 * @since 0.2.0
 */
export const layerTest = <Self, Rpcs extends Rpc.Any>(
  tag: Context.Tag<Self, Client<Rpcs>>,
  contract: Contract<Rpcs>,
  handlers: NoInfer<TypedHandlers<Rpcs>>,
  options: PluginOptions = { host: "test", plugin: "test" }
): Layer.Layer<Self> =>
  Layer.succeed(tag, make(contract, inProcessCaller(contractHandlers(contract, handlers), options)))

/**
 * A `Context.Tag` for a contract's client that knows its contract, with `layer` and `layerTest` ready.
 *
 * @since 0.2.0
 */
export interface TypedPluginTag<Self, Id extends string, Rpcs extends Rpc.Any>
  extends Context.TagClass<Self, Id, Client<Rpcs>>
{
  readonly contract: Contract<Rpcs>
  /** Runs the plugin (see {@link layer}) and provides its client. */
  readonly layer: (options: PluginOptions) => Layer.Layer<Self, HostNotFound | StartError, Executor.Executor>
  /** Provides a client over the handlers, run in-process (see {@link layerTest}). */
  readonly layerTest: (handlers: TypedHandlers<Rpcs>, options?: PluginOptions) => Layer.Layer<Self>
}

/**
 * Declares the service of a typed plugin, as `Context.Tag` does for any service.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { GoPlugin, TypedPlugin } from "goplugin-effect"
 * import { BillingContract } from "./contract.js"
 *
 * class Billing extends TypedPlugin.Tag("app/Billing", BillingContract)<Billing>() {}
 *
 * const program = Effect.gen(function*() {
 *   const billing = yield* Billing
 *   const { receipt } = yield* billing.charge({ amount: 3 })
 * })
 * program.pipe(
 *   Effect.provide(Billing.layer({ host: "shop", plugin: "billing" })),
 *   Effect.provide(GoPlugin.layer())
 * )
 * ```
 */
export const Tag = <const Id extends string, Rpcs extends Rpc.Any>(id: Id, contract: Contract<Rpcs>) =>
<Self>(): TypedPluginTag<Self, Id, Rpcs> => {
  const tag = Context.Tag(id)<Self, Client<Rpcs>>()
  return Object.assign(tag, {
    contract,
    layer: (options: PluginOptions) => layer(tag, contract, options),
    layerTest: (handlers: TypedHandlers<Rpcs>, options?: PluginOptions) => layerTest(tag, contract, handlers, options)
  })
}
