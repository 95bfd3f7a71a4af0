/**
 * Times written in seconds in the config, decoded into `Duration`s, with the bounds every timer can
 * honour. Shared by `PluginConfig` and the config tables of protocol modules (go-plugin's).
 *
 * @internal
 */
import { Duration, Schema } from "effect"

/**
 * The longest time a config may set, in milliseconds: Node's timers hold a signed 32-bit number of
 * milliseconds, and a longer delay fires after ~1 ms instead (TimeoutOverflowWarning).
 *
 * @since 0.2.0
 */
export const maxDurationMillis = 2 ** 31 - 1

/**
 * A time written in seconds (a TOML integer or float), decoded into a `Duration`. Refuses what no timer
 * can wait for: zero or less, `nan`, `inf`, and more than {@link maxDurationMillis} (about 24.8 days).
 *
 * @since 0.2.0
 */
export const Seconds: Schema.Schema<Duration.Duration, number> = Schema.transform(
  Schema.Number.pipe(
    Schema.filter((seconds) =>
      Number.isNaN(seconds)
        ? "expected a number of seconds, got nan"
        : !Number.isFinite(seconds)
        ? `expected a finite number of seconds, got ${seconds > 0 ? "inf" : "-inf"}`
        : seconds <= 0
        ? "expected a number of seconds greater than 0"
        : seconds * 1000 > maxDurationMillis
        ? `expected at most ${maxDurationMillis / 1000} seconds (about 24.8 days, the longest a timer can wait)`
        : true
    )
  ),
  Schema.DurationFromSelf,
  { strict: true, decode: (seconds) => Duration.seconds(seconds), encode: (duration) => Duration.toSeconds(duration) }
)
