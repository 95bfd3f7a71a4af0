/**
 * `goplugin up` as a user runs it: a real CLI process runs a host's plugins in the foreground until a
 * signal stops it, then exits 143 (SIGTERM) or 130 (Ctrl-C) with every plugin process gone.
 */
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { bin, leftovers, makeTempDir, removeDir } from "./cliHelpers.js"
import { nodePlugin, renderConfig, root, survivors } from "./helpers.js"

interface UpRun {
  readonly child: ChildProcessWithoutNullStreams
  readonly lines: Array<string>
  /** Resolves with the first stdout line that matches. */
  readonly waitFor: (pattern: RegExp) => Promise<string>
  readonly exited: Promise<number | null>
}

const temps: Array<string> = []

afterEach(async () => {
  for (const dir of temps.splice(0)) {
    expect(await leftovers(`GOPLUGIN_DIR=${dir}`)).toEqual([])
    removeDir(dir)
  }
})

/** Starts `goplugin up …args` over a config with the example REST and gRPC plugins. */
const up = (args: ReadonlyArray<string>): UpRun => {
  const dir = makeTempDir()
  temps.push(dir)
  fs.writeFileSync(
    path.join(dir, "config.toml"),
    renderConfig(
      [nodePlugin("ts_rest", "examples/rest-plugin.cjs", "rest"), nodePlugin("ts_grpc", "examples/grpc-plugin.js", "grpc")],
      { demo: ["ts_rest", "ts_grpc"] },
      "restart = true"
    )
  )
  const child = spawn(process.execPath, [bin, "up", ...args], {
    cwd: root,
    env: { ...process.env, GOPLUGIN_DIR: dir, FORCE_COLOR: "1" },
    stdio: ["pipe", "pipe", "pipe"]
  })
  const lines: Array<string> = []
  const waiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = []
  let buffered = ""
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8")
    const parts = buffered.split("\n")
    buffered = parts.pop() ?? ""
    for (const line of parts) {
      lines.push(line)
      for (const waiter of waiters.filter((w) => w.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(line)
      }
    }
  })
  let stderr = ""
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
  const waitFor = (pattern: RegExp) => {
    const seen = lines.find((line) => pattern.test(line))
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise<string>((resolve, reject) => {
      waiters.push({ pattern, resolve })
      void exited.then((code) => reject(new Error(`goplugin up exited (${code}) before ${pattern}:\n${lines.join("\n")}\n${stderr}`)))
    })
  }
  return { child, lines, waitFor, exited }
}

describe("goplugin up", () => {
  it.live("prints plugin lines behind their name and a ready line; SIGTERM stops every plugin and exits 143", () =>
    Effect.promise(async () => {
      const run = up(["demo"])
      const ready = await run.waitFor(/^ready: /)
      const pids = Array.from(ready.matchAll(/pid (\d+)/g), (match) => Number(match[1]))
      expect(ready).toMatch(/^ready: ts_rest \(pid \d+, port \d+\), ts_grpc \(pid \d+, port \d+\)/)
      expect(pids).toHaveLength(2)
      expect(run.lines).toContainEqual(expect.stringMatching(/^ts_rest {2}\| listening on 127\.0\.0\.1:\d+ \(rest\)$/))
      expect(run.lines).toContainEqual(expect.stringMatching(/^ts_grpc {2}\| listening on 127\.0\.0\.1:\d+ \(grpc\)$/))
      // Not a terminal: no colour, even though FORCE_COLOR is set for other tools.
      expect(run.lines.join("\n")).not.toContain("\u001b[")

      run.child.kill("SIGTERM")
      expect(await run.exited).toBe(143)
      expect(run.lines).toContain("stopping ts_rest, ts_grpc")
      expect(await Effect.runPromise(survivors(pids))).toEqual([])
    }))

  it.live("--json prints events as JSON lines, a crash and the restart included; Ctrl-C exits 130", () =>
    Effect.promise(async () => {
      const run = up(["demo", "ts_rest", "--json"])
      const ready = JSON.parse(await run.waitFor(/"type":"ready"/)) as { plugins: Array<{ plugin: string; pid: number; port: number }> }
      expect(ready.plugins).toEqual([{ plugin: "ts_rest", pid: expect.any(Number), port: expect.any(Number) }])
      const first = ready.plugins[0]!.pid
      process.kill(first, "SIGKILL")
      const crashed = JSON.parse(await run.waitFor(/"event":"PluginCrashed"/)) as Record<string, unknown>
      expect(crashed).toMatchObject({ type: "event", plugin: "ts_rest", pid: first, signal: "SIGKILL" })
      const restarted = JSON.parse(await run.waitFor(/"event":"PluginRestarted"/)) as { pid: number }
      const log = JSON.parse(await run.waitFor(/"type":"log"/)) as Record<string, unknown>
      expect(log).toMatchObject({ level: "INFO", plugin: "ts_rest", host: "demo", stream: "stderr" })
      for (const line of run.lines) expect(() => JSON.parse(line)).not.toThrow()

      run.child.kill("SIGINT")
      expect(await run.exited).toBe(130)
      expect(await Effect.runPromise(survivors([first, restarted.pid]))).toEqual([])
    }))
})
