/**
 * Row 6: checksum speed. The library's `Md5Checker.digest` of a 100 MiB file against the `md5sum`
 * command (spawned, timed until it exits) on the same file, both reading from the page cache after a
 * warm-up. MB/s is 10^6 bytes per second.
 */
import { Effect } from "effect"
import { Md5Checker } from "goplugin-effect"
import { spawn } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { type BenchOptions, pair, progress } from "./measure.js"
import { median, now, type Row } from "./stats.js"

const SIZE = 100 * 1024 * 1024

/** A 100 MiB file of random bytes, deleted when the scope closes. */
const bigFile = Effect.acquireRelease(
  Effect.sync(() => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "goplugin-bench-md5-")), "100MiB.bin")
    const fd = fs.openSync(file, "w")
    const chunk = 1024 * 1024
    for (let written = 0; written < SIZE; written += chunk) fs.writeSync(fd, crypto.randomBytes(chunk))
    fs.closeSync(fd)
    return file
  }),
  (file) => Effect.sync(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }))
)

const md5sum = (file: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const child = spawn("md5sum", [file], { stdio: ["ignore", "pipe", "inherit"] })
    let out = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk))
    child.on("error", reject)
    child.on("close", (code) => (code === 0 ? resolve(out.split(" ")[0]!) : reject(new Error(`md5sum exited ${code}`))))
  })

/** The checksum row. */
export const checksumRows = (options: BenchOptions) =>
  Effect.gen(function*() {
    const file = yield* bigFile
    const checker = yield* Md5Checker.Md5Checker
    const library = Effect.gen(function*() {
      const start = now()
      const digest = yield* checker.digest(file)
      return { digest, mbps: SIZE / 1e6 / ((now() - start) / 1000) }
    })
    const baseline = Effect.promise(async () => {
      const start = now()
      const digest = await md5sum(file)
      return { digest, mbps: SIZE / 1e6 / ((now() - start) / 1000) }
    })
    const first = yield* library
    const reference = yield* baseline
    if (first.digest !== reference.digest) {
      return yield* Effect.dieMessage(`md5 differs: library ${first.digest}, md5sum ${reference.digest}`)
    }
    const reps = options.quick ? 1 : 3
    const lib: Array<number> = []
    const raw: Array<number> = []
    for (let i = 0; i < reps; i++) {
      if (i % 2 === 0) lib.push((yield* library).mbps)
      raw.push((yield* baseline).mbps)
      if (i % 2 === 1) lib.push((yield* library).mbps)
    }
    const row: Row = {
      id: "checksum.md5.100MiB",
      group: "checksum",
      label: "md5 of a 100 MiB file",
      unit: "MB/s",
      library: median(lib),
      baseline: median(raw),
      baselineName: "the md5sum command (coreutils), spawned, same file",
      target: { kind: "ratioAtLeast", value: 0.8 },
      note: `median of ${reps}`
    }
    yield* progress(`checksum: ${pair(row.library!, row.baseline!, "MB/s")}`)
    return [row]
  }).pipe(Effect.scoped)
