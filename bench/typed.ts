/**
 * Rows `typed.rest.p50` and `typed.grpc.p50`: a typed call of the billing contract (Schema encode,
 * JSON, exec, JSON, Schema decode) against an untyped `caller.exec` of the very same bytes, on the same
 * plugin process (examples/typed/billing-plugin.ts) in the same run. The difference is the price of the
 * contract. A last row weighs JSON against MessagePack for the serialization step alone.
 */
import { Effect } from "effect"
import { Contract, TypedPlugin } from "goplugin-effect"
import { pack, unpack } from "msgpackr"
import { BillingContract } from "../examples/typed/contract.js"
import { benchContainer } from "./fixtures.js"
import { type BenchOptions, pair, progress } from "./measure.js"
import { median, now, percentile, type Row } from "./stats.js"

const PAYLOAD = { customer: "alice", amount: 30, currency: "EUR" } as const
const BASELINE = "untyped caller.exec of the same payload bytes, same plugin process"

/** Sequential calls, both sides Effects, in alternating blocks (A B, B A, …) after a warm-up of each. */
const interleaved = (
  typed: Effect.Effect<unknown, unknown>,
  untyped: Effect.Effect<unknown, unknown>,
  iterations: number
) =>
  Effect.gen(function*() {
    const block = (call: Effect.Effect<unknown, unknown>, n: number, out: Array<number>) =>
      Effect.gen(function*() {
        for (let i = 0; i < n; i++) {
          const start = now()
          yield* call
          out.push(now() - start)
        }
      })
    const sink: Array<number> = []
    yield* block(typed, Math.round(iterations / 10), sink)
    yield* block(untyped, Math.round(iterations / 10), sink)
    const library: Array<number> = []
    const baseline: Array<number> = []
    // Many short blocks: on a shared machine, load comes in bursts, and short alternating blocks spread
    // each burst over both sides.
    const blocks = 40
    for (let b = 0; b < blocks; b++) {
      if (b % 2 === 0) yield* block(typed, iterations / blocks, library)
      yield* block(untyped, iterations / blocks, baseline)
      if (b % 2 === 1) yield* block(typed, iterations / blocks, library)
    }
    return { library, baseline }
  })

const latencyRows = (
  id: string,
  group: string,
  samples: { readonly library: ReadonlyArray<number>; readonly baseline: ReadonlyArray<number> }
): ReadonlyArray<Row> =>
  [0.5, 0.99].map((q): Row => ({
    id: `${id}.p${Math.round(q * 100)}`,
    group,
    label: `typed charge p${Math.round(q * 100)}`,
    unit: "µs",
    library: percentile(samples.library, q) * 1000,
    baseline: percentile(samples.baseline, q) * 1000,
    baselineName: BASELINE,
    target: q === 0.5 ? { kind: "ratioAtMost", value: 1.1 } : undefined,
    note: `${samples.library.length} calls per side`
  }))

const transportRows = (plugin: string, id: string, group: string, options: BenchOptions) =>
  Effect.gen(function*() {
    const container = yield* benchContainer
    const caller = yield* container.run(plugin)
    const billing = TypedPlugin.make(BillingContract, caller)
    const codec = Contract.codecs(BillingContract).get("charge")!
    const bytes = yield* codec.encodePayload(PAYLOAD)
    // Both sides must really do the exchange: the typed answer decodes, the untyped one is its envelope.
    const receipt = yield* billing.charge(PAYLOAD)
    const raw = new TextDecoder().decode(yield* caller.exec("charge", bytes))
    if (raw !== JSON.stringify({ success: receipt })) return yield* Effect.dieMessage(`${group}: answers differ: ${raw}`)
    const samples = yield* interleaved(billing.charge(PAYLOAD), caller.exec("charge", bytes), options.quick ? 400 : 4000)
    const rows = latencyRows(id, group, samples)
    yield* progress(`${group} typed charge p50: ${pair(rows[0]!.library!, rows[0]!.baseline!, "µs")}`)
    return rows
  }).pipe(Effect.scoped)

/** Serialization alone, per call (payload out, answer back), in µs: JSON (the wire format) against msgpackr. */
const codecRow = (options: BenchOptions): Effect.Effect<Row> =>
  Effect.sync(() => {
    const answer = { success: { id: "r-alice-3000", customer: "alice", amount: 30, currency: "EUR" } }
    const encoder = new TextEncoder()
    const decoder = new TextDecoder()
    const n = options.quick ? 20_000 : 200_000
    const time = (step: () => unknown) => {
      const runs: Array<number> = []
      for (let r = 0; r < 5; r++) {
        const start = now()
        for (let i = 0; i < n; i++) step()
        runs.push(((now() - start) * 1000) / n)
      }
      return median(runs)
    }
    const json = time(() => {
      JSON.parse(decoder.decode(encoder.encode(JSON.stringify(PAYLOAD))))
      JSON.parse(decoder.decode(encoder.encode(JSON.stringify(answer))))
    })
    const msgpack = time(() => {
      unpack(pack(PAYLOAD))
      unpack(pack(answer))
    })
    return {
      id: "typed.codec.json",
      group: "Typed",
      label: "JSON serialization per call",
      unit: "µs",
      library: json,
      baseline: msgpack,
      baselineName: "msgpackr pack/unpack of the same payload and answer (MessagePack)",
      note: `median of 5 runs of ${n}; informational: the whole typed call costs the transport's round trip`
    }
  })

/** The typed rows: REST and gRPC p50/p99, then the serialization row. */
export const typedRows = (options: BenchOptions) =>
  Effect.gen(function*() {
    const rest = yield* transportRows("typed_rest", "typed.rest", "Typed REST", options)
    const grpc = yield* transportRows("typed_grpc", "typed.grpc", "Typed gRPC", options)
    return [...rest, ...grpc, yield* codecRow(options)]
  })
