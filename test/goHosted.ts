/**
 * Runs a test body on the Go KV fixture launched with `Launch.launch` (no container), in a process
 * registry of its own, then checks that the plugin and everything started with the file's marker are
 * gone. Shared by the go-plugin host and lean-client tests.
 */
import { expect } from "@effect/vitest"
import { Duration, Effect, Layer, type Scope } from "effect"
import type { GoPluginSettings } from "../src/goplugin/GoPluginSettings.js"
import * as Launch from "../src/goplugin/Launch.js"
import * as ProcessRegistry from "../src/ProcessRegistry.js"
import { processesMentioning, survivors } from "./helpers.js"

/** What a launch needs besides its settings. */
export interface Fixture {
  readonly exec: string
  /** The test file's `testMarker()`, passed as an argument so leftovers can be found. */
  readonly marker: string
  /** Where the registry's logs go (a capturing logger, or a level filter). */
  readonly logs: Layer.Layer<never>
}

/** Launches the fixture with `settings` (and extra environment), runs `body`, then checks nothing is left. */
export const hosted = <A, E>(
  fixture: Fixture,
  settings: GoPluginSettings,
  body: (launched: Launch.Launched) => Effect.Effect<A, E, Scope.Scope>,
  env: Record<string, string> = {}
) =>
  Effect.gen(function*() {
    const pids: Array<number> = []
    const result = yield* Effect.scoped(
      Effect.gen(function*() {
        const launched = yield* Launch.launch({
          host: "app",
          plugin: "kv",
          exec: fixture.exec,
          args: [fixture.marker],
          cwd: process.cwd(),
          env,
          grace: Duration.seconds(2),
          settings
        })
        pids.push(launched.process.pid)
        return yield* body(launched)
      })
    ).pipe(Effect.provide(Layer.merge(ProcessRegistry.layer, fixture.logs)))
    expect(yield* survivors(pids)).toEqual([])
    expect(processesMentioning(fixture.marker)).toEqual([])
    return result
  })

