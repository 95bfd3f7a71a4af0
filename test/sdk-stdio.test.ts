/**
 * `goplugin-effect/sdk/stdio`, the SDK entry for stdio plugins, and the example stdio plugin as the build
 * ships it (its bundle run through V8's code cache by scripts/cached-launcher.mjs). Real processes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { built, survivors, tempDir } from "./helpers.js"
import { pluginEnv, startProcess, awaitStderr } from "./sdk-helpers.js"

const node = process.execPath
const entryPlugin = built("test/fixtures/stdio-entry-plugin.js")
const examplePlugin = built("examples/stdio-plugin.cjs")

/** What one stdio call gave: exit code and signal, the parsed stdout answer, stderr. */
interface Outcome {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly answer: unknown
  readonly stderr: string
}

/**
 * Starts `args` as the host does (own process group, pipes), writes `input` to stdin and closes it,
 * and waits for the exit; records the pid so the test can check that nothing is left.
 */
const call = (
  pids: Array<number>,
  args: ReadonlyArray<string>,
  input: string,
  env: Readonly<Record<string, string>> = {},
) =>
  Effect.gen(function*() {
    const started = yield* startProcess(node, args, pluginEnv(env))
    pids.push(started.pid)
    let stdout = ""
    started.child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    started.child.stdin.end(input)
    const exit = yield* Effect.promise(() => started.exited)
    const outcome: Outcome = {
      code: exit.code,
      signal: exit.signal,
      answer: stdout.trim() === "" ? undefined : JSON.parse(stdout),
      stderr: started.stderr()
    }
    return outcome
  })

/** Runs `body` with a list of pids it started, then checks that every one of them is gone. */
const cleanly = <A, E, R>(body: (pids: Array<number>) => Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const pids: Array<number> = []
    const result = yield* body(pids)
    expect(pids.length).toBeGreaterThan(0)
    expect(yield* survivors(pids)).toEqual([])
    return result
  })

const exec = (command: string, payload: string, host = "app") => JSON.stringify({ type: "exec", command, payload, host })

describe("goplugin-effect/sdk/stdio", () => {
  it.scopedLive("answers exec and ping, with variables; exit 0", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        expect(yield* call(pids, [entryPlugin], exec("echo", "6869"))).toMatchObject({
          code: 0,
          answer: { status: "success", data: { response: "6869" } }
        })
        expect(yield* call(pids, [entryPlugin], exec("vars", "616263"))).toMatchObject({
          code: 0,
          answer: { status: "success", data: { response: "616263", vars: { seen: "3" } } }
        })
        expect((yield* call(pids, [entryPlugin], `{"type":"ping"}`)).answer).toEqual({ status: "success", data: { response: "pong" } })
      })))

  it.scopedLive("fails as the full SDK does: JSend error, exit 1, the reason logged to stderr", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const refused = yield* call(pids, [entryPlugin], exec("refuse", ""))
        expect(refused.code).toBe(1)
        expect(refused.answer).toEqual({ status: "error", message: `command "refuse" failed: nothing to refuse here` })
        expect(refused.stderr).toContain(`ERROR command "refuse" failed: nothing to refuse here`)

        const unknown = yield* call(pids, [entryPlugin], exec("nope", ""))
        expect(unknown.code).toBe(1)
        expect(JSON.stringify(unknown.answer)).toContain("unknown command; this plugin knows: echo, vars, refuse, crash, wait")

        const crashed = yield* call(pids, [entryPlugin], exec("crash", ""))
        expect(crashed.code).toBe(1)
        expect(crashed.answer).toEqual({ status: "error", message: `command "crash" failed: the crash handler crashed` })
        expect(crashed.stderr).toContain(`command "crash" crashed`)

        const stranger = yield* call(pids, [entryPlugin], exec("echo", "6869", "intruder"))
        expect(stranger.code).toBe(1)
        expect(JSON.stringify(stranger.answer)).toContain(`host \\"intruder\\"`)

        const tooLarge = yield* call(pids, [entryPlugin], exec("echo", "ab".repeat(1024)))
        expect(tooLarge).toMatchObject({ code: 1, answer: { status: "error", message: expect.stringContaining("larger than 1024 bytes") } })
        expect(tooLarge.stderr).toContain("plugin cannot serve over stdio")

        const notJson = yield* call(pids, [entryPlugin], "{not json")
        expect(notJson).toMatchObject({ code: 1, answer: { status: "error", message: "the request on stdin is not valid JSON" } })
      })))

  it.scopedLive("SIGTERM while a handler runs interrupts it and exits 0 without an answer", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const started = yield* startProcess(node, [entryPlugin], pluginEnv())
        pids.push(started.pid)
        started.child.stdin.end(exec("wait", ""))
        // The handler logs before it waits: from then on the plugin's signal handlers are in place.
        yield* awaitStderr(started, /waiting for ever/)
        process.kill(started.pid, "SIGTERM")
        const exit = yield* Effect.promise(() => started.exited)
        expect(exit).toEqual({ code: 0, signal: null })
      })))
})

describe("the example stdio plugin through V8's code cache", () => {
  const request = exec("upper", Buffer.from("héllo").toString("hex"))
  const upper = { status: "success", data: { response: Buffer.from("HÉLLO").toString("hex") } }
  const caches = (dir: string): ReadonlyArray<string> => {
    const folder = path.join(dir, "goplugin-effect")
    return fs.existsSync(folder) ? fs.readdirSync(folder).filter((name) => name.endsWith(".v8cache")) : []
  }

  it.scopedLive("the first run writes the cache, later runs use it, a damaged one is replaced; same answers", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const env = { XDG_CACHE_HOME: dir }
        expect(yield* call(pids, [examplePlugin], request, env)).toMatchObject({ code: 0, answer: upper })
        const [cache] = caches(dir)
        expect(cache).toMatch(/^stdio-plugin\.main\.cjs-[0-9a-f]{8}-v\d+\.\d+\.\d+-\w+-[0-9a-f]{16}\.v8cache$/)
        const file = path.join(dir, "goplugin-effect", cache!)
        expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700)
        const written = fs.statSync(file).mtimeMs
        expect(yield* call(pids, [examplePlugin], request, env)).toMatchObject({ code: 0, answer: upper })
        // Accepted by V8, so not written again.
        expect(fs.statSync(file).mtimeMs).toBe(written)
        fs.writeFileSync(file, Buffer.alloc(fs.statSync(file).size, 7))
        expect(yield* call(pids, [examplePlugin], request, env)).toMatchObject({ code: 0, answer: upper })
        expect(fs.readFileSync(file).subarray(0, 64).every((byte) => byte === 7)).toBe(false)
        expect(caches(dir)).toEqual([cache])
      })))

  it.scopedLive("NODE_DISABLE_COMPILE_CACHE runs without it; errors answer as before", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        const env = { XDG_CACHE_HOME: dir, NODE_DISABLE_COMPILE_CACHE: "1" }
        expect(yield* call(pids, [examplePlugin], request, env)).toMatchObject({ code: 0, answer: upper })
        const notText = yield* call(pids, [examplePlugin], exec("upper", "ff"), env)
        expect(notText).toMatchObject({ code: 1, answer: { status: "error", message: `command "upper" failed: the payload is not UTF-8 text` } })
        expect(caches(dir)).toEqual([])
      })))

  it.scopedLive("under --enable-source-maps the bundle's source map reaches the TypeScript sources", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const dir = yield* tempDir
        // Asks Node, once the plugin answered, which sources the map it loaded for the bundle names.
        const probe = path.join(dir, "probe.cjs")
        fs.writeFileSync(
          probe,
          `process.on("exit", () => {
            const map = require("node:module").findSourceMap(${JSON.stringify(built("examples/stdio-plugin.main.cjs"))})
            process.stderr.write("SOURCES " + JSON.stringify(map === undefined ? [] : map.payload.sources) + "\\n")
          })\n`
        )
        const mapped = yield* call(pids, ["--enable-source-maps", "-r", probe, examplePlugin], request, { XDG_CACHE_HOME: dir })
        expect(mapped).toMatchObject({ code: 0, answer: upper })
        const sources = JSON.parse(/SOURCES (.*)/.exec(mapped.stderr)?.[1] ?? "[]") as ReadonlyArray<string>
        expect(sources).toEqual(
          expect.arrayContaining([expect.stringMatching(/\/src\/sdk\/StdioServer\.ts$/), expect.stringMatching(/\/examples\/handlers\.ts$/)])
        )
        expect(caches(dir)).toEqual([])
      })))
})
