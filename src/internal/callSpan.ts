/**
 * Spans on the per-call hot path only when someone can see them. Building a span costs tens of
 * microseconds per call (stack capture, context copies, garbage), about as much as a loopback round
 * trip, so with Effect's built-in tracer (nobody exporting spans) calls run without one.
 *
 * @internal
 */
import { Effect, type Tracer } from "effect"

/** The tracer every Effect program has unless it installs another (e.g. OpenTelemetry). */
const builtinTracer: Tracer.Tracer = Effect.runSync(Effect.tracer)

/** Wraps `effect` in a span named `name`, unless the running tracer is Effect's built-in one. */
export const callSpan = (name: string, attributes: Record<string, unknown>) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.tracerWith((tracer) =>
    tracer === builtinTracer ? effect : Effect.withSpan(effect, name, { attributes, captureStackTrace: false })
  )
