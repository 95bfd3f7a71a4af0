/**
 * The measuring harness shared by the transport rows: the library and its baseline are measured in
 * alternating blocks (A B B A A B …) against the same plugin process, after warming both up, so that
 * the machine's noise, the JIT and the garbage collector hit both sides alike.
 */
import { Effect } from "effect"
import { formatValue, now, percentile, median, type Row, type Target } from "./stats.js"

/** One call of the library (an Effect, as a host writes it) and the same call of the baseline (a Promise). */
export interface Contender {
  readonly library: Effect.Effect<unknown, unknown>
  readonly baseline: () => Promise<unknown>
}

/** Round-trip samples in milliseconds, per side. */
export interface Latencies {
  readonly library: ReadonlyArray<number>
  readonly baseline: ReadonlyArray<number>
}

const libraryBlock = (call: Effect.Effect<unknown, unknown>, n: number, out: Array<number>) =>
  Effect.gen(function*() {
    for (let i = 0; i < n; i++) {
      const start = now()
      yield* call
      out.push(now() - start)
    }
  })

const baselineBlock = (call: () => Promise<unknown>, n: number, out: Array<number>) =>
  Effect.promise(async () => {
    for (let i = 0; i < n; i++) {
      const start = now()
      await call()
      out.push(now() - start)
    }
  })

/** Sequential round trips: `iterations` per side in `blocks` alternating blocks, after `warmup` calls of each. */
export const interleavedLatency = (
  contender: Contender,
  options: { readonly iterations: number; readonly blocks: number; readonly warmup: number }
): Effect.Effect<Latencies, unknown> =>
  Effect.gen(function*() {
    const sink: Array<number> = []
    yield* libraryBlock(contender.library, options.warmup, sink)
    yield* baselineBlock(contender.baseline, options.warmup, sink)
    const library: Array<number> = []
    const baseline: Array<number> = []
    const perBlock = Math.max(1, Math.round(options.iterations / options.blocks))
    for (let b = 0; b < options.blocks; b++) {
      const libraryFirst = b % 2 === 0 // A B, B A, A B, …: neither side always runs first
      if (libraryFirst) yield* libraryBlock(contender.library, perBlock, library)
      yield* baselineBlock(contender.baseline, perBlock, baseline)
      if (!libraryFirst) yield* libraryBlock(contender.library, perBlock, library)
    }
    return { library, baseline }
  })

const libraryRate = (call: Effect.Effect<unknown, unknown>, inFlight: number, millis: number) =>
  Effect.gen(function*() {
    let count = 0
    const start = now()
    const deadline = start + millis
    const worker = Effect.gen(function*() {
      while (now() < deadline) {
        yield* call
        count++
      }
    })
    yield* Effect.all(Array.from({ length: inFlight }, () => worker), { concurrency: "unbounded", discard: true })
    return count / ((now() - start) / 1000)
  })

const baselineRate = (call: () => Promise<unknown>, inFlight: number, millis: number) =>
  Effect.promise(async () => {
    let count = 0
    const start = now()
    const deadline = start + millis
    const worker = async () => {
      while (now() < deadline) {
        await call()
        count++
      }
    }
    await Promise.all(Array.from({ length: inFlight }, worker))
    return count / ((now() - start) / 1000)
  })

/**
 * Calls per second with `inFlight` concurrent callers: the median of alternating blocks of `millis` each.
 * `inEffect`, when given, is the baseline's own call wrapped in `Effect.promise` and driven from fibers
 * exactly like the library (measured in every block too, after the pair): what any Effect host pays
 * before the library does anything, reported as context beside the target row.
 */
export const interleavedThroughput = (
  contender: Contender,
  options: { readonly inFlight: number; readonly blocks: number; readonly millis: number; readonly warmupMillis: number },
  inEffect?: Effect.Effect<unknown, unknown>
): Effect.Effect<
  { readonly library: number; readonly baseline: number; readonly inEffect: number | undefined; readonly blocks: Latencies },
  unknown
> =>
  Effect.gen(function*() {
    yield* libraryRate(contender.library, options.inFlight, options.warmupMillis)
    yield* baselineRate(contender.baseline, options.inFlight, options.warmupMillis)
    if (inEffect !== undefined) yield* libraryRate(inEffect, options.inFlight, options.warmupMillis)
    const library: Array<number> = []
    const baseline: Array<number> = []
    const wrapped: Array<number> = []
    for (let b = 0; b < options.blocks; b++) {
      const libraryFirst = b % 2 === 0
      if (libraryFirst) library.push(yield* libraryRate(contender.library, options.inFlight, options.millis))
      baseline.push(yield* baselineRate(contender.baseline, options.inFlight, options.millis))
      if (!libraryFirst) library.push(yield* libraryRate(contender.library, options.inFlight, options.millis))
      if (inEffect !== undefined) wrapped.push(yield* libraryRate(inEffect, options.inFlight, options.millis))
    }
    return {
      library: median(library),
      baseline: median(baseline),
      inEffect: inEffect === undefined ? undefined : median(wrapped),
      blocks: { library, baseline }
    }
  })

/** Human size: 16 B, 1 KiB, 64 KiB, 1 MiB. */
export const sizeLabel = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${bytes / (1024 * 1024)} MiB` : bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`

/** The p50 and p99 rows of one payload size, in µs (ms for slow transports). */
export const latencyRows = (
  group: string,
  idPrefix: string,
  bytes: number,
  samples: Latencies,
  baselineName: string,
  p50Target: Target | undefined,
  unit: "µs" | "ms" = "µs"
): ReadonlyArray<Row> => {
  const scale = unit === "µs" ? 1000 : 1
  const note = `${samples.library.length} calls per side`
  return [0.5, 0.99].map((q): Row => ({
    id: `${idPrefix}.${sizeLabel(bytes).replace(" ", "")}.p${Math.round(q * 100)}`,
    group,
    label: `exec ${sizeLabel(bytes)} p${Math.round(q * 100)}`,
    unit,
    library: percentile(samples.library, q) * scale,
    baseline: percentile(samples.baseline, q) * scale,
    baselineName,
    target: q === 0.5 ? p50Target : undefined,
    note
  }))
}

/** A one-line progress note on stderr, so the table on stdout stays clean. */
export const progress = (message: string): Effect.Effect<void> =>
  Effect.sync(() => process.stderr.write(`  · ${message}\n`))

/** Progress line summarising a pair of values. */
export const pair = (library: number, baseline: number, unit: Row["unit"]): string =>
  `library ${formatValue(library, unit)} vs baseline ${formatValue(baseline, unit)}`

/** Run-wide options: `--quick` cuts iterations (a smoke run, not for quoting). */
export interface BenchOptions {
  readonly quick: boolean
}

/** Iterations per payload size (per side) for sequential round trips. */
export const iterationsFor = (bytes: number, options: BenchOptions): number => {
  const full = bytes >= 1024 * 1024 ? 100 : bytes >= 64 * 1024 ? 800 : 2000
  return options.quick ? Math.max(20, Math.round(full / 10)) : full
}

/** What the rows of a long-lived transport (REST, gRPC) need. */
export interface TransportBench {
  readonly group: string
  readonly idPrefix: string
  readonly baselineName: string
  readonly sizes: ReadonlyArray<number>
  /** The library's exec of `echo`. */
  readonly library: (payload: Uint8Array) => Effect.Effect<Uint8Array, unknown>
  /** The baseline's exec of `echo` against the same plugin process. */
  readonly baseline: (payload: Uint8Array) => Promise<Uint8Array>
  readonly p50Target: Target
  readonly throughputTarget: Target
  readonly inFlight: number
}

/**
 * Sequential calls per alternating block. Short blocks (tens of milliseconds for small payloads) let
 * a burst of load on this shared machine fall on both sides alike; with a few long blocks it fell on
 * whichever side was running, and a single run's p50 ratio moved by ±0.2 (docs/benchmarks.md).
 */
const CALLS_PER_BLOCK = 50

/**
 * Alternating throughput blocks per side. On this 2-core VM one 600 ms block of the same side ran at
 * anywhere from half to all of another's rate (whether the host and the plugin shared a core), so a
 * run's ratio of medians moved by ±0.1 with 10 blocks, as much with 20 blocks of 300 ms; only more time
 * narrows it (docs/benchmarks.md, sixth round).
 */
const THROUGHPUT_BLOCKS = 16

/** Latency rows for every size, then the throughput row (16 B payloads, `inFlight` calls in flight). */
export const transportRows = (bench: TransportBench, options: BenchOptions, payloadOf: (size: number) => Uint8Array) =>
  Effect.gen(function*() {
    const rows: Array<Row> = []
    for (const size of bench.sizes) {
      const payload = payloadOf(size)
      // Both sides must really do the exchange: check one answer of each.
      const fromLibrary = yield* bench.library(payload)
      const fromBaseline = yield* Effect.promise(() => bench.baseline(payload))
      if (Buffer.compare(Buffer.from(fromLibrary), Buffer.from(payload)) !== 0) {
        return yield* Effect.die(new Error(`${bench.group}: the library's echo of ${size} B differs`))
      }
      if (Buffer.compare(Buffer.from(fromBaseline), Buffer.from(payload)) !== 0) {
        return yield* Effect.die(new Error(`${bench.group}: the baseline's echo of ${size} B differs`))
      }
      const iterations = iterationsFor(size, options)
      const samples = yield* interleavedLatency(
        { library: bench.library(payload), baseline: () => bench.baseline(payload) },
        { iterations, blocks: Math.max(10, Math.round(iterations / CALLS_PER_BLOCK)), warmup: Math.max(10, Math.round(iterations / 10)) }
      )
      const sizeRows = latencyRows(bench.group, bench.idPrefix, size, samples, bench.baselineName, bench.p50Target)
      yield* progress(`${bench.group} exec ${sizeLabel(size)} p50: ${pair(sizeRows[0]!.library!, sizeRows[0]!.baseline!, "µs")}`)
      rows.push(...sizeRows)
    }
    const small = payloadOf(16)
    const rate = yield* interleavedThroughput(
      { library: bench.library(small), baseline: () => bench.baseline(small) },
      { inFlight: bench.inFlight, blocks: options.quick ? 2 : THROUGHPUT_BLOCKS, millis: options.quick ? 300 : 600, warmupMillis: 1000 },
      Effect.promise(() => bench.baseline(small))
    )
    yield* progress(`${bench.group} throughput: ${pair(rate.library, rate.baseline, "calls/s")}`)
    rows.push({
      id: `${bench.idPrefix}.throughput`,
      group: bench.group,
      label: `throughput 16 B, ${bench.inFlight} in flight`,
      unit: "calls/s",
      library: rate.library,
      baseline: rate.baseline,
      baselineName: bench.baselineName,
      target: bench.throughputTarget,
      note: `median of ${rate.blocks.library.length} blocks per side`
    })
    // Context, no target: the same baseline client called from Effect fibers instead of a Promise loop.
    rows.push({
      id: `${bench.idPrefix}.throughput.baseline-in-effect`,
      group: bench.group,
      label: `throughput 16 B, ${bench.inFlight} in flight: baseline client driven from Effect fibers`,
      unit: "calls/s",
      library: rate.inEffect ?? null,
      baseline: rate.baseline,
      baselineName: bench.baselineName,
      note: "context for the throughput row: the baseline's own calls in Effect.promise, run like the library's"
    })
    return rows
  })

/** One raw client a transport's rows are measured against. */
export interface RawBaseline {
  readonly group: string
  readonly idPrefix: string
  readonly baselineName: string
  readonly sizes: ReadonlyArray<number>
  readonly baseline: TransportBench["baseline"]
}

/** {@link transportRows} against each raw client in turn: same library calls, same targets. */
export const transportRowsAgainst = (
  common: Omit<TransportBench, keyof RawBaseline>,
  baselines: ReadonlyArray<RawBaseline>,
  options: BenchOptions,
  payloadOf: (size: number) => Uint8Array
) =>
  Effect.map(
    Effect.forEach(baselines, (raw) => transportRows({ ...common, ...raw }, options, payloadOf)),
    (rows) => rows.flat()
  )
