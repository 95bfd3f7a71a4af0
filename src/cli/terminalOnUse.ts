/**
 * The terminal @effect/cli asks for, opened when first used. `NodeTerminal.layer` reads `process.stdin`
 * as it is built, which creates stdin's stream (loading `net` or `tty`: a few ms) for every command,
 * while only @effect/cli's prompts (`--wizard`) read from it.
 *
 * @internal
 */
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Terminal from "@effect/platform/Terminal"
import { Effect, Layer, Scope } from "effect"

/** `NodeTerminal.layer`, but the Node terminal is made on the first call of one of its operations. */
export const layer: Layer.Layer<Terminal.Terminal> = Layer.scoped(
  Terminal.Terminal,
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const opened = yield* Effect.cached(Scope.extend(NodeTerminal.make(), scope))
    const terminal: Terminal.Terminal = {
      columns: Effect.flatMap(opened, (t) => t.columns),
      rows: Effect.flatMap(opened, (t) => t.rows),
      isTTY: Effect.flatMap(opened, (t) => t.isTTY),
      readInput: Effect.flatMap(opened, (t) => t.readInput),
      readLine: Effect.flatMap(opened, (t) => t.readLine),
      display: (text) => Effect.flatMap(opened, (t) => t.display(text))
    }
    return terminal
  })
)
