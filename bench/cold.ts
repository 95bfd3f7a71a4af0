/**
 * Cold starts (issue 11): what a new process costs before it does any work, against the cheapest
 * process of the same kind started in the same run.
 *
 * - `startup.sdk-vs-python`: the TypeScript SDK REST example plugin, spawn → first successful Ping,
 *   against the Python standard-library example plugin spawned and polled the same way. `node -e 0`
 *   (spawn → exit) is printed beside them: no node program starts faster than that.
 * - `stdio.sdk-vs-node`: one 16 B `Caller.exec` to the TypeScript SDK stdio plugin (a process per
 *   call), against spawning a bare node script that reads stdin and writes one JSend line.
 * - `cli.cold`: `goplugin md5 <small file>` and `goplugin --version`, spawn → exit, against `node -e 0`.
 *
 * Both sides of a row alternate (A B, B A, …) after one warm-up each, so that the machine's load falls
 * on both alike; medians.
 */
import { Effect } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { benchContainer, HOST, payloadOf, plugins, root, type PluginCommand } from "./fixtures.js"
import { type BenchOptions, interleavedLatency, pair, progress } from "./measure.js"
import { rawStartup } from "./startup.js"
import { median, now, type Row } from "./stats.js"

/** Spawn → exit in ms of one command; fails when it exits with a code other than 0. */
const spawnToExit = (command: string, args: ReadonlyArray<string>, input?: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const start = now()
    const child = spawn(command, args, { stdio: ["pipe", "ignore", "ignore"] })
    child.on("error", reject)
    child.on("close", (code) => (code === 0 ? resolve(now() - start) : reject(new Error(`${command} ${args.join(" ")}: exit ${code}`))))
    child.stdin.on("error", () => {})
    child.stdin.end(input ?? "")
  })

/** Medians of each side, measured alternately `reps` times after one warm-up each. */
const alternate = async (
  sides: ReadonlyArray<() => Promise<number>>,
  reps: number
): Promise<ReadonlyArray<ReadonlyArray<number>>> => {
  for (const side of sides) await side()
  const samples = sides.map((): Array<number> => [])
  for (let i = 0; i < reps; i++) {
    const order = i % 2 === 0 ? sides.map((_, j) => j) : sides.map((_, j) => sides.length - 1 - j)
    for (const j of order) samples[j]!.push(await sides[j]!())
  }
  return samples
}

const list = (values: ReadonlyArray<number>) => values.map((v) => v.toFixed(0)).join("/")

const nodeNothing = () => spawnToExit(process.execPath, ["-e", "0"])

/** The REST plugin as tsc writes it (not bundled): importing the packaged SDK and `effect/Effect`. */
const unbundledRest: PluginCommand = {
  ...plugins.tsRest,
  args: [path.join(root, "build", "examples", "rest-plugin.unbundled.js")]
}

const startupRow = (options: BenchOptions) =>
  Effect.promise(async (): Promise<ReadonlyArray<Row>> => {
    const reps = options.quick ? 3 : 15
    const sides = [() => rawStartup(plugins.tsRest), () => rawStartup(plugins.pyRest), nodeNothing]
    const hasUnbundled = fs.existsSync(unbundledRest.args[0]!)
    if (hasUnbundled) sides.push(() => rawStartup(unbundledRest))
    const [ts, py, bare, unbundled] = await alternate(sides, reps)
    const row: Row = {
      id: "startup.sdk-vs-python",
      group: "start-up",
      label: "TypeScript SDK REST plugin, spawn → ready",
      unit: "ms",
      library: median(ts!),
      baseline: median(py!),
      baselineName: "the Python stdlib example plugin (examples/python/plugin.py), spawn → first Ping, same poll",
      target: { kind: "ratioAtMost", value: 1 },
      note: `median of ${reps}; node -e 0 spawn → exit ${median(bare!).toFixed(0)} ms (${list(bare!)}); ` +
        `TypeScript ${list(ts!)} ms, Python ${list(py!)} ms` +
        (unbundled === undefined ? "" : `; the same plugin not bundled (tsc output): ${median(unbundled).toFixed(0)} ms`)
    }
    return [row]
  }).pipe(Effect.tap(([row]) => progress(`start-up SDK vs Python: ${pair(row!.library!, row!.baseline!, "ms")}`)))

/** A bare node stdio "plugin": reads stdin to the end, answers one JSend line echoing the payload. */
const BARE_STDIO = `let body = ""
process.stdin.setEncoding("utf8")
process.stdin.on("data", (chunk) => (body += chunk))
process.stdin.on("end", () => {
  const request = JSON.parse(body)
  process.stdout.write(JSON.stringify({ status: "success", data: { response: request.payload } }) + "\\n")
})
`

const stdioRow = (options: BenchOptions) =>
  Effect.gen(function*() {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "goplugin-bench-cold-"))),
      (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
    )
    const script = path.join(dir, "bare-stdio.cjs")
    fs.writeFileSync(script, BARE_STDIO)
    const payload = payloadOf(16)
    const request = JSON.stringify({ type: "exec", command: "echo", payload: Buffer.from(payload).toString("hex"), host: HOST })
    const container = yield* benchContainer
    const caller = yield* container.run("ts_stdio")
    const bare = () => spawnToExit(process.execPath, [script], request)
    const samples = yield* interleavedLatency(
      { library: caller.exec("echo", payload), baseline: bare },
      { iterations: options.quick ? 4 : 24, blocks: options.quick ? 2 : 12, warmup: 1 }
    )
    // The same plugin spawned by hand, so the note splits the row into the plugin's start and the host's share.
    const [byHand, bareByHand] = yield* Effect.promise(() =>
      alternate([() => spawnToExit(process.execPath, [plugins.tsStdio.file], request), bare], options.quick ? 3 : 9)
    )
    const row: Row = {
      id: "stdio.sdk-vs-node",
      group: "stdio",
      label: "TypeScript SDK plugin exec 16 B, per call",
      unit: "ms",
      library: median(samples.library),
      baseline: median(samples.baseline),
      baselineName: "spawn a bare node script that reads stdin and writes one JSend line",
      target: { kind: "ratioAtMost", value: 1.5 },
      note: `median of ${samples.library.length}; SDK ${list(samples.library)} ms, bare node ${list(samples.baseline)} ms; ` +
        `without the host, the SDK plugin spawned by hand ${median(byHand!).toFixed(0)} ms against bare node ` +
        `${median(bareByHand!).toFixed(0)} ms (alternated, median of ${byHand!.length})`
    }
    yield* progress(`stdio SDK vs bare node: ${pair(row.library!, row.baseline!, "ms")}`)
    return [row]
  }).pipe(Effect.scoped)

const cliRows = (options: BenchOptions) =>
  Effect.promise(async (): Promise<ReadonlyArray<Row>> => {
    const reps = options.quick ? 3 : 15
    const bin = path.join(root, "dist", "cli", "bin.js")
    const small = path.join(root, "package.json")
    const [md5, version, bare] = await alternate([
      () => spawnToExit(process.execPath, [bin, "md5", small]),
      () => spawnToExit(process.execPath, [bin, "--version"]),
      nodeNothing
    ], reps)
    const base = median(bare!)
    const row = (id: string, label: string, values: ReadonlyArray<number>): Row => ({
      id,
      group: "cli",
      label,
      unit: "ms",
      library: median(values),
      baseline: base,
      baselineName: "node -e 0, spawn → exit",
      target: { kind: "ratioAtMost", value: 3 },
      note: `median of ${reps}; goplugin ${list(values)} ms, node -e 0 ${list(bare!)} ms`
    })
    const md5Row = row("cli.cold.md5", "goplugin md5 package.json, spawn → exit", md5!)
    const versionRow = row("cli.cold.version", "goplugin --version, spawn → exit", version!)
    const slower = md5Row.library! >= versionRow.library! ? md5Row : versionRow
    return [{ ...slower, id: "cli.cold", label: "goplugin md5 / --version, the slower, spawn → exit" }, md5Row, versionRow]
  }).pipe(Effect.tap((rows) => progress(`cli cold: ${pair(rows[0]!.library!, rows[0]!.baseline!, "ms")}`)))

/** The cold-start rows: plugin start-up against Python, a stdio call against bare node, the CLI against `node -e 0`. */
export const coldRows = (options: BenchOptions) =>
  Effect.gen(function*() {
    const startup = yield* startupRow(options)
    const stdio = yield* stdioRow(options)
    const cli = yield* cliRows(options)
    return [...startup, ...stdio, ...cli]
  })
