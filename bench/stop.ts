/**
 * Row 7: stopping. 50 running REST plugins (the Python example by default, see `killPlugin`) are stopped by
 * `container.killAll`; the time runs until /proc shows every process gone (a zombie counts as gone),
 * and the row reports how many were still alive when `killAll` returned. The baseline starts the same
 * 50 commands by hand and stops them the same way (stdin closed, SIGTERM), waiting for every exit.
 */
import { Effect } from "effect"
import { setTimeout as sleep } from "node:timers/promises"
import {
  awaitPing,
  benchContainer,
  freePort,
  isAlive,
  KILL_COUNT,
  killName,
  killPlugin,
  type RawPlugin,
  rawSpawn,
  rawStop
} from "./fixtures.js"
import { type BenchOptions, pair, progress } from "./measure.js"
import { median, now, type Row, settleHeap } from "./stats.js"

interface StopResult {
  readonly millis: number
  /** Alive when the stop call returned. */
  readonly left: number
}

/** Polls /proc until none of the pids is alive (at most 10 s); answers the time it happened. */
const allGone = async (pids: ReadonlyArray<number>): Promise<number> => {
  const deadline = now() + 10_000
  let alive = pids.filter(isAlive)
  while (alive.length > 0 && now() < deadline) {
    await sleep(1)
    alive = alive.filter(isAlive)
  }
  return now()
}

const library = Effect.gen(function*() {
  const container = yield* benchContainer
  const names = Array.from({ length: KILL_COUNT }, (_, i) => killName(i))
  yield* Effect.forEach(names, (name) => container.run(name), { concurrency: "unbounded", discard: true })
  const pids = (yield* container.running).flatMap((plugin) => (plugin.process === undefined ? [] : [plugin.process.pid]))
  if (pids.length !== KILL_COUNT) return yield* Effect.dieMessage(`expected ${KILL_COUNT} running plugins, found ${pids.length}`)
  yield* Effect.promise(settleHeap)
  const start = now()
  yield* container.killAll
  const left = pids.filter(isAlive).length
  const gone = yield* Effect.promise(() => allGone(pids))
  return { millis: gone - start, left } satisfies StopResult
}).pipe(Effect.scoped)

const baseline = Effect.promise(async (): Promise<StopResult> => {
  const started: Array<RawPlugin> = []
  try {
    const ports = await Promise.all(Array.from({ length: KILL_COUNT }, () => freePort()))
    for (const port of ports) started.push(rawSpawn(killPlugin, port))
    await Promise.all(started.map((raw, i) => awaitPing(raw, ports[i]!, 5)))
    const pids = started.map((raw) => raw.child.pid!)
    await settleHeap()
    const start = now()
    await Promise.all(started.map(rawStop))
    const left = pids.filter(isAlive).length
    const gone = await allGone(pids)
    return { millis: gone - start, left }
  } finally {
    for (const { child } of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
  }
})

/** The KillAll row. */
export const stopRows = (options: BenchOptions) =>
  Effect.gen(function*() {
    const reps = options.quick ? 1 : 2
    const lib: Array<StopResult> = []
    const raw: Array<StopResult> = []
    for (let i = 0; i < reps; i++) {
      if (i % 2 === 0) lib.push(yield* library)
      raw.push(yield* baseline)
      if (i % 2 === 1) lib.push(yield* library)
    }
    const left = Math.max(...lib.map((r) => r.left))
    const row: Row = {
      id: "stop.killAll.50",
      group: "stop",
      label: `KillAll of ${KILL_COUNT} plugins, until all exited (${left} left)`,
      unit: "ms",
      library: median(lib.map((r) => r.millis)),
      baseline: median(raw.map((r) => r.millis)),
      baselineName: `the same ${KILL_COUNT} plugins started by hand, stdin closed + SIGTERM to each, until every exit`,
      target: { kind: "absoluteAtMost", value: 500 },
      extraOk: left === 0,
      note: `median of ${reps}; library ${lib.map((r) => r.millis.toFixed(0)).join("/")} ms, raw ${
        raw.map((r) => r.millis.toFixed(0)).join("/")
      } ms; left after KillAll: ${lib.map((r) => r.left).join("/")}`
    }
    yield* progress(`stop: ${pair(row.library!, row.baseline!, "ms")}, ${left} left`)
    return [row]
  })
