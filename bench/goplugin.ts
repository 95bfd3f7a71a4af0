/**
 * go-plugin rows: the TypeScript host (`src/goplugin/Launch.ts`) against go-plugin 1.0.1's own Go host
 * (test/fixtures/go/kvhost), on the same Go plugin (test/fixtures/go/kvplugin), in the same run:
 * start → connected (spawn, handshake, connect, first SERVING health check; plain and AutoMTLS) and the
 * p50 of sequential unary `kv.KV/Get` calls. The Go binaries are built (and cached) as the tests do.
 */
import { Duration, Effect, Layer } from "effect"
import { execFile } from "node:child_process"
import { ProcessRegistry } from "goplugin-effect"
import { type GoPluginSettings, Launch, ServiceClient } from "goplugin-effect/goplugin"
import { goFixtures, kvHandshake, kvProto } from "../test/goFixtures.js"
import { type BenchOptions, pair, progress } from "./measure.js"
import { median, now, percentile, type Row } from "./stats.js"

const BASELINE = "go-plugin 1.0.1 Go host, same plugin"

const settings = (autoMtls: boolean): GoPluginSettings => ({
  magic_cookie_key: kvHandshake.magicCookieKey,
  magic_cookie_value: kvHandshake.magicCookieValue,
  protocol_versions: [kvHandshake.protocolVersion],
  auto_mtls: autoMtls,
  proto_files: [kvProto],
  proto_include: [],
  services: ["kv.KV"],
  handshake_timeout: 30,
  max_receive_bytes: 64 * 1024 * 1024
})

interface Measured {
  readonly startMs: number
  readonly callP50Ms: number
}

/** The TypeScript host: `rounds` launches, `calls` sequential Gets on each. */
const typescriptHost = (kvplugin: string, autoMtls: boolean, rounds: number, calls: number) =>
  Effect.gen(function*() {
    const protos = yield* ServiceClient.loadProtos("kv", [kvProto])
    const starts: Array<number> = []
    const gets: Array<number> = []
    for (let round = 0; round < rounds; round++) {
      yield* Effect.scoped(Effect.gen(function*() {
        const began = now()
        const { connection } = yield* Launch.launch({
          host: "bench",
          plugin: "kv",
          exec: kvplugin,
          args: [],
          cwd: process.cwd(),
          grace: Duration.seconds(2),
          settings: settings(autoMtls)
        })
        starts.push(now() - began)
        const kv = yield* ServiceClient.make(connection, protos, "kv.KV")
        yield* kv.call("Put", { key: "k", value: Buffer.from("v") })
        for (let i = 0; i < calls; i++) {
          const t = now()
          yield* kv.call("Get", { key: "k" })
          gets.push(now() - t)
        }
      }))
    }
    return { startMs: median(starts), callP50Ms: percentile(gets, 0.5) } satisfies Measured
  }).pipe(Effect.provide(Layer.fresh(ProcessRegistry.layer)))

/** The Go host's own measurement of the same thing. */
const goHost = (kvhost: string, kvplugin: string, autoMtls: boolean, rounds: number, calls: number) =>
  Effect.async<Measured, Error>((resume) => {
    const args = [...(autoMtls ? ["-mtls"] : []), "-bench", String(calls), "-rounds", String(rounds), kvplugin]
    const child = execFile(kvhost, args, { timeout: 120_000 }, (error, stdout, stderr) =>
      resume(error === null ? Effect.succeed(JSON.parse(stdout) as Measured) : Effect.fail(new Error(`kvhost: ${error.message}\n${stderr}`))))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/** The rows `goplugin.start`, `goplugin.start.mtls` and `goplugin.call.p50`. */
export const goPluginRows = (options: BenchOptions) =>
  Effect.gen(function*() {
    const { kvhost, kvplugin } = yield* Effect.try(() => goFixtures())
    const rounds = options.quick ? 3 : 15
    const calls = options.quick ? 200 : 2000
    // Warm-up of both (file cache, Go's and Node's first-use costs), not counted.
    yield* typescriptHost(kvplugin, false, 1, 50)
    yield* goHost(kvhost, kvplugin, false, 1, 50)
    const tsPlain = yield* typescriptHost(kvplugin, false, rounds, calls)
    const goPlain = yield* goHost(kvhost, kvplugin, false, rounds, calls)
    yield* progress(`goplugin start (plain): ${pair(tsPlain.startMs, goPlain.startMs, "ms")}`)
    yield* progress(`goplugin Get p50: ${pair(tsPlain.callP50Ms * 1000, goPlain.callP50Ms * 1000, "µs")}`)
    const tsTls = yield* typescriptHost(kvplugin, true, rounds, 0)
    const goTls = yield* goHost(kvhost, kvplugin, true, rounds, 1)
    yield* progress(`goplugin start (AutoMTLS): ${pair(tsTls.startMs, goTls.startMs, "ms")}`)
    const note = `${rounds} launches, median; ${calls} sequential calls per launch`
    const target = { kind: "ratioAtMost", value: 1.5 } as const
    return [
      { id: "goplugin.start", group: "go-plugin", label: "start → connected (plain)", unit: "ms", library: tsPlain.startMs, baseline: goPlain.startMs, baselineName: BASELINE, target, note },
      { id: "goplugin.start.mtls", group: "go-plugin", label: "start → connected (AutoMTLS)", unit: "ms", library: tsTls.startMs, baseline: goTls.startMs, baselineName: BASELINE, target, note },
      { id: "goplugin.call.p50", group: "go-plugin", label: "unary Get p50 (plain)", unit: "µs", library: tsPlain.callP50Ms * 1000, baseline: goPlain.callP50Ms * 1000, baselineName: BASELINE, target, note }
    ] satisfies ReadonlyArray<Row>
  })
