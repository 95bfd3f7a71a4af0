/**
 * Numbers and the table: percentiles, medians, the row model every benchmark returns, and the
 * plain-text / markdown rendering of the result table.
 */

/** The value at quantile `q` (0..1) of the samples, nearest-rank on a sorted copy. */
export const percentile = (samples: ReadonlyArray<number>, q: number): number => {
  if (samples.length === 0) return Number.NaN
  const sorted = Float64Array.from(samples).sort()
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]!
}

/** The median (mean of the two middle values for an even count). */
export const median = (values: ReadonlyArray<number>): number => {
  if (values.length === 0) return Number.NaN
  const sorted = Float64Array.from(values).sort()
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** How a row's ratio is judged against its target. */
export type Target =
  /** library / baseline must be at most this (latencies, times). */
  | { readonly kind: "ratioAtMost"; readonly value: number }
  /** library / baseline must be at least this (rates). */
  | { readonly kind: "ratioAtLeast"; readonly value: number }
  /** library - baseline must be at most this many units (start-up: the plugin's own time + 10 ms). */
  | { readonly kind: "plusAtMost"; readonly value: number }
  /** library must be at most this absolute value, and `extraOk` must hold. */
  | { readonly kind: "absoluteAtMost"; readonly value: number }

/** One line of the table. `library` and `baseline` are null when the row could not run. */
export interface Row {
  /** Stable identifier, used to merge runs: e.g. "rest.exec.16B.p50". */
  readonly id: string
  readonly group: string
  readonly label: string
  readonly unit: "µs" | "ms" | "calls/s" | "MB/s" | "MiB"
  readonly library: number | null
  readonly baseline: number | null
  /** What the baseline is, e.g. "raw node:http keep-alive client". */
  readonly baselineName: string
  readonly target?: Target | undefined
  /** A further condition of the target (e.g. "0 left"), false when it does not hold. */
  readonly extraOk?: boolean | undefined
  /** Extra facts for the row (samples, processes left, why n/a). */
  readonly note?: string | undefined
}

/** library / baseline, or null. */
export const ratioOf = (row: Row): number | null =>
  row.library === null || row.baseline === null || row.baseline === 0 ? null : row.library / row.baseline

/** Whether the row meets its target: true, false, or null when it has none or could not run. */
export const verdict = (row: Row): boolean | null => {
  const target = row.target
  if (target === undefined || row.library === null) return null
  const ratio = ratioOf(row)
  let ok: boolean | null
  switch (target.kind) {
    case "ratioAtMost":
      ok = ratio === null ? null : ratio <= target.value
      break
    case "ratioAtLeast":
      ok = ratio === null ? null : ratio >= target.value
      break
    case "plusAtMost":
      ok = row.baseline === null ? null : row.library - row.baseline <= target.value
      break
    case "absoluteAtMost":
      ok = row.library <= target.value
      break
  }
  return ok === null ? null : ok && row.extraOk !== false
}

export const describeTarget = (row: Row): string => {
  const target = row.target
  if (target === undefined) return ""
  switch (target.kind) {
    case "ratioAtMost":
      return `≤ ${target.value}×`
    case "ratioAtLeast":
      return `≥ ${target.value}×`
    case "plusAtMost":
      return `≤ base + ${target.value} ${row.unit}`
    case "absoluteAtMost":
      return `≤ ${target.value} ${row.unit}${row.extraOk === undefined ? "" : ", 0 left"}`
  }
}

/** A number with about three significant digits and its unit. */
export const formatValue = (value: number | null, unit: Row["unit"]): string => {
  if (value === null || Number.isNaN(value)) return "n/a"
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2
  const text = value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits })
  return `${text} ${unit}`
}

const formatRatio = (row: Row): string => {
  if (row.target?.kind === "plusAtMost" && row.library !== null && row.baseline !== null) {
    const delta = row.library - row.baseline
    return `${delta >= 0 ? "+" : ""}${formatValue(delta, row.unit)}`
  }
  const ratio = ratioOf(row)
  return ratio === null ? "" : `${ratio.toFixed(2)}×`
}

const verdictText = (row: Row): string => {
  const ok = verdict(row)
  return ok === null ? "" : ok ? "met" : "MISSED"
}

const HEADERS = ["row", "goplugin-effect", "baseline", "ratio", "target", ""] as const

const cellsOf = (row: Row): ReadonlyArray<string> => [
  `${row.group} ${row.label}`,
  row.library === null ? (row.note ?? "n/a") : formatValue(row.library, row.unit),
  row.library === null && row.baseline === null ? "" : formatValue(row.baseline, row.unit),
  formatRatio(row),
  describeTarget(row),
  verdictText(row)
]

/** The table as aligned markdown (it reads fine in a terminal too). */
export const renderTable = (rows: ReadonlyArray<Row>): string => {
  const body = rows.map(cellsOf)
  const widths = HEADERS.map((header, i) => Math.max(header.length, ...body.map((cells) => cells[i]!.length)))
  const numeric = [false, true, true, true, false, false]
  const line = (cells: ReadonlyArray<string>) =>
    `| ${cells.map((cell, i) => (numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(" | ")} |`
  const rule = `|${widths.map((w, i) => (numeric[i] ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`
  return [line(HEADERS), rule, ...body.map(line)].join("\n")
}

/** The baselines named once, under the table. */
export const renderLegend = (rows: ReadonlyArray<Row>): string => {
  const seen = new Map<string, Array<string>>()
  for (const row of rows) {
    const list = seen.get(row.baselineName) ?? []
    if (!list.includes(row.group)) list.push(row.group)
    seen.set(row.baselineName, list)
  }
  const notes = rows.filter((row) => row.note !== undefined && row.library !== null)
  return [
    "baselines:",
    ...Array.from(seen, ([name, groups]) => `  ${groups.join(", ")}: ${name}`),
    ...(notes.length === 0 ? [] : ["notes:", ...notes.map((row) => `  ${row.group} ${row.label}: ${row.note}`)])
  ].join("\n")
}

/** Monotonic milliseconds. */
export const now = (): number => performance.now()

let collect: (() => void) | undefined

/**
 * Runs a full garbage collection, so that a major GC owed to the previous rows' garbage (the 1 MiB
 * rows leave ~200 MB behind) does not land inside one side's start-up or stop measurement. Both sides
 * get it before every repetition. Uses `--expose-gc` switched on at run time.
 */
export const settleHeap = async (): Promise<void> => {
  if (collect === undefined) {
    const v8 = await import("node:v8")
    const vm = await import("node:vm")
    v8.setFlagsFromString("--expose-gc")
    collect = vm.runInNewContext("gc") as () => void
  }
  collect()
}
