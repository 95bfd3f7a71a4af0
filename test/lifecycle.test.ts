import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Option, Scope } from "effect"
import * as Executor from "../src/Executor.js"
import type { RunningPlugin } from "../src/Container.js"
import { ProcessRegistry } from "../src/ProcessRegistry.js"
import * as CallerFactory from "../src/CallerFactory.js"
import * as PortLauncher from "../src/PortLauncher.js"
import * as RestCaller from "../src/RestCaller.js"
import * as path from "node:path"
import {
  built,
  isAlive,
  nodePlugin,
  pythonPlugin,
  renderConfig,
  root,
  survivors,
  tempDir,
  testLayer,
  text,
  utf8,
  writeConfig
} from "./helpers.js"

const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i)

const pidsOf = (running: ReadonlyArray<RunningPlugin>) => running.flatMap((r) => (r.process ? [r.process.pid] : []))

/** Runs `body` against a host whose config holds `plugins`, then checks every pid it reported is gone. */
const withHost = <A, E>(
  plugins: Parameters<typeof renderConfig>[0],
  settings: string,
  body: (pids: Array<number>) => Effect.Effect<A, E, Executor.Executor | ProcessRegistry | Scope.Scope>
) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const file = writeConfig(dir, renderConfig(plugins, { app: plugins.map((p) => p.name) }, settings))
    const pids: Array<number> = []
    const result = yield* body(pids).pipe(Effect.scoped, Effect.provide(testLayer(file)))
    expect(pids.length).toBeGreaterThan(0)
    expect(yield* survivors(pids)).toEqual([])
    return result
  })

describe("plugins over REST and gRPC", () => {
  const cases = [
    nodePlugin("ts_rest", "examples/rest-plugin.cjs", "rest"),
    nodePlugin("ts_grpc", "examples/grpc-plugin.js", "grpc"),
    pythonPlugin("py_rest")
  ]
  for (const plugin of cases) {
    it.scopedLive(`${plugin.name}: ping, exec, every byte value round-trips, processes gone after the scope`, () =>
      withHost([plugin], "", (pids) =>
        Effect.gen(function*() {
          const container = yield* Executor.fromHost("app")
          const caller = yield* container.run(plugin.name)
          pids.push(...pidsOf(yield* container.running))
          expect(isAlive(pids[0]!)).toBe(true)
          expect(yield* caller.ping).toBe("pong")
          expect(text(yield* caller.exec("upper", utf8("héllo plugin")))).toBe("HÉLLO PLUGIN")
          expect(Array.from(yield* caller.exec("echo", allBytes))).toEqual(Array.from(allBytes))
          expect(Array.from(yield* caller.exec("reverse", allBytes))).toEqual(Array.from(allBytes).reverse())
          expect((yield* caller.exec("echo", new Uint8Array())).length).toBe(0)
          const unknown = yield* Effect.flip(caller.exec("no.such.command", allBytes))
          expect(unknown).toMatchObject({ _tag: "CallError", reason: "remote", operation: "exec", command: "no.such.command" })
          expect(yield* container.caller(plugin.name)).toBe(caller)
        })))
  }

  for (const protocol of ["rest", "grpc"] as const) {
    it.scopedLive(`${protocol}: sends the host name, sets GOPLUGIN_* in the environment, honours per-call timeouts`, () =>
      withHost(
        [nodePlugin("inspect", "test/fixtures/inspect-plugin.js", protocol, protocol === "grpc" ? { args: [built("test/fixtures/inspect-plugin.js"), "--grpc"] } : {})],
        "",
        (pids) =>
          Effect.gen(function*() {
            const container = yield* Executor.fromHost("app")
            const caller = yield* container.run("inspect")
            const running = yield* container.running
            pids.push(...pidsOf(running))
            expect(text(yield* caller.exec("host", new Uint8Array()))).toBe("app")
            const env = JSON.parse(text(yield* caller.exec("env", new Uint8Array())))
            expect(env).toMatchObject({ GOPLUGIN_HOST: "app", GOPLUGIN_PLUGIN: "inspect", GOPLUGIN_PORT: String(running[0]!.port) })
            expect(env.GOPLUGIN_TOKEN).toMatch(/^[0-9a-f]{64}$/)
            const late = yield* Effect.flip(caller.exec("sleep", utf8("2000"), { timeout: "100 millis" }))
            expect(late).toMatchObject({ _tag: "CallError", reason: "timeout", command: "sleep" })
            expect(text(yield* caller.exec("sleep", utf8("10")))).toBe("slept")
            // The timed-out call above, an interrupted one and one cut short by Effect.timeout are all
            // cancelled in the plugin too.
            const fiber = yield* Effect.fork(caller.exec("sleep", utf8("5000")))
            yield* Effect.sleep("50 millis")
            yield* Fiber.interrupt(fiber)
            expect(yield* Effect.timeout(caller.exec("sleep", utf8("5000")), "50 millis").pipe(Effect.option)).toEqual(Option.none())
            expect(yield* caller.ping).toBe("pong")
            let cancelled = ""
            for (let attempt = 0; attempt < 200 && cancelled !== "3"; attempt++) {
              cancelled = text(yield* caller.exec("cancelled", new Uint8Array()))
              if (cancelled !== "3") yield* Effect.sleep("5 millis")
            }
            expect(cancelled).toBe("3")
          })
      ))
  }
})

describe("process lifecycle", () => {
  it.scopedLive("a plugin's grandchild is stopped with it", () =>
    withHost([nodePlugin("parent", "test/fixtures/grandchild-plugin.js", "rest")], "", (pids) =>
      Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const caller = yield* container.run("parent")
        pids.push(...pidsOf(yield* container.running))
        const grandchild = Number(text(yield* caller.exec("grandchild-pid", new Uint8Array())))
        expect(grandchild).toBeGreaterThan(0)
        expect(isAlive(grandchild)).toBe(true)
        pids.push(grandchild)
      })))

  it.scopedLive("a plugin that ignores SIGTERM is killed after the grace period", () =>
    withHost([nodePlugin("stubborn", "test/fixtures/stubborn-plugin.js", "rest")], "stop_grace = 0.3", (pids) =>
      Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const caller = yield* container.run("stubborn")
        expect(yield* caller.ping).toBe("pong")
        const [running] = yield* container.running
        pids.push(running!.process!.pid)
        yield* container.kill("stubborn")
        const exit = yield* running!.process!.awaitExit
        expect(exit.signal).toBe("SIGKILL")
        expect(yield* container.running).toEqual([])
        expect((yield* Effect.flip(container.caller("stubborn")))._tag).toBe("PluginNotRunning")
      })))

  it.scopedLive("a plugin that exits at start fails at once with its exit code and stderr", () =>
    Effect.gen(function*() {
      const script = path.join(root, "test/fixtures/exit-at-start.sh")
      yield* withHost([{ name: "crasher", exec: script, execFile: script, commType: "rest", execTime: 30 }], "", (pids) =>
        Effect.gen(function*() {
          const container = yield* Executor.fromHost("app")
          const started = Date.now()
          const error = yield* Effect.flip(container.run("crasher"))
          expect(Date.now() - started).toBeLessThan(30_000)
          expect(error._tag).toBe("PluginExited")
          if (error._tag !== "PluginExited") return
          pids.push(error.pid)
          expect(error.exitCode).toBe(3)
          expect(error.lastStderr).toEqual(["starting fixture", "fatal: cannot open database /nonexistent/db: no such file"])
          expect(error.message).toContain("exited with code 3")
          expect(error.message).toContain("fatal: cannot open database")
          expect(yield* container.running).toEqual([])
        }))
    }))

  it.scopedLive("a plugin that never becomes ready fails after exec_time and is stopped", () =>
    Effect.gen(function*() {
      const script = path.join(root, "test/fixtures/never-ready.sh")
      yield* withHost([{ name: "sleeper", exec: script, execFile: script, commType: "rest", execTime: 0.5 }], "", (pids) =>
        Effect.gen(function*() {
          const container = yield* Executor.fromHost("app")
          const fiber = yield* Effect.fork(container.run("sleeper"))
          yield* Effect.sleep("100 millis")
          const listed = yield* Effect.flatMap(ProcessRegistry, (registry) => registry.list)
          expect(listed.map((p) => p.plugin)).toEqual(["sleeper"])
          pids.push(...listed.map((p) => p.pid))
          const error = yield* Effect.flip(Fiber.join(fiber))
          expect(error).toMatchObject({ _tag: "PluginNotReady", plugin: "sleeper", waitedMillis: 500 })
          expect(error.message).toContain("was not ready within 500 ms of its start")
          // What was tried: the port the plugin never listened on.
          expect(error._tag === "PluginNotReady" && error.lastError).toMatch(/^pid \d+: port \d+: ECONNREFUSED$/)
          expect(yield* Effect.flatMap(ProcessRegistry, (registry) => registry.list)).toEqual([])
        }))
    }))

  it.scopedLive("two containers run the same plugin in two processes; one container refuses a second run", () =>
    withHost([nodePlugin("ts_rest", "examples/rest-plugin.cjs", "rest")], "", (pids) =>
      Effect.gen(function*() {
        const first = yield* Executor.fromHost("app")
        const second = yield* Executor.fromHost("app")
        const [a, b] = yield* Effect.all([first.run("ts_rest"), second.run("ts_rest")], { concurrency: 2 })
        const [ra] = yield* first.running
        const [rb] = yield* second.running
        pids.push(ra!.process!.pid, rb!.process!.pid)
        expect(ra!.process!.pid).not.toBe(rb!.process!.pid)
        expect(ra!.port).not.toBe(rb!.port)
        expect(text(yield* a.exec("upper", utf8("a")))).toBe("A")
        expect(text(yield* b.exec("upper", utf8("b")))).toBe("B")
        const again = yield* Effect.flip(first.run("ts_rest"))
        expect(again).toMatchObject({ _tag: "PluginAlreadyRunning", pid: ra!.process!.pid })
        yield* first.killAll
        expect(yield* survivors([ra!.process!.pid])).toEqual([])
        expect(isAlive(rb!.process!.pid)).toBe(true)
        expect(text(yield* b.exec("echo", utf8("still here")))).toBe("still here")
      })))
})

describe("caller drivers", () => {
  it.scopedLive("an unknown comm_type loads, and fails with UnsupportedProtocol only when its caller is asked for", () =>
    withHost([nodePlugin("nano", "examples/rest-plugin.cjs", "nano"), nodePlugin("ts_rest", "examples/rest-plugin.cjs", "rest")], "", (pids) =>
      Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        expect(container.installed.plugins.has("nano")).toBe(true)
        const error = yield* Effect.flip(container.run("nano"))
        expect(error).toMatchObject({ _tag: "UnsupportedProtocol", plugin: "nano", commType: "nano", known: ["rest", "grpc", "stdio", "go-plugin"] })
        expect(yield* container.running).toEqual([])
        yield* container.run("ts_rest")
        pids.push(...pidsOf(yield* container.running))
      })))

  it.scopedLive("a user adds a driver for a new comm_type through the layer", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const plugin = nodePlugin("nano", "examples/rest-plugin.cjs", "nano")
      const file = writeConfig(dir, renderConfig([plugin], { app: ["nano"] }))
      // A new comm_type: the REST transport on the built-in port launcher, added without touching Container.
      const nano = Effect.map(PortLauncher.PortLauncher, (port) => CallerFactory.driver("nano", port, RestCaller.transport))
      const pids: Array<number> = []
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        const caller = yield* container.run("nano")
        pids.push(...pidsOf(yield* container.running))
        expect(text(yield* caller.exec("upper", utf8("custom driver")))).toBe("CUSTOM DRIVER")
      }).pipe(Effect.scoped, Effect.provide(testLayer(file, { drivers: [nano] })))
      expect(pids.length).toBe(1)
      expect(yield* survivors(pids)).toEqual([])
    }))
})

describe("a driver that fails unexpectedly", () => {
  it.scopedLive("a driver that throws fails the start with DriverFailed, and the process it started is stopped", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = writeConfig(dir, renderConfig([nodePlugin("fragile", "examples/rest-plugin.cjs", "fragile")], { app: ["fragile"] }))
      const pids: Array<number> = []
      // A buggy custom driver: its launcher starts the process, then its transport throws.
      const fragile = Effect.map(PortLauncher.PortLauncher, (port): CallerFactory.CallerDriver => ({
        commType: "fragile",
        start: (plan) =>
          Effect.gen(function*() {
            const launched = yield* port.launch(plan)
            if (launched.process !== undefined) pids.push(launched.process.pid)
            return yield* Effect.sync((): never => {
              throw new Error("the transport fell over")
            })
          })
      }))
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        // Twice: a failed start leaves nothing behind that would make the next run hang or say "already running".
        for (const attempt of [1, 2]) {
          const error = yield* Effect.flip(container.run("fragile"))
          expect(error).toMatchObject({ _tag: "DriverFailed", host: "app", plugin: "fragile", commType: "fragile", detail: "the transport fell over" })
          expect(error.message).toContain(`comm_type "fragile" driver failed unexpectedly (the transport fell over)`)
          expect(error._tag === "DriverFailed" ? error.cause : undefined).toBeInstanceOf(Error)
          expect(pids.length).toBe(attempt)
          expect(yield* survivors(pids)).toEqual([])
          expect(yield* container.running).toEqual([])
        }
      }).pipe(Effect.scoped, Effect.provide(testLayer(file, { drivers: [fragile] })))
    }))
})

describe("scope ends", () => {
  it.scopedLive("releasing the library's layer stops plugins whose own scope was never closed", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = writeConfig(dir, renderConfig([nodePlugin("ts_rest", "examples/rest-plugin.cjs", "rest")], { app: ["ts_rest"] }))
      const layerScope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(testLayer(file), layerScope)
      const forgotten = yield* Scope.make()
      const pids: Array<number> = []
      yield* Effect.gen(function*() {
        const container = yield* Executor.fromHost("app")
        yield* container.run("ts_rest")
        pids.push(...pidsOf(yield* container.running))
      }).pipe(Scope.extend(forgotten), Effect.provide(context))
      expect(pids.length).toBe(1)
      expect(isAlive(pids[0]!)).toBe(true)
      yield* Scope.close(layerScope, Exit.void)
      expect(yield* survivors(pids)).toEqual([])
    }))
})
