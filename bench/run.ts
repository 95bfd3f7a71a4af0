#!/usr/bin/env node
/**
 * `npm run bench`: measures goplugin-effect against real plugin processes, each row against a baseline
 * measured in the same run on the same plugin, and prints one table.
 *
 *   node build/bench/run.js [--json FILE] [--quick] [--only rest,grpc,stdio,startup,checksum,stop,memory,guard,cold,typed,goplugin]
 *   node build/bench/run.js --merge a.json b.json c.json [--json FILE]   (median table of several runs)
 */
import { NodeRuntime } from "@effect/platform-node"
import { Cause, Effect } from "effect"
import type { GoPlugin } from "goplugin-effect"
import * as fs from "node:fs"
import * as os from "node:os"
import { checksumRows } from "./checksum.js"
import { coldRows } from "./cold.js"
import { isAlive, libraryLayer, tempConfig } from "./fixtures.js"
import { goPluginRows } from "./goplugin.js"
import { grpcRows } from "./grpc.js"
import { guardRows } from "./guard.js"
import { memoryRows } from "./memory.js"
import type { BenchOptions } from "./measure.js"
import { restRows } from "./rest.js"
import { startupRows } from "./startup.js"
import { median, now, ratioOf, renderLegend, renderTable, type Row, verdict } from "./stats.js"
import { stdioRows } from "./stdio.js"
import { stopRows } from "./stop.js"
import { typedRows } from "./typed.js"

type Section = "rest" | "grpc" | "stdio" | "startup" | "checksum" | "stop" | "memory" | "guard" | "cold" | "typed" | "goplugin"

const SECTIONS: Record<
  Section,
  (options: BenchOptions) => Effect.Effect<ReadonlyArray<Row>, unknown, GoPlugin.GoPluginServices>
> = {
  rest: restRows,
  grpc: grpcRows,
  stdio: stdioRows,
  startup: startupRows,
  checksum: checksumRows,
  stop: stopRows,
  memory: memoryRows,
  guard: guardRows,
  cold: coldRows,
  typed: typedRows,
  goplugin: goPluginRows
}

interface Args {
  readonly json: string | undefined
  readonly quick: boolean
  readonly only: ReadonlyArray<Section>
  readonly merge: ReadonlyArray<string>
}

const usage = "usage: run.js [--json FILE] [--quick] [--only rest,grpc,stdio,startup,checksum,stop,memory,guard,cold,typed,goplugin] | --merge A.json B.json … [--json FILE]"

const parseArgs = (argv: ReadonlyArray<string>): Args => {
  let json: string | undefined
  let quick = false
  let only: Array<Section> = Object.keys(SECTIONS) as Array<Section>
  const merge: Array<string> = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--json") {
      json = argv[++i]
      if (json === undefined) throw new Error(`--json needs a file name\n${usage}`)
    } else if (arg.startsWith("--json=")) json = arg.slice("--json=".length)
    else if (arg === "--quick") quick = true
    else if (arg === "--only" || arg.startsWith("--only=")) {
      const list = arg === "--only" ? argv[++i] ?? "" : arg.slice("--only=".length)
      only = list.split(",").map((s) => s.trim()).filter((s) => s !== "") as Array<Section>
      const unknown = only.filter((s) => !(s in SECTIONS))
      if (unknown.length > 0) throw new Error(`unknown section(s) ${unknown.join(", ")}\n${usage}`)
    } else if (arg === "--merge") {
      while (i + 1 < argv.length && !argv[i + 1]!.startsWith("--")) merge.push(argv[++i]!)
    } else if (arg === "--help" || arg === "-h") {
      console.log(usage)
      process.exit(0)
    } else throw new Error(`unknown argument ${arg}\n${usage}`)
  }
  return { json, quick, only, merge }
}

/** What the table ran on. */
const machine = () => {
  const cpuinfo = fs.existsSync("/proc/cpuinfo") ? fs.readFileSync("/proc/cpuinfo", "utf8") : ""
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? "unknown"
  return {
    nproc: os.availableParallelism(),
    cpu: model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg().map((n) => Number(n.toFixed(2)))
  }
}

/**
 * Every process this run started inherits this variable (the library passes the host's environment on,
 * and the baselines spawn with it), so leftovers are found without counting other people's plugins.
 */
const RUN_MARK = `GOPLUGIN_BENCH_RUN=${process.pid}`
process.env["GOPLUGIN_BENCH_RUN"] = String(process.pid)

/** Processes this run started that are still alive (there must be none when the run ends). */
const leftoverPlugins = (): ReadonlyArray<string> =>
  fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).flatMap((entry) => {
    const pid = Number(entry)
    if (pid === process.pid) return []
    try {
      const environ = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")
      if (!environ.includes(RUN_MARK) || !isAlive(pid)) return []
      return [`${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ")}`]
    } catch {
      return []
    }
  })

const failedRow = (section: string, cause: Cause.Cause<unknown>): Row => ({
  id: `${section}.failed`,
  group: section,
  label: "failed",
  unit: "ms",
  library: null,
  baseline: null,
  baselineName: "-",
  note: `error: ${Cause.pretty(cause).split("\n")[0]}`
})

const withVerdicts = (rows: ReadonlyArray<Row>) => rows.map((row) => ({ ...row, ratio: ratioOf(row), met: verdict(row) }))

const print = (rows: ReadonlyArray<Row>, header: string) => {
  console.log(`\n${header}\n`)
  console.log(renderTable(rows))
  console.log(`\n${renderLegend(rows)}`)
}

const bench = (args: Args) =>
  Effect.gen(function*() {
    const options: BenchOptions = { quick: args.quick }
    const info = machine()
    const started = now()
    process.stderr.write(
      `goplugin-effect bench: ${info.nproc} × ${info.cpu}, node ${info.node}, load ${info.loadavg.join(" ")}` +
        `${args.quick ? " (quick: not for quoting)" : ""}\n`
    )
    const rows: Array<Row> = []
    yield* Effect.gen(function*() {
      const configFile = yield* tempConfig
      for (const section of args.only) {
        process.stderr.write(`${section}\n`)
        const sectionStart = now()
        const sectionRows = yield* SECTIONS[section](options).pipe(
          Effect.provide(libraryLayer(configFile)),
          Effect.catchAllCause((cause) =>
            Effect.sync(() => {
              process.stderr.write(`${section} failed:\n${Cause.pretty(cause)}\n`)
              return [failedRow(section, cause)]
            })
          )
        )
        rows.push(...sectionRows)
        process.stderr.write(`  (${section}: ${((now() - sectionStart) / 1000).toFixed(1)} s)\n`)
      }
    }).pipe(Effect.scoped)
    const seconds = (now() - started) / 1000
    print(rows, `goplugin-effect benchmarks (${info.nproc} × ${info.cpu}, node ${info.node}; ${seconds.toFixed(0)} s)`)
    const left = leftoverPlugins()
    if (left.length > 0) console.log(`\nWARNING: plugin processes still running:\n${left.join("\n")}`)
    if (args.json !== undefined) {
      const report = {
        date: new Date().toISOString(),
        command: `node build/bench/run.js ${process.argv.slice(2).join(" ")}`.trim(),
        machine: info,
        quick: args.quick,
        seconds: Number(seconds.toFixed(1)),
        leftoverPlugins: left,
        rows: withVerdicts(rows)
      }
      fs.writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`)
      process.stderr.write(`results written to ${args.json}\n`)
    }
    if (left.length > 0) process.exitCode = 1
  })

interface Report {
  readonly machine: ReturnType<typeof machine>
  readonly seconds: number
  readonly rows: ReadonlyArray<Row>
}

/** The per-row median of several runs' JSON reports. */
const merge = (args: Args) =>
  Effect.sync(() => {
    const reports = args.merge.map((file) => JSON.parse(fs.readFileSync(file, "utf8")) as Report)
    const first = reports[0]
    if (first === undefined) throw new Error(`--merge needs at least one JSON report\n${usage}`)
    const values = (id: string, pick: (row: Row) => number | null) =>
      reports.flatMap((report) => report.rows.filter((row) => row.id === id).map(pick)).filter((v): v is number => v !== null)
    const rows = first.rows.map((row): Row => {
      const library = values(row.id, (r) => r.library)
      const baseline = values(row.id, (r) => r.baseline)
      const all = reports.flatMap((report) => report.rows.filter((r) => r.id === row.id))
      const perRun = all.map((r) =>
        r.library === null || r.baseline === null
          ? "-"
          : row.target?.kind === "plusAtMost"
          ? `${r.library - r.baseline >= 0 ? "+" : ""}${(r.library - r.baseline).toFixed(1)}`
          : (r.library / r.baseline).toFixed(2)
      )
      return {
        ...row,
        library: library.length === 0 ? null : median(library),
        baseline: baseline.length === 0 ? null : median(baseline),
        extraOk: row.extraOk === undefined ? undefined : all.every((r) => r.extraOk !== false),
        note: library.length === 0
          ? row.note
          : `median of ${library.length} runs; ${row.target?.kind === "plusAtMost" ? `difference (${row.unit})` : "ratio"} per run ${perRun.join("/")}`
      }
    })
    print(rows, `goplugin-effect benchmarks, median of ${reports.length} runs (${first.machine.nproc} × ${first.machine.cpu}, node ${first.machine.node})`)
    if (args.json !== undefined) {
      fs.writeFileSync(args.json, `${JSON.stringify({ merged: args.merge, machine: first.machine, rows: withVerdicts(rows) }, null, 2)}\n`)
    }
  })

const args = parseArgs(process.argv.slice(2))
NodeRuntime.runMain(args.merge.length > 0 ? merge(args) : bench(args), { disablePrettyLogger: true })
