/**
 * Plugins that do not cooperate: a host killed by SIGKILL leaves nothing behind (orphan guard, and the
 * SDK's own guard when the host dies while the plugin loads), and a port squatter gets no token, no
 * Ping and no payload, over REST and gRPC.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Executor from "../src/Executor.js"
import { groupMembers } from "../src/internal/socketOwner.js"
import { aliveAfter, built, isAlive, nodePlugin, processesMentioning, renderConfig, root, survivors, tempDir, testLayer, utf8, writeConfig } from "./helpers.js"

interface HostRun {
  readonly host: number
  readonly plugins: ReadonlyArray<{ readonly plugin: string; readonly pid: number }>
  readonly exited: Promise<number | string>
}

/** Starts test/fixtures/host-any.js and waits until it printed `until` (a plugin count, or "ready"). */
const startHost = (configFile: string, until: number | "ready", flags: ReadonlyArray<string> = []) =>
  Effect.acquireRelease(
    Effect.async<HostRun, Error>((resume) => {
      const child = spawn(process.execPath, [built("test/fixtures/host-any.js"), configFile, ...flags], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(signal ?? code ?? -1)))
      const plugins: Array<{ plugin: string; pid: number }> = []
      let out = ""
      let err = ""
      child.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()))
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString()
        const lines = out.split("\n")
        out = lines.pop() ?? ""
        for (const line of lines) {
          const parsed = JSON.parse(line) as { plugin?: string; pid?: number; ready?: boolean }
          if (parsed.pid !== undefined && parsed.plugin !== undefined) plugins.push({ plugin: parsed.plugin, pid: parsed.pid })
          if (until === "ready" ? parsed.ready === true : plugins.length === until) {
            resume(Effect.succeed({ host: child.pid!, plugins, exited }))
          }
        }
      })
      child.on("exit", (code) => resume(Effect.fail(new Error(`host exited early (${code}): ${err}`))))
    }),
    (run) => Effect.sync(() => isAlive(run.host) && process.kill(run.host, "SIGKILL"))
  )

/** Every live process in the groups led by `pgids` (the plugins, their children and grandchildren). */
const groupsAlive = (pgids: ReadonlyArray<number>) => pgids.flatMap((pgid) => groupMembers(pgid)).filter(isAlive)

/** Waits up to `millis` for the groups to empty; answers what is still alive then. */
const groupsGoneWithin = (pgids: ReadonlyArray<number>, millis: number) =>
  Effect.promise(() => aliveAfter(() => groupsAlive(pgids), millis, 20))

const deafPlugin = (name: string) => {
  const script = path.join(root, "test", "fixtures", "deaf_plugin.py")
  return { name, exec: "python3", args: [script], execFile: script, commType: "rest" }
}

describe("no orphans", () => {
  it.scopedLive("a host killed by SIGKILL: plugins that ignore stdin and signals, and their grandchildren, are gone within 2 s", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = writeConfig(dir, renderConfig([deafPlugin("deaf"), nodePlugin("stubborn", "test/fixtures/stubborn-plugin.js", "rest")], {
        app: ["deaf", "stubborn"]
      }))
      const run = yield* startHost(file, "ready")
      const pgids = run.plugins.map((p) => p.pid)
      // The deaf plugin's grandchild runs in its group.
      expect(groupsAlive(pgids).length).toBeGreaterThanOrEqual(3)
      process.kill(run.host, "SIGKILL")
      expect(yield* Effect.promise(() => run.exited)).toBe("SIGKILL")
      expect(yield* groupsGoneWithin(pgids, 2000)).toEqual([])
    }))

  it.scopedLive("the SDK's own guard: a host killed while its plugin is still loading leaves no grandchild (orphan guard off)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = writeConfig(dir, renderConfig([nodePlugin("parent", "test/fixtures/grandchild-plugin.js", "rest")], { app: ["parent"] }))
      const run = yield* startHost(file, 1, ["--no-guard"])
      process.kill(run.host, "SIGKILL")
      yield* Effect.promise(() => run.exited)
      const pgid = run.plugins[0]!.pid
      // The plugin finishes loading after its host died, sees GOPLUGIN_HOST_PID is not its parent, and kills its group.
      expect(yield* groupsGoneWithin([pgid], 8000)).toEqual([])
    }))
})

/** Starts the squatter on `port` (0: any) and answers its port and the file it records requests in. */
const squatter = (dir: string, port: number) =>
  Effect.acquireRelease(
    Effect.async<{ port: number; pid: number; log: string }, Error>((resume) => {
      const log = path.join(dir, "squatter.log")
      const child = spawn("python3", [path.join(root, "test", "fixtures", "squatter.py"), String(port), log], {
        stdio: ["ignore", "pipe", "inherit"]
      })
      child.stdout.once("data", (chunk: Buffer) => resume(Effect.succeed({ port: Number(chunk.toString().trim()), pid: child.pid!, log })))
      child.once("exit", (code) => resume(Effect.fail(new Error(`squatter exited (${code})`))))
    }),
    ({ pid }) => Effect.sync(() => process.kill(pid, "SIGKILL"))
  )

describe("no impostors", () => {
  for (const [plugin, commType] of [["examples/rest-plugin.cjs", "rest"], ["examples/grpc-plugin.js", "grpc"]] as const) {
    it.scopedLive(`${commType}: a fixed comm_port held by another process fails at once with PortInUse; it receives nothing`, () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const squat = yield* squatter(dir, 0)
        const file = writeConfig(dir, renderConfig([nodePlugin("victim", plugin, commType, { extra: `comm_port = ${squat.port}` })], {
          app: ["victim"]
        }))
        const outcome = yield* Effect.gen(function*() {
          const container = yield* Executor.fromHost("app")
          return yield* Effect.either(Effect.flatMap(container.run("victim"), (caller) => caller.exec("echo", utf8("secret-card-4111-0"))))
        }).pipe(Effect.scoped, Effect.provide(testLayer(file)))
        expect(Either.isLeft(outcome) && outcome.left).toMatchObject({ _tag: "PortInUse", port: squat.port, squatterPid: squat.pid, found: "before-start" })
        expect(fs.existsSync(squat.log) ? fs.readFileSync(squat.log, "utf8") : "").toBe("")
        expect(yield* survivors([])).toEqual([])
      }))
  }

  for (const commType of ["rest", "grpc"] as const) {
    it.scopedLive(`${commType}: a picked port taken by another process before the plugin binds it: PortInUse, nothing sent`, () =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const log = path.join(dir, "squatter.log")
        const script = path.join(root, "test", "fixtures", "squat-own-port.sh")
        const file = writeConfig(dir, renderConfig([{
          name: "victim",
          exec: script,
          args: [path.join(root, "test", "fixtures", "squatter.py"), log],
          execFile: script,
          commType
        }], { app: ["victim"] }))
        const outcome = yield* Effect.gen(function*() {
          const container = yield* Executor.fromHost("app")
          return yield* Effect.either(container.run("victim"))
        }).pipe(Effect.scoped, Effect.provide(testLayer(file)))
        expect(Either.isLeft(outcome) && outcome.left._tag).toBe("PortInUse")
        const error = Either.isLeft(outcome) && outcome.left._tag === "PortInUse" ? outcome.left : undefined
        expect(error?.found).toBe("after-start")
        expect(error?.squatterPid).toBeGreaterThan(0)
        if (error?.squatterPid !== undefined) process.kill(error.squatterPid, "SIGKILL")
        expect(fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "").toBe("")
        expect(yield* survivors(error?.squatterPid === undefined ? [] : [error.squatterPid])).toEqual([])
      }))
  }
})

describe("start-up under load", () => {
  it.scopedLive("24 plugins started at once in one container all become ready: starts are queued, exec_time counts from each spawn", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const script = path.join(root, "examples", "python", "plugin.py")
      const names = Array.from({ length: 24 }, (_, i) => `py_${i}`)
      const file = writeConfig(dir, renderConfig(
        names.map((name) => ({ name, exec: "python3", args: [script], execFile: script, commType: "rest", execTime: 5 })),
        { app: names },
        "start_concurrency = 3"
      ))
      const pids: Array<number> = []
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const callers = yield* Effect.forEach(names, (name) => container.run(name), { concurrency: "unbounded" })
        pids.push(...(yield* container.running).map((p) => p.process!.pid))
        expect(pids.length).toBe(24)
        const answers = yield* Effect.forEach(callers, (caller) => caller.exec("upper", utf8("ok")), { concurrency: "unbounded" })
        expect(answers.every((answer) => new TextDecoder().decode(answer) === "OK")).toBe(true)
      }).pipe(Effect.scoped, Effect.provide(testLayer(file)))
      expect(yield* survivors(pids)).toEqual([])
    }))
})

describe("smaller faults", () => {
  it.scopedLive("stdio: a plugin writing past the output limit is stopped at once with a too-large error naming the limit", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const script = path.join(root, "test", "fixtures", "endless-stdout.sh")
      const file = writeConfig(dir, renderConfig([{ name: "endless", exec: script, execFile: script, commType: "stdio" }], { app: ["endless"] }, "call_timeout = 60\nmax_response_bytes = 65536"))
      const error = yield* Effect.gen(function*() {
        const caller = yield* (yield* Executor.fromHost("app")).run("endless")
        return yield* Effect.flip(caller.exec("go", utf8("x")))
      }).pipe(Effect.scoped, Effect.provide(testLayer(file)))
      // Not a timeout: the 60 s call limit was never reached.
      expect(error).toMatchObject({ _tag: "CallError", reason: "too-large" })
      expect(error.message).toContain("65536 bytes")
      expect(error.message).toContain("raise [settings] max_response_bytes")
      expect(processesMentioning(script)).toEqual([])
    }))
})
