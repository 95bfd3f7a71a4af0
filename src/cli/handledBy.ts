/**
 * Command handlers loaded when their command runs. The parser needs every command's name, arguments and
 * help at start, but only the chosen command's handler, and the handlers are what load the library
 * (config schemas, errors, launchers, drivers, @effect/rpc). So each command module holds the command's
 * definition and hands its parsed arguments to a handler module it imports with `import()`. In the
 * CLI's bundle esbuild keeps such a module in the same file but evaluates it on first use
 * (scripts/bundle.mjs), which keeps it out of `goplugin --version` and `goplugin md5`.
 *
 * @internal
 */
import { Effect } from "effect"

/**
 * Runs `run` with the handler module `load` gives. The module is one of the CLI's own, so failing to
 * load it is a broken install, a defect rather than a failure.
 */
export const handledBy = <M, A, E, R>(
  load: () => Promise<M>,
  run: (handlers: M) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => Effect.flatMap(Effect.promise(load), run)
