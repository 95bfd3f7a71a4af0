/**
 * Unary gRPC calls as Effects over a method definition and any client's channel, and the reading of a
 * failed call's status as a typed error.
 *
 * @since 0.2.0
 */
import type * as grpc from "@grpc/grpc-js"
import { Duration, Effect } from "effect"
import type { CallFailure } from "../PluginError.js"
import { BrokerTlsUnsupported, GoPluginCallError } from "./GoPluginError.js"
import { reasonOfStatus } from "../internal/grpcStatus.js"
import { Status, grpc as loadGrpc, statusName } from "../internal/grpcModules.js"

/** A failed call's status: its code and details. */
export interface RpcFailure {
  readonly code: grpc.status
  readonly details: string
}

/**
 * One unary call with a deadline; interruption cancels it.
 *
 * @since 0.2.0
 */
export const unary = <Req, Res>(
  client: grpc.Client,
  method: grpc.MethodDefinition<Req, Res>,
  request: Req,
  timeout: Duration.DurationInput,
  metadata: grpc.Metadata = new (loadGrpc().Metadata)()
): Effect.Effect<Res, RpcFailure> =>
  Effect.async<Res, RpcFailure>((resume) => {
    const call = client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      metadata,
      { deadline: Date.now() + Duration.toMillis(timeout) },
      (error, response) => {
        if (error !== null) return resume(Effect.fail({ code: error.code, details: error.details || error.message }))
        resume(Effect.succeed(response as Res))
      }
    )
    return Effect.sync(() => call.cancel())
  })

/**
 * What a caller may do next, by status code: as for the `grpc` transport, except INTERNAL, which is a
 * protocol failure here (the project's SDK answers a handler's own failure with INTERNAL; grpc-go
 * services use it for failures of the transport).
 */
export const reasonOf = (code: grpc.status, details: string): typeof CallFailure.Type =>
  code === Status.INTERNAL ? "protocol" : reasonOfStatus(code, details)

/** The text a go-plugin < 1.4.4 plugin reports when its broker dial into the host fails under AutoMTLS. */
const OLD_BROKER_TLS = "certificate is valid for localhost, not unused"

/**
 * The typed error of a failed call to `method` of a plugin; the go-plugin < 1.4.4 broker TLS failure
 * is recognised and reported as {@link BrokerTlsUnsupported}.
 *
 * @since 0.2.0
 */
export const callFailed = (
  where: { readonly host: string; readonly plugin: string },
  method: string,
  failure: RpcFailure
): GoPluginCallError | BrokerTlsUnsupported =>
  failure.details.includes(OLD_BROKER_TLS)
    ? new BrokerTlsUnsupported({ host: where.host, plugin: where.plugin, method, detail: failure.details })
    : new GoPluginCallError({
      host: where.host,
      plugin: where.plugin,
      method,
      reason: reasonOf(failure.code, failure.details),
      code: statusName(failure.code),
      detail: failure.details
    })
