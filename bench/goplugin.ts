/**
 * go-plugin rows: the TypeScript host through the container path (a `comm_type = "go-plugin"` entry of a
 * config; `Executor.fromHost` + `container.run`, then `caller.exec("kv.KV/Get", JSON)`) against
 * go-plugin 1.0.1's own Go host (test/fixtures/go/kvhost), on the same Go plugin
 * (test/fixtures/go/kvplugin), in the same run: start → connected (checksum, spawn, handshake, connect,
 * first SERVING health check; plain and AutoMTLS) and the p50 of sequential unary `kv.KV/Get` calls.
 * Each host runs as its own program (bench/goPluginHost.ts for TypeScript), measuring itself; a context
 * row gives the same start measured inside the bench's own, larger process (fork costs more there).
 * docs/benchmarks.md ("go-plugin") has the profile behind these rows.
 * The Go binaries are built (and cached) as the tests do.
 */
import { Effect, Layer, Logger, LogLevel } from "effect"
import { execFile } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Executor, GoPlugin } from "goplugin-effect"
import { goFixtures, kvGoPluginTable, kvProto } from "../test/goFixtures.js"
import { type BenchOptions, pair, progress } from "./measure.js"
import { median, now, percentile, type Row } from "./stats.js"

const BASELINE = "go-plugin 1.0.1 Go host, same plugin"

/** A config with the plugin twice, `kv` (plain) and `kv_tls` (AutoMTLS), in a folder removed with the scope. */
const goConfig = (kvplugin: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "goplugin-bench-go-"))
      fs.copyFileSync(kvProto, path.join(dir, "kv.proto"))
      const md5 = crypto.createHash("md5").update(fs.readFileSync(kvplugin)).digest("hex")
      const entry = (name: string, autoMtls: boolean) => [
        `[plugins.${name}]`,
        `md5 = "${md5}"`,
        `exec = ${JSON.stringify(kvplugin)}`,
        `exec_time = 30`,
        `comm_type = "go-plugin"`,
        kvGoPluginTable(name, autoMtls),
        ""
      ]
      const text = ["[settings]", "call_timeout = 60", "restart = false", "", ...entry("kv", false), ...entry("kv_tls", true), "[hosts.bench]", `plugins = ["kv", "kv_tls"]`, ""]
      const file = path.join(dir, "config.toml")
      fs.writeFileSync(file, text.join("\n"))
      return file
    }),
    (file) => Effect.sync(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }))
  )

/** What each host reports: the median start → connected and the p50 of its sequential Gets, in ms. */
export interface Measured {
  readonly startMs: number
  readonly callP50Ms: number
}

const encoder = new TextEncoder()

/** The TypeScript host as its own program (bench/goPluginHost.ts), like the Go host. */
const typescriptHostProgram = (configFile: string, autoMtls: boolean, rounds: number, calls: number) =>
  Effect.async<Measured, Error>((resume) => {
    const program = fileURLToPath(new URL("./goPluginHost.js", import.meta.url))
    const args = [program, configFile, "bench", autoMtls ? "kv_tls" : "kv", String(rounds), String(calls)]
    const child = execFile(process.execPath, args, { timeout: 120_000 }, (error, stdout, stderr) =>
      resume(error === null ? Effect.succeed(JSON.parse(stdout) as Measured) : Effect.fail(new Error(`goPluginHost: ${error.message}\n${stderr}`))))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

/**
 * The TypeScript host through a container in the current process: one warm-up launch (the file cache,
 * Node's and the Go runtime's first-use costs), then `rounds` launches of `name` from host `host`, each
 * timed from `container.run` to the caller, with `calls` sequential `kv.KV/Get` calls on each.
 */
export const typescriptHost = (configFile: string, host: string, name: string, rounds: number, calls: number) =>
  Effect.gen(function*() {
    const starts: Array<number> = []
    const gets: Array<number> = []
    const get = encoder.encode(JSON.stringify({ key: "k" }))
    for (let round = -1; round < rounds; round++) {
      yield* Effect.scoped(Effect.gen(function*() {
        const container = yield* Executor.fromHost(host)
        const began = now()
        const caller = yield* container.run(name)
        if (round >= 0) starts.push(now() - began)
        yield* caller.exec("kv.KV/Put", encoder.encode(JSON.stringify({ key: "k", value: Buffer.from("v").toString("base64") })))
        for (let i = 0; i < (round >= 0 ? calls : Math.min(calls, 50)); i++) {
          const t = now()
          yield* caller.exec("kv.KV/Get", get)
          if (round >= 0) gets.push(now() - t)
        }
      }))
    }
    return { startMs: median(starts), callP50Ms: gets.length === 0 ? 0 : percentile(gets, 0.5) } satisfies Measured
  }).pipe(
    Effect.provide(Layer.fresh(GoPlugin.layer({ configFile }).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)))))
  )

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
  Effect.scoped(Effect.gen(function*() {
    const { kvhost, kvplugin } = yield* Effect.try(() => goFixtures())
    const configFile = yield* goConfig(kvplugin)
    const rounds = options.quick ? 3 : 15
    const calls = options.quick ? 200 : 2000
    // Warm-up of the Go host (file cache, Go's first-use costs), not counted; the TypeScript side warms up itself.
    yield* goHost(kvhost, kvplugin, false, 1, 50)
    const tsPlain = yield* typescriptHostProgram(configFile, false, rounds, calls)
    const goPlain = yield* goHost(kvhost, kvplugin, false, rounds, calls)
    yield* progress(`goplugin start (plain): ${pair(tsPlain.startMs, goPlain.startMs, "ms")}`)
    yield* progress(`goplugin Get p50: ${pair(tsPlain.callP50Ms * 1000, goPlain.callP50Ms * 1000, "µs")}`)
    const tsTls = yield* typescriptHostProgram(configFile, true, rounds, 0)
    const goTls = yield* goHost(kvhost, kvplugin, true, rounds, 1)
    yield* progress(`goplugin start (AutoMTLS): ${pair(tsTls.startMs, goTls.startMs, "ms")}`)
    const inHere = yield* typescriptHost(configFile, "bench", "kv", rounds, 0)
    yield* progress(`goplugin start (plain) inside the bench process: ${pair(inHere.startMs, goPlain.startMs, "ms")}`)
    // The container hashed the binary at install; each start re-checks it through the cache (a stat
    // while device, inode, size, mtime and ctime are unchanged); go-plugin's host checks nothing.
    const size = (fs.statSync(kvplugin).size / 1e6).toFixed(0)
    const note = `each host is its own program (bench/goPluginHost.ts, test/fixtures/go/kvhost): container.run in a fresh container, ` +
      `${rounds} launches, median; ${calls} sequential caller.exec(JSON) per launch; ` +
      `the TS start re-checks the ${size} MB binary's checksum through the verification cache, which the Go host skips`
    const target = { kind: "ratioAtMost", value: 1.5 } as const
    return [
      { id: "goplugin.start", group: "go-plugin", label: "start → connected (plain)", unit: "ms", library: tsPlain.startMs, baseline: goPlain.startMs, baselineName: BASELINE, target, note },
      { id: "goplugin.start.mtls", group: "go-plugin", label: "start → connected (AutoMTLS)", unit: "ms", library: tsTls.startMs, baseline: goTls.startMs, baselineName: BASELINE, target, note },
      { id: "goplugin.call.p50", group: "go-plugin", label: "unary Get p50 (plain)", unit: "µs", library: tsPlain.callP50Ms * 1000, baseline: goPlain.callP50Ms * 1000, baselineName: BASELINE, target, note },
      {
        id: "goplugin.start.in-bench-process",
        group: "go-plugin",
        label: "start → connected (plain), inside the bench's own process",
        unit: "ms",
        library: inHere.startMs,
        baseline: goPlain.startMs,
        baselineName: BASELINE,
        note: "context for goplugin.start: the same launches from this process, whose heap holds the earlier sections' objects (a larger parent forks slower)"
      }
    ] satisfies ReadonlyArray<Row>
  }))
