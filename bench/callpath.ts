/**
 * A/B harness for the call path (not part of `npm run bench`): host CPU per call and calls/s with 64
 * calls in flight, 16 B, for the library's caller, the raw client in a bare Promise loop (the bench's
 * baseline) and the same raw client driven from Effect fibers. Run with `node build/bench/callpath.js
 * rest|grpc [seconds]`, optionally under `--cpu-prof`.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as inspector from "node:inspector"
import { rawGrpcClient } from "./grpc.js"
import { libraryLayer, payloadOf, runNetworkPlugin, tempConfig } from "./fixtures.js"
import { rawRestClient } from "./rest.js"

const which = process.argv[2] === "grpc" ? "grpc" : "rest"
const seconds = Number(process.argv[3] ?? "3")
const mode = process.argv[4] ?? "all"
const inFlight = Number(process.env["GOPLUGIN_IN_FLIGHT"] ?? "64")

const rateOf = (run: (deadline: number) => Promise<number>) => async () => {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const count = await run(t0 + seconds * 1000)
  const wall = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  return { rate: count / wall, cpuPerCall: (cpu.user + cpu.system) / count }
}

/** Runs once the rounds are done, before anything is closed (where the heap profile is taken). */
let measured: () => Promise<void> = () => Promise.resolve()

const program = Effect.gen(function*() {
  const configFile = yield* tempConfig
  return yield* Effect.gen(function*() {
    const { caller, port, token } = yield* runNetworkPlugin(which === "rest" ? "ts_rest" : "ts_grpc")
    const raw = which === "rest" ? rawRestClient(port, token) : rawGrpcClient(port, token)
    const payload = payloadOf(16)
    // A rare "socket hang up" (a keep-alive socket the plugin closed while idle between rounds) must not end the run.
    const library = Effect.ignore(caller.exec("echo", payload))
    const rawInEffect = Effect.promise(() => raw.exec("echo", payload).catch(() => undefined))
    // The raw gRPC client with a per-call deadline, as the library sets one (to price the deadline alone).
    const withDeadline = which === "grpc" ? rawGrpcClient(port, token, 60_000) : raw
    const fibers = (call: Effect.Effect<unknown, unknown>) => (deadline: number) => {
      let count = 0
      const worker = Effect.gen(function*() {
        while (performance.now() < deadline) {
          yield* call
          count++
        }
      })
      return Effect.runPromise(Effect.all(Array.from({ length: inFlight }, () => worker), { concurrency: "unbounded", discard: true }))
        .then(() => count)
    }
    const promises = async (deadline: number) => {
      let count = 0
      const worker = async () => {
        while (performance.now() < deadline) {
          await raw.exec("echo", payload).catch(() => undefined)
          count++
        }
      }
      await Promise.all(Array.from({ length: inFlight }, worker))
      return count
    }
    const sides: Record<string, () => Promise<{ rate: number; cpuPerCall: number }>> = {
      library: rateOf(fibers(library)),
      raw: rateOf(promises),
      rawInEffect: rateOf(fibers(rawInEffect)),
      rawDeadline: rateOf(async (deadline: number) => {
        let count = 0
        const worker = async () => {
          while (performance.now() < deadline) {
            await withDeadline.exec("echo", payload).catch(() => undefined)
            count++
          }
        }
        await Promise.all(Array.from({ length: inFlight }, worker))
        return count
      })
    }
    const names = mode === "all" ? Object.keys(sides) : mode.split(",")
    const results: Record<string, Array<string>> = {}
    const rounds = Number(process.env["GOPLUGIN_ROUNDS"] ?? "3")
    for (let round = 0; round < rounds; round++) {
      for (const name of round % 2 === 0 ? names : [...names].reverse()) {
        const r = yield* Effect.promise(sides[name]!)
        ;(results[name] ??= []).push(`${Math.round(r.rate)}/s ${r.cpuPerCall.toFixed(0)}µs`)
      }
    }
    yield* Effect.promise(() => measured())
    raw.close()
    for (const [name, values] of Object.entries(results)) process.stderr.write(`${which} ${name}: ${values.join("  ")}\n`)
  }).pipe(Effect.scoped, Effect.provide(libraryLayer(configFile)))
}).pipe(Effect.scoped)

/** GOPLUGIN_HEAP_PROFILE=file: a sampling heap profile of every allocation (collected or not). */
const heapFile = process.env["GOPLUGIN_HEAP_PROFILE"]
const session = new inspector.Session()
const post = (method: string, params?: object) =>
  new Promise<unknown>((resolve, reject) =>
    session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))))

const profiled = heapFile === undefined ? Effect.runPromise(program) : (async () => {
  session.connect()
  await post("HeapProfiler.startSampling", {
    samplingInterval: 1024,
    // GOPLUGIN_HEAP_LIVE=1: only what is still on the heap at the end (what survived, e.g. promoted garbage).
    includeObjectsCollectedByMajorGC: process.env["GOPLUGIN_HEAP_LIVE"] === undefined,
    includeObjectsCollectedByMinorGC: process.env["GOPLUGIN_HEAP_LIVE"] === undefined && process.env["GOPLUGIN_HEAP_PROMOTED"] === undefined
  })
  measured = async () => {
    const { profile } = await post("HeapProfiler.stopSampling") as { profile: unknown }
    fs.writeFileSync(heapFile, JSON.stringify(profile))
  }
  await Effect.runPromise(program)
})()

profiled.then(() => process.exit(0), (error) => {
  process.stderr.write(`${String(error)}\n`)
  process.exit(1)
})
