/**
 * Helpers for testing the built `goplugin` command as a subprocess: run it, parse its JSON, and find
 * processes it may have left behind.
 */
import { afterEach, beforeAll, expect } from "@effect/vitest"
import { Console, Effect, Either } from "effect"
import { type ChildProcessByStdio, type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { Readable } from "node:stream"
import { runCli, services } from "../src/cli/main.js"
import { aliveAfter, isAlive, root } from "./helpers.js"

/** The built command (compiled by `npm run build`). */
export const bin = path.join(root, "dist", "cli", "bin.js")

/** What one run of the command did. */
export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** stderr split into non-empty lines. */
  readonly errorLines: ReadonlyArray<string>
}

/** Runs `node dist/cli/bin.js ...args` with `GOPLUGIN_DIR` set, and waits for it to exit. */
/** What a finished child process wrote, and its exit code. */
export interface Output {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Collects a child's stdout and stderr until it closes. */
export const outputOf = (child: ChildProcessWithoutNullStreams | ChildProcessByStdio<null, Readable, Readable>): Promise<Output> =>
  new Promise((resolve, reject) => {
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

export const goplugin = (
  gopluginDir: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly input?: string } = {}
): Promise<CliRun> => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? root,
      env: {
        ...process.env,
        GOPLUGIN_DIR: gopluginDir,
        // The example manifests start `node` from PATH: make it this very node.
        PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env["PATH"] ?? ""}`
      },
      stdio: ["pipe", "pipe", "pipe"]
    })
    child.stdin.end(options.input ?? "")
    return outputOf(child).then((output) => ({
      ...output,
      errorLines: output.stderr.split("\n").filter((line) => line.trim() !== "")
    }))
  }

const defaultConsole = Effect.runSync(Effect.console)

/**
 * Runs the command in this process, as `bin.ts` would but with a console that keeps what is printed:
 * the same parser, handlers and exit codes without a Node start per run. `GOPLUGIN_DIR` is set in this
 * process's environment (plugins inherit it, which is how leftovers are found).
 */
export const gopluginInProcess = async (gopluginDir: string, args: ReadonlyArray<string>): Promise<CliRun> => {
  const out: Array<string> = []
  const err: Array<string> = []
  const line = (sink: Array<string>) => (...parts: ReadonlyArray<unknown>) => void sink.push(`${parts.map(String).join(" ")}\n`)
  const capture: Console.Console = {
    ...defaultConsole,
    log: (...parts) => Effect.sync(() => line(out)(...parts)),
    error: (...parts) => Effect.sync(() => line(err)(...parts)),
    unsafe: { ...defaultConsole.unsafe, log: line(out), error: line(err) }
  }
  process.env["GOPLUGIN_DIR"] = gopluginDir
  const nodeDir = path.dirname(process.execPath)
  if (!(process.env["PATH"] ?? "").startsWith(`${nodeDir}${path.delimiter}`)) {
    process.env["PATH"] = `${nodeDir}${path.delimiter}${process.env["PATH"] ?? ""}`
  }
  const code = await Effect.runPromise(runCli(args).pipe(Effect.withConsole(capture), Effect.provide(services)))
  const stderr = err.join("")
  return { code, stdout: out.join(""), stderr, errorLines: stderr.split("\n").filter((l) => l.trim() !== "") }
}

/** Parses the command's stdout as JSON, with the run in the message when it is not JSON. */
export const json = <A = Record<string, unknown>>(run: CliRun): A => {
  const parsed = Either.try(() => JSON.parse(run.stdout) as A)
  expect(Either.isRight(parsed), `stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`).toBe(true)
  return Either.getOrThrow(parsed)
}

/**
 * For a test file that runs the built command: checks it is built, and gives a maker of temporary
 * folders that are handed to `cleanup` (then removed) after each test.
 */
export const builtCliWithTempDirs = (cleanup: (dir: string) => void | Promise<void> = () => {}): (() => string) => {
  const temps: Array<string> = []
  beforeAll(() => {
    expect(fs.existsSync(bin), `${bin} is missing: run npm run build first`).toBe(true)
  })
  afterEach(async () => {
    for (const dir of temps.splice(0)) {
      await cleanup(dir)
      removeDir(dir)
    }
  })
  return () => {
    const dir = makeTempDir()
    temps.push(dir)
    return dir
  }
}

/** A fresh temporary folder; remove it with {@link removeDir}. */
export const makeTempDir = (): string => fs.mkdtempSync(path.join(os.tmpdir(), "goplugin-cli-"))

/** Removes a temporary folder. */
export const removeDir = (dir: string): void => fs.rmSync(dir, { recursive: true, force: true })

/**
 * Live processes (zombies count as gone) whose environment holds `entry`, e.g. `GOPLUGIN_DIR=/tmp/x`:
 * plugins inherit the command's environment, grandchildren included.
 */
export const processesWithEnv = (entry: string): ReadonlyArray<number> =>
  fs.readdirSync("/proc").filter((name) => /^\d+$/.test(name)).map(Number).filter((pid) => {
    if (pid === process.pid) return false
    try {
      return fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(entry) && isAlive(pid)
    } catch {
      return false
    }
  })

/** Waits up to `withinMillis` for every process with `entry` in its environment to be gone; returns the rest. */
export const leftovers = (entry: string, withinMillis = 3000): Promise<ReadonlyArray<number>> =>
  aliveAfter(() => processesWithEnv(entry), withinMillis, 20)

/**
 * Temporary folders for a CLI test file whose GOPLUGIN_DIR is `<temp>/gp`, checking after each test
 * that no process with that GOPLUGIN_DIR is left; `registered` makes one with the example plugins
 * registered from their manifests.
 */
export const exampleGopluginDirs = (examples: ReadonlyArray<string> = ["ts-rest", "ts-grpc"]) => {
  const tempDir = builtCliWithTempDirs(async (dir) => {
    expect(await leftovers(`GOPLUGIN_DIR=${path.join(dir, "gp")}`)).toEqual([])
  })
  const registered = async (): Promise<string> => {
    const dir = path.join(tempDir(), "gp")
    for (const name of examples) {
      expect((await gopluginInProcess(dir, ["register", path.join(root, "examples", "manifests", name)])).code).toBe(0)
    }
    return dir
  }
  return { tempDir, registered }
}
