/**
 * The plugins the benchmark runs and the temporary config that names them (with their real md5s, the
 * way a host writes its config), plus small process helpers shared by the rows.
 */
import { Effect, Layer, Logger, LogLevel, Scope } from "effect"
import { Executor, GoPlugin } from "goplugin-effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { setTimeout as sleep } from "node:timers/promises"
import { fileURLToPath } from "node:url"

/** The repository root (this file runs from build/bench/). */
export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")

/** The host name every benchmark call is made for. */
export const HOST = "bench"

/** The bench config's `call_timeout`: the deadline every library call carries (gRPC sends it as `grpc-timeout`). */
export const CALL_TIMEOUT_SECONDS = 60

/** How to start one plugin: the same command is used by the library (via the config) and the baselines. */
export interface PluginCommand {
  readonly exec: string
  readonly args: ReadonlyArray<string>
  /** The file whose md5 goes into the config. */
  readonly file: string
  readonly commType: "rest" | "grpc" | "stdio"
}

const nodeScript = (relative: string, commType: PluginCommand["commType"]): PluginCommand => {
  const file = path.join(root, "build", relative)
  return { exec: process.execPath, args: [file], file, commType }
}

/** The example typed plugin (examples/typed/billing-plugin.ts) over one transport. */
const typedBilling = (transport: "rest" | "grpc"): PluginCommand => {
  const script = nodeScript("examples/typed/billing-plugin.js", transport)
  return { ...script, args: [...script.args, "--transport", transport] }
}

/** The example plugins, compiled by `npm run build`. */
export const plugins = {
  tsRest: nodeScript("examples/rest-plugin.cjs", "rest"),
  tsGrpc: nodeScript("examples/grpc-plugin.js", "grpc"),
  tsStdio: nodeScript("examples/stdio-plugin.cjs", "stdio"),
  typedRest: typedBilling("rest"),
  typedGrpc: typedBilling("grpc"),
  pyRest: {
    exec: "python3",
    args: [path.join(root, "examples", "python", "plugin.py")],
    file: path.join(root, "examples", "python", "plugin.py"),
    commType: "rest"
  } satisfies PluginCommand
} as const

/**
 * The plugin started 50 times by the KillAll row: the Python one, which starts on a fraction of the
 * CPU a node plugin needs (50 node plugins starting at once take a 2-core machine ~10 s). Override with
 * GOPLUGIN_BENCH_KILL_PLUGIN=ts.
 */
export const killPlugin: PluginCommand = process.env["GOPLUGIN_BENCH_KILL_PLUGIN"] === "ts" ? plugins.tsRest : plugins.pyRest
/** How many plugins the KillAll row starts. */
export const KILL_COUNT = 50
export const killName = (i: number) => `kill_${String(i).padStart(2, "0")}`

const md5Of = (file: string): string => crypto.createHash("md5").update(fs.readFileSync(file)).digest("hex")

const entry = (name: string, plugin: PluginCommand, md5s: Map<string, string>): ReadonlyArray<string> => {
  let md5 = md5s.get(plugin.file)
  if (md5 === undefined) {
    md5 = md5Of(plugin.file)
    md5s.set(plugin.file, md5)
  }
  return [
    `[plugins.${name}]`,
    `md5 = "${md5}"`,
    `exec = ${JSON.stringify(plugin.exec)}`,
    `exec_args = [${plugin.args.map((arg) => JSON.stringify(arg)).join(", ")}]`,
    `exec_file = ${JSON.stringify(plugin.file)}`,
    "exec_time = 60",
    `comm_type = "${plugin.commType}"`,
    ""
  ]
}

/** The config text: one host `bench` allowed every plugin. */
export const configText = (): string => {
  const md5s = new Map<string, string>()
  const named: Array<[string, PluginCommand]> = [
    ["ts_rest", plugins.tsRest],
    ["ts_grpc", plugins.tsGrpc],
    ["ts_stdio", plugins.tsStdio],
    ["py_rest", plugins.pyRest],
    ["typed_rest", plugins.typedRest],
    ["typed_grpc", plugins.typedGrpc],
    ...Array.from({ length: KILL_COUNT }, (_, i): [string, PluginCommand] => [killName(i), killPlugin])
  ]
  return [
    "[meta]",
    `version = "1.0.0"`,
    `author = "goplugin-effect bench"`,
    "",
    "[settings]",
    `call_timeout = ${CALL_TIMEOUT_SECONDS}`,
    "stop_grace = 5",
    "",
    ...named.flatMap(([name, plugin]) => entry(name, plugin, md5s)),
    `[hosts.${HOST}]`,
    `plugins = [${named.map(([name]) => JSON.stringify(name)).join(", ")}]`,
    ""
  ].join("\n")
}

/** A temporary folder with the config, removed when the scope closes. */
export const tempConfig: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "goplugin-bench-"))
    const file = path.join(dir, "config.toml")
    fs.writeFileSync(file, configText())
    return file
  }),
  (file) => Effect.sync(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }))
)

/** The whole library over the config, with plugin log lines (Info) kept out of the table. */
export const libraryLayer = (configFile: string) =>
  GoPlugin.layer({ configFile }).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)))

/** The bench host's container, in a scope of its own. */
export const benchContainer = Executor.fromHost(HOST)

/** Whether a pid names a live process; a zombie counts as gone. */
export const isAlive = (pid: number): boolean => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    const state = stat.charAt(stat.lastIndexOf(")") + 2)
    return state !== "Z" && state !== "X"
  } catch {
    return false
  }
}

/** A free loopback port (bind port 0, release it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Random bytes of a size. */
export const payloadOf = (size: number): Uint8Array => new Uint8Array(crypto.randomBytes(size))

/** Throws unless two byte arrays are equal (checks both sides really did the exchange). */
export const assertEqualBytes = (what: string, actual: Uint8Array, expected: Uint8Array): void => {
  if (actual.length !== expected.length || !Buffer.from(actual).equals(Buffer.from(expected))) {
    throw new Error(`${what}: the answer differs from the payload (${actual.length} vs ${expected.length} bytes)`)
  }
}

/**
 * The per-launch secret the library gave a plugin process (`GOPLUGIN_TOKEN` in its environment), so a
 * baseline client can send the same `Authorization: Bearer …` the library sends; undefined when the
 * library in this build passes none.
 */
export const tokenOf = (pid: number): string | undefined => {
  try {
    const line = fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").find((v) => v.startsWith("GOPLUGIN_TOKEN="))
    return line === undefined || line === "GOPLUGIN_TOKEN=" ? undefined : line.slice("GOPLUGIN_TOKEN=".length)
  } catch {
    return undefined
  }
}

/**
 * Runs a network plugin in the bench host's container and returns its caller with what a raw client
 * needs to reach the same process: its port and its per-launch token.
 */
export const runNetworkPlugin = (name: string) =>
  Effect.gen(function*() {
    const container = yield* benchContainer
    const caller = yield* container.run(name)
    const running = (yield* container.running).find((plugin) => plugin.name === name)
    const port = running?.port
    const pid = running?.process?.pid
    if (port === undefined || pid === undefined) return yield* Effect.dieMessage(`${name} runs without a port or process`)
    return { caller, port, token: tokenOf(pid) }
  })

/** A fresh token for plugins the baselines start by hand (the plugin then checks it, as with the library). */
export const newToken = (): string => crypto.randomBytes(32).toString("hex")

/** A plugin a baseline started by hand, with the secret it was given. */
export interface RawPlugin {
  readonly child: ChildProcess
  readonly token: string
}

/**
 * Starts a plugin the way the library does (same command, `--port`, GOPLUGIN_* environment with a fresh
 * token, stdin a pipe kept open), without the library.
 */
export const rawSpawn = (plugin: PluginCommand, port: number, name = "raw"): RawPlugin => {
  const token = newToken()
  const child = spawn(plugin.exec, [...plugin.args, "--port", String(port)], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, GOPLUGIN_HOST: HOST, GOPLUGIN_PLUGIN: name, GOPLUGIN_PORT: String(port), GOPLUGIN_TOKEN: token }
  })
  child.stdout!.resume()
  child.stderr!.resume()
  // A plugin that is gone when we close its stdin must not crash the benchmark.
  child.stdin!.on("error", () => {})
  return { child, token }
}

/** One `GET /ping` on a fresh connection: true when the plugin answered "pong". */
export const pingOnce = (port: number, token: string): Promise<boolean> =>
  new Promise((resolve) => {
    const request = http.get(
      {
        host: "127.0.0.1",
        port,
        path: "/ping",
        agent: false,
        headers: { "x-host": HOST, authorization: `Bearer ${token}` }
      },
      (response) => {
        let body = ""
        response.setEncoding("utf8")
        response.on("data", (chunk: string) => (body += chunk))
        response.on("end", () => resolve(response.statusCode === 200 && body.includes("pong")))
        response.on("error", () => resolve(false))
      }
    )
    request.on("error", () => resolve(false))
  })

/**
 * Polls Ping every `pauseMillis` until it succeeds; fails when the process exits first or after 60 s
 * (a plugin that refuses every Ping must not hang the run).
 */
export const awaitPing = async (raw: RawPlugin, port: number, pauseMillis: number): Promise<void> => {
  const start = performance.now()
  while (!(await pingOnce(port, raw.token))) {
    if (raw.child.exitCode !== null || raw.child.signalCode !== null) {
      throw new Error(`${raw.child.spawnargs.join(" ")} exited before answering Ping`)
    }
    if (performance.now() - start > 60_000) throw new Error(`${raw.child.spawnargs.join(" ")} did not answer Ping within 60 s`)
    await sleep(pauseMillis)
  }
}

/** Stops a plugin the way the library does (stdin closed, SIGTERM) and waits for its exit. */
export const rawStop = (raw: RawPlugin): Promise<void> => {
  const { child } = raw
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  child.stdin?.end()
  child.kill("SIGTERM")
  return exit
}

