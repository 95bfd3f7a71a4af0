/**
 * A lazily connected, reconnecting lean gRPC connection to one plugin: the `grpc` transport's
 * counterpart of grpc-js's channel. Nothing connects until the first call needs a session (the
 * container builds its caller before the plugin listens); calls that find no live session share one
 * opening; a session whose connection closed (or is going away) is replaced on the next call, and
 * the old one is closed once the calls it still carries have had their time. All of it closes with
 * the channel's scope.
 *
 * @internal
 */
import { Cause, Deferred, Duration, Effect, ExecutionStrategy, Exit, FiberId, Ref, Scope } from "effect"
import * as GrpcSession from "../goplugin/GrpcSession.js"
import { Status } from "./grpcModules.js"
import { type CallStatus, deadlineExceeded } from "./grpcWire.js"

/** grpc-js's words for a call that never reached a connection: `reasonOfStatus` reads them as "refused". */
const NOT_CONNECTED = "No connection established"

type State =
  | { readonly _tag: "Idle" }
  | { readonly _tag: "Opening"; readonly opened: Deferred.Deferred<GrpcSession.GrpcSession, CallStatus> }
  | { readonly _tag: "Open"; readonly session: GrpcSession.GrpcSession; readonly scope: Scope.CloseableScope }

const idle: State = { _tag: "Idle" }

/** What a channel connects to, and how long a connection attempt and an old connection's calls may take. */
export interface ChannelOptions extends GrpcSession.SessionOptions {
  /** The longest one connection attempt may take. */
  readonly connectTimeout: Duration.Duration
  /** How long a replaced session stays open for the calls it still carries. */
  readonly retireAfter: Duration.Duration
}

/** A channel: the live session, opened on demand. */
export interface GrpcChannel {
  /**
   * The live session: the current one, else a new one (one opening shared by every caller waiting).
   * A connection that cannot be made fails UNAVAILABLE "No connection established: …" (never sent);
   * `limitMillis` bounds the wait for a new connection (DEADLINE_EXCEEDED).
   */
  readonly session: (limitMillis: number) => Effect.Effect<GrpcSession.GrpcSession, CallStatus>
  /**
   * The open session if its connection still opens calls, read without running an Effect: the
   * per-call fast path (a call that finds none goes through `session`).
   */
  readonly live: () => GrpcSession.GrpcSession | undefined
}

/** The session of `state` while its connection still opens calls. */
const liveSession = (state: State): GrpcSession.GrpcSession | undefined =>
  state._tag === "Open" && state.session.closedReason() === undefined ? state.session : undefined

/** The reason a failed opening gives its waiters. */
const notConnected = (cause: Cause.Cause<string>): CallStatus => ({
  code: Status.UNAVAILABLE,
  details: `${NOT_CONNECTED}: ${
    Cause.isInterruptedOnly(cause) ? "the caller is closed" : Cause.failureOption(cause).pipe((reason) => reason._tag === "Some" ? reason.value : Cause.pretty(cause))
  }`
})

/**
 * A channel to `options.endpoint`, closed with the scope; connects on the first call.
 */
export const make = (options: ChannelOptions): Effect.Effect<GrpcChannel, never, Scope.Scope> =>
  Effect.gen(function*() {
    const channelScope = yield* Effect.scope
    const state = yield* Ref.make<State>(idle)
    // A read-only mirror of the last session `state` opened, for `live` (and `session`'s first look):
    // calls run at thousands per second, and reading it costs nothing where going through the Ref costs
    // a few Effect steps.
    // Transitions still happen only through `state`.
    let lastOpened: GrpcSession.GrpcSession | undefined

    /** Opens a session in its own scope (a child of the channel's), then tells the waiters. */
    const opening = (opened: Deferred.Deferred<GrpcSession.GrpcSession, CallStatus>) =>
      Effect.flatMap(Scope.fork(channelScope, ExecutionStrategy.sequential), (scope) =>
        GrpcSession.open(options).pipe(
          Effect.timeoutFail({
            duration: options.connectTimeout,
            onTimeout: () => `no connection within ${Duration.format(options.connectTimeout)}`
          }),
          Scope.extend(scope),
          Effect.onExit((exit) =>
            Exit.isSuccess(exit)
              ? Effect.zipRight(
                Ref.set(state, { _tag: "Open", session: exit.value, scope }).pipe(Effect.tap(() => void (lastOpened = exit.value))),
                Deferred.succeed(opened, exit.value)
              )
              : Effect.zipRight(
                Effect.zipRight(Scope.close(scope, exit), Ref.set(state, idle)),
                Deferred.fail(opened, notConnected(exit.cause))
              )
          )
        ))

    /** A replaced session: closed after `retireAfter`, or with the channel, whichever comes first. */
    const retire = (scope: Scope.CloseableScope) =>
      Effect.forkIn(Effect.interruptible(Effect.delay(Scope.close(scope, Exit.void), options.retireAfter)), channelScope)

    // Deciding to open and starting the opening must not be split by an interruption (the state would
    // say "opening" forever); the forked fibers are made interruptible again, else they would inherit
    // this region's status and hold the channel's scope open until they end.
    const reopen = Effect.uninterruptibleMask((restore) =>
      Effect.flatten(Ref.modify(state, (current): readonly [Effect.Effect<GrpcSession.GrpcSession, CallStatus>, State] => {
        const live = liveSession(current)
        if (live !== undefined) return [Effect.succeed(live), current]
        if (current._tag === "Opening") return [restore(Deferred.await(current.opened)), current]
        const opened = Deferred.unsafeMake<GrpcSession.GrpcSession, CallStatus>(FiberId.none)
        const start = Effect.zipRight(current._tag === "Open" ? retire(current.scope) : Effect.void, Effect.forkIn(Effect.interruptible(opening(opened)), channelScope))
        return [Effect.zipRight(start, restore(Deferred.await(opened))), { _tag: "Opening", opened }]
      }))
    )

    const live = () => (lastOpened !== undefined && lastOpened.closedReason() === undefined ? lastOpened : undefined)

    const session = (limitMillis: number) =>
      Effect.suspend(() => {
        const open = live()
        return open !== undefined ? Effect.succeed(open) : reopen.pipe(
          Effect.timeoutFail({
            duration: Duration.millis(limitMillis),
            onTimeout: () => deadlineExceeded(limitMillis, " while connecting")
          })
        )
      })

    return { session, live }
  })
