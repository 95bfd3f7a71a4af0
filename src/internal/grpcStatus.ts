/**
 * What a failed gRPC call means for its caller, by status code: the one mapping of the `grpc`
 * transport and of go-plugin calls.
 *
 * @internal
 */
import type * as grpc from "@grpc/grpc-js"
import type { CallFailure } from "../CallErrors.js"
import { Status } from "./grpcModules.js"

/** grpc-js's words for an UNAVAILABLE call that never reached a connection. */
const NO_CONNECTION = /ECONNREFUSED|ENOENT|No connection established|failed to connect/i

/** grpc-js's and grpc-go's words for a message over a size limit. */
const TOO_LARGE = /larger than max|message too large|exceeds the (maximum|limit)/i

/** The `CallError` reason of a status; `details` tells an UNAVAILABLE never sent from one lost on the way. */
export const reasonOfStatus = (code: grpc.status, details: string): typeof CallFailure.Type => {
  switch (code) {
    case Status.UNAVAILABLE:
      // Never sent (safe to retry) apart from sent and lost (outcome unknown).
      return NO_CONNECTION.test(details) ? "refused" : "dropped"
    case Status.DEADLINE_EXCEEDED:
      return "timeout"
    case Status.CANCELLED:
      return "interrupted"
    case Status.RESOURCE_EXHAUSTED:
      // A message over a receive or send limit (grpc-js and grpc-go word it so); otherwise the plugin's own quota.
      return TOO_LARGE.test(details) ? "too-large" : "remote"
    case Status.UNIMPLEMENTED:
      return "unimplemented"
    default:
      return "remote"
  }
}
