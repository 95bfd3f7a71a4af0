/**
 * Row 5: start-up. The library's `container.run(plugin)` until it returns a ready caller (verify, pick a
 * port, spawn, wait for the port, first successful Ping), against the plugin's own time: the same
 * command spawned by hand and polled with `GET /ping` in a tight loop (a fresh connection per attempt,
 * the next attempt 1 ms after a refusal) until the first success.
 *
 * Why 1 ms and not "retry at once": a loop that retries on the next turn of the event loop burns a whole
 * core on refused connections, and on a 2-core machine that core is taken from the plugin that is
 * starting: in a first version the "plugin's own time" came out ~250 ms *slower* than the library's
 * run → ready (which polls every 2 ms) for the TypeScript plugin.
 * 1 ms keeps the resolution below the library's and leaves the CPU to the plugin.
 */
import { Effect } from "effect"
import { awaitPing, benchContainer, freePort, type PluginCommand, plugins, rawSpawn, rawStop } from "./fixtures.js"
import { type BenchOptions, pair, progress } from "./measure.js"
import { median, now, type Row, settleHeap } from "./stats.js"

/** Pause between two refused attempts of the baseline's poll loop. */
const POLL_MILLIS = 1

/** The plugin's own time to its first successful Ping, in ms; the process is stopped afterwards. */
export const rawStartup = async (plugin: PluginCommand): Promise<number> => {
  const port = await freePort()
  const start = now()
  const raw = rawSpawn(plugin, port)
  try {
    await awaitPing(raw, port, POLL_MILLIS)
    return now() - start
  } finally {
    await rawStop(raw)
  }
}

const one = (name: string, plugin: PluginCommand, label: string, options: BenchOptions) =>
  Effect.gen(function*() {
    const container = yield* benchContainer
    const library = () =>
      Effect.gen(function*() {
        yield* Effect.promise(settleHeap)
        const start = now()
        yield* container.run(name)
        const took = now() - start
        yield* container.kill(name)
        return took
      })
    const baseline = () => Effect.promise(() => settleHeap().then(() => rawStartup(plugin)))
    // Warm-up of both (file cache, bytecode caches), not counted.
    yield* library()
    yield* baseline()
    const reps = options.quick ? 2 : 7
    const lib: Array<number> = []
    const raw: Array<number> = []
    for (let i = 0; i < reps; i++) {
      if (i % 2 === 0) lib.push(yield* library())
      raw.push(yield* baseline())
      if (i % 2 === 1) lib.push(yield* library())
    }
    const row: Row = {
      id: `startup.${name}`,
      group: "start-up",
      label,
      unit: "ms",
      library: median(lib),
      baseline: median(raw),
      baselineName: "the plugin's own time: spawn the same command, tight GET /ping poll loop until the first success",
      target: { kind: "plusAtMost", value: 10 },
      note: `median of ${reps}; library ${lib.map((v) => v.toFixed(0)).join("/")} ms, raw ${raw.map((v) => v.toFixed(0)).join("/")} ms`
    }
    yield* progress(`start-up ${label}: ${pair(row.library!, row.baseline!, "ms")}`)
    return row
  }).pipe(Effect.scoped)

/** The start-up rows: the TypeScript REST plugin and the Python REST plugin. */
export const startupRows = (options: BenchOptions) =>
  Effect.all([
    one("ts_rest", plugins.tsRest, "TypeScript REST plugin, run → ready", options),
    one("py_rest", plugins.pyRest, "Python REST plugin, run → ready", options)
  ])
