/**
 * Shared test helpers: temporary config folders with real checksums, and checks that processes are gone.
 */
import { Effect, HashMap, Layer, Logger, LogLevel } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import * as GoPlugin from "../src/GoPlugin.js"

/** The repository root. */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

/** A built example or fixture plugin (compiled by `npm run build` into build/). */
export const built = (relative: string): string => path.join(root, "build", relative)

/** The md5 of a file, computed independently of the library. */
export const md5Of = (file: string): string => crypto.createHash("md5").update(fs.readFileSync(file)).digest("hex")

/** A fresh temporary folder, removed when the scope closes. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => fs.mkdtempSync(path.join(os.tmpdir(), "goplugin-test-"))),
  (dir) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
)

/** A `[plugins.<name>]` table for a plugin started as `exec args…`, with the real md5 of `execFile`. */
export interface PluginEntry {
  readonly name: string
  readonly exec: string
  readonly args?: ReadonlyArray<string>
  readonly execFile: string
  /** What to write as `exec_file` when it should differ from the file the md5 is taken of. */
  readonly execFileAs?: string
  readonly commType: string
  readonly execTime?: number
  readonly extra?: string
}

const tomlString = (s: string) => JSON.stringify(s)

/** Renders a config with the given plugins and hosts. */
export const renderConfig = (
  plugins: ReadonlyArray<PluginEntry>,
  hosts: Readonly<Record<string, ReadonlyArray<string>>>,
  settings = ""
): string => {
  const lines = ["[meta]", `version = "1.0.0"`, "", "[settings]", settings, ""]
  for (const p of plugins) {
    lines.push(
      `[plugins.${p.name}]`,
      `author = "test|test@example.com"`,
      `md5 = "${md5Of(p.execFile)}"`,
      `exec = ${tomlString(p.exec)}`,
      `exec_args = [${(p.args ?? []).map(tomlString).join(", ")}]`,
      `exec_file = ${tomlString(p.execFileAs ?? p.execFile)}`,
      `exec_time = ${p.execTime ?? 10}`,
      `comm_type = "${p.commType}"`,
      p.extra ?? "",
      ""
    )
  }
  for (const [host, names] of Object.entries(hosts)) {
    lines.push(`[hosts.${host}]`, `plugins = [${names.map(tomlString).join(", ")}]`, "")
  }
  return lines.join("\n")
}

/** A node plugin from build/, started with this very node binary. */
export const nodePlugin = (name: string, script: string, commType: string, extra: Partial<PluginEntry> = {}): PluginEntry => ({
  name,
  exec: process.execPath,
  args: [built(script)],
  execFile: built(script),
  commType,
  ...extra
})

/** The Python example plugin. */
export const pythonPlugin = (name: string): PluginEntry => {
  const script = path.join(root, "examples", "python", "plugin.py")
  return { name, exec: "python3", args: [script], execFile: script, commType: "rest" }
}

/** Writes a config into a temporary folder and returns its path. */
export const writeConfig = (dir: string, text: string): string => {
  const file = path.join(dir, "config.toml")
  fs.writeFileSync(file, text)
  return file
}

/** The library's layer over a config file, with plugin logs kept quiet unless they are warnings. */
export const testLayer = (configFile: string, options: Omit<GoPlugin.GoPluginOptions, "configFile"> = {}) =>
  GoPlugin.layer({ ...options, configFile }).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)))

/** Whether a pid names a live process; a zombie (already dead, waiting to be reaped) counts as gone. */
export const isAlive = (pid: number): boolean => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
    return state !== "Z" && state !== "X"
  } catch {
    return false
  }
}

/**
 * Waits until none of the pids is alive, up to a bound (signals are delivered asynchronously), and
 * returns the ones still alive, so a test asserts on an empty list.
 */
export const survivors = (pids: ReadonlyArray<number>, withinMillis = 3000): Effect.Effect<ReadonlyArray<number>> =>
  Effect.promise(() => aliveAfter(() => pids.filter(isAlive), withinMillis))

/**
 * Asks `alive` every `everyMillis` until it answers no pid or `withinMillis` have passed, and answers
 * its last answer: what every "nothing is left" check waits with.
 */
export const aliveAfter = async (
  alive: () => ReadonlyArray<number>,
  withinMillis: number,
  everyMillis = 10
): Promise<ReadonlyArray<number>> => {
  const deadline = Date.now() + withinMillis
  let found = alive()
  while (found.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, everyMillis))
    found = alive()
  }
  return found
}

/** Every live process whose command line mentions `needle` (e.g. a temp folder), for leak checks. */
export const processesMentioning = (needle: string): ReadonlyArray<number> =>
  fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => {
    if (pid === process.pid) return false
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(needle) && isAlive(pid)
    } catch {
      return false
    }
  })

/** UTF-8 helpers. */
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
export const text = (b: Uint8Array): string => new TextDecoder().decode(b)

/** One captured log line. */
export interface LogLine {
  readonly level: string
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

const messageText = (message: unknown): string =>
  Array.isArray(message) ? message.map(messageText).join(" ") : typeof message === "string" ? message : String(message)

/** A logger that keeps every line in `lines`, replacing the default one where the layer is provided. */
export const captureLogs = () => {
  const lines: Array<LogLine> = []
  const logger = Logger.make(({ annotations, logLevel, message }) => {
    lines.push({ level: logLevel.label, message: messageText(message), annotations: Object.fromEntries(HashMap.toEntries(annotations)) })
  })
  return {
    lines,
    layer: Logger.replace(Logger.defaultLogger, logger),
    /** Lets every level through (providing the library's test layer sets Warning). */
    everyLevel: Logger.minimumLogLevel(LogLevel.All)
  }
}
