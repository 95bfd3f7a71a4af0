/**
 * A callback-style call as an Effect, cancelled if its fiber ends while it is still pending.
 *
 * `Effect.async` with a canceller wraps every call in `onInterrupt` (an uninterruptible mask, a cause
 * match and an exit value per call); at 64 calls in flight that was ~10% of a gRPC host's call rate
 * on 2 cores. An interrupted fiber is resumed at once either way; what the canceller is for is that
 * the request does not run on to its deadline. Here the call is cancelled when the fiber that made
 * it ends (`RuntimeFiber.addObserver`): an interrupted fiber ends once its finalizers have run, which
 * is when `Effect.timeout`, `Effect.race`, `Fiber.interrupt` and a closing scope wait for it.
 *
 * @since 0.2.0
 * @internal
 */
import { Effect } from "effect"

/**
 * Starts the call with `start`, which returns how to cancel it. `start` hands `done` the call's
 * outcome once; after that, or once cancelled, nothing is kept.
 *
 * @since 0.2.0
 * @internal
 */
export const cancellable = <A, E>(
  start: (done: (outcome: Effect.Effect<A, E>) => void) => () => void
): Effect.Effect<A, E> =>
  Effect.withFiberRuntime<A, E>((fiber) =>
    Effect.async<A, E>((resume) => {
      let pending = true
      let cancel: (() => void) | undefined
      const fiberEnded = () => {
        if (!pending) return
        pending = false
        cancel?.()
      }
      fiber.addObserver(fiberEnded)
      cancel = start((outcome) => {
        if (!pending) return
        pending = false
        // The fiber is suspended on this call, so nothing else touches its observers now.
        fiber.removeObserver(fiberEnded)
        resume(outcome)
      })
    })
  )
