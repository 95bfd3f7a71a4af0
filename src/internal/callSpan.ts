/**
 * Spans on the per-call hot path only when the user asks for them. Building a span costs tens of
 * microseconds per call (context copies, garbage), about as much as a loopback round trip, so calls
 * run without one unless `GoPlugin.layer({ traceCalls: true })` turned call tracing on. The choice is
 * made once, when the caller is built, so an untraced call pays nothing for it.
 *
 * @internal
 */
import { Context, Effect, Tracer } from "effect"

/** Wraps an effect in a span named `name` (no stack capture) when `enabled`, else returns it as it is. */
export const callSpan = (enabled: boolean, name: string, attributes: Record<string, unknown>) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  enabled ? Effect.withSpan(effect, name, { attributes, captureStackTrace: false }) : effect

/**
 * Runs a long-lived effect (an output reader, a supervisor) with no parent span: Effect's tracer
 * logger appends every log entry to the current span's events, so a span that outlives its work
 * would keep every line logged under it.
 */
export const withoutParentSpan = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.mapInputContext(effect, (context: Context.Context<R>) => Context.omit(Tracer.ParentSpan)(context) as Context.Context<R>)
