/**
 * Row 4: stdio exec, one process per call. The library's `Caller.exec` (comm_type "stdio") against a
 * raw `child_process.spawn` of the same plugin (examples/stdio-plugin.ts) doing the same exchange: one
 * JSON request on stdin, end-of-file, one JSend answer on stdout, exit.
 *
 * When this build has no stdio driver, `container.run` fails with UnsupportedProtocol and the rows say so.
 */
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { benchContainer, HOST, payloadOf, plugins } from "./fixtures.js"
import { type BenchOptions, interleavedLatency, latencyRows, pair, progress, sizeLabel } from "./measure.js"
import type { Row } from "./stats.js"

const SIZES = [16, 64 * 1024]
const BASELINE = "raw child_process.spawn of the same plugin, same JSON request and JSend answer"

/** The environment the library gives a stdio plugin (no port, no token: only the host holds the pipe). */
const stdioEnv = (): NodeJS.ProcessEnv => ({ ...process.env, GOPLUGIN_HOST: HOST, GOPLUGIN_PLUGIN: "raw" })

/** One call the way a hand-written host does it. */
export const rawStdioExec = (command: string, payload: Uint8Array): Promise<Uint8Array> =>
  new Promise((resolve, reject) => {
    const child = spawn(plugins.tsStdio.exec, plugins.tsStdio.args, { stdio: ["pipe", "pipe", "pipe"], env: stdioEnv() })
    const out: Array<Buffer> = []
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk))
    child.stderr.resume()
    child.on("error", reject)
    child.on("close", (code) => {
      try {
        const answer = JSON.parse(Buffer.concat(out).toString("utf8")) as { status?: string; data?: { response?: string } }
        if (code !== 0 || answer.status !== "success" || typeof answer.data?.response !== "string") {
          return reject(new Error(`exit ${code}: ${JSON.stringify(answer)}`))
        }
        resolve(new Uint8Array(Buffer.from(answer.data.response, "hex")))
      } catch (error) {
        reject(error)
      }
    })
    const hex = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("hex")
    child.stdin.end(JSON.stringify({ type: "exec", command, payload: hex, host: HOST }))
  })

const unavailable = (note: string): ReadonlyArray<Row> =>
  SIZES.flatMap((size) =>
    [50, 99].map((q): Row => ({
      id: `stdio.exec.${sizeLabel(size).replace(" ", "")}.p${q}`,
      group: "stdio",
      label: `exec ${sizeLabel(size)} p${q}`,
      unit: "ms",
      library: null,
      baseline: null,
      baselineName: BASELINE,
      target: q === 50 ? { kind: "ratioAtMost", value: 1.1 } : undefined,
      note
    }))
  )

/** The stdio rows: exec p50/p99 at 16 B and 64 KiB, in ms (each call starts a node process). */
export const stdioRows = (options: BenchOptions) =>
  Effect.gen(function*() {
    const container = yield* benchContainer
    const started = yield* Effect.either(container.run("ts_stdio"))
    if (started._tag === "Left") {
      if (started.left._tag === "UnsupportedProtocol") {
        yield* progress("stdio: n/a, this build has no stdio driver (UnsupportedProtocol)")
        return unavailable("n/a (no stdio driver in this build)")
      }
      return yield* Effect.fail(started.left)
    }
    const caller = started.right
    const rows: Array<Row> = []
    for (const size of SIZES) {
      const payload = payloadOf(size)
      const check = yield* caller.exec("echo", payload)
      if (Buffer.compare(Buffer.from(check), Buffer.from(payload)) !== 0) {
        return yield* Effect.dieMessage(`stdio: the library's echo of ${size} B differs`)
      }
      const samples = yield* interleavedLatency(
        { library: caller.exec("echo", payload), baseline: () => rawStdioExec("echo", payload) },
        // Each call starts a node process (~0.1 to 0.5 s here): few calls, so p99 is close to the maximum.
        { iterations: options.quick ? 4 : size <= 1024 ? 12 : 8, blocks: options.quick ? 2 : 4, warmup: 1 }
      )
      const sizeRows = latencyRows("stdio", "stdio.exec", size, samples, BASELINE, { kind: "ratioAtMost", value: 1.1 }, "ms")
      yield* progress(`stdio exec ${sizeLabel(size)} p50: ${pair(sizeRows[0]!.library!, sizeRows[0]!.baseline!, "ms")}`)
      rows.push(...sizeRows)
    }
    return rows
  }).pipe(Effect.scoped)
