/**
 * The plugin SDK seen from outside: built example and fixture plugins started as the host starts them
 * (own process group, stdin a pipe), driven with plain node:http and a raw gRPC client.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import * as grpc from "@grpc/grpc-js"
import * as crypto from "node:crypto"
import * as http from "node:http"
import * as path from "node:path"
import { fromHex } from "../src/internal/wire.js"
import { bearerMatches, hostRefusal, resolveToken, restServer } from "../src/sdk/index.js"
import { built, isAlive, root, survivors } from "./helpers.js"
import {
  awaitStderr,
  execBody,
  grpcCall,
  grpcClient,
  killGroup,
  pluginEnv,
  request,
  startProcess,
  startServer
} from "./sdk-helpers.js"

const node = process.execPath
const TOKEN = crypto.randomBytes(32).toString("hex")
const OTHER = crypto.randomBytes(32).toString("hex")
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` })
const jsendError = { status: "error", message: expect.any(String) }
const pong = { status: "success", data: { response: "pong" } }

/** Runs `body` in its own scope (which kills what it started), then checks every pid it reported is gone. */
const cleanly = <A, E>(body: (pids: Array<number>) => Effect.Effect<A, E, Scope.Scope>) =>
  Effect.gen(function*() {
    const pids: Array<number> = []
    const result = yield* Effect.scoped(body(pids))
    expect(pids.length).toBeGreaterThan(0)
    expect(yield* survivors(pids)).toEqual([])
    return result
  })

describe("sdk building blocks", () => {
  it("fromHex takes either case and refuses odd lengths, bad pairs and non-ASCII look-alikes", () => {
    expect(Array.from(fromHex("00ffAbcD") ?? [])).toEqual([0, 255, 0xab, 0xcd])
    expect(fromHex("")?.length).toBe(0)
    for (const bad of ["abc", "0g", "zz", "šš", "\u01300", "ab\ud800", " ab"]) expect(fromHex(bad)).toBeUndefined()
  })

  it("bearerMatches wants the exact token; resolveToken treats empty as none; hostRefusal names both sides", () => {
    expect(bearerMatches(TOKEN, `Bearer ${TOKEN}`)).toBe(true)
    expect(bearerMatches(TOKEN, `bearer ${TOKEN}`)).toBe(true)
    for (const bad of [undefined, "", TOKEN, `Bearer ${OTHER}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`]) {
      expect(bearerMatches(TOKEN, bad)).toBe(false)
    }
    expect(resolveToken(undefined, { GOPLUGIN_TOKEN: TOKEN })).toBe(TOKEN)
    expect(resolveToken("mine", { GOPLUGIN_TOKEN: TOKEN })).toBe("mine")
    expect(resolveToken("", { GOPLUGIN_TOKEN: TOKEN })).toBeUndefined()
    expect(resolveToken(undefined, {})).toBeUndefined()
    expect(hostRefusal(undefined, "x", "X-Host header")).toBeUndefined()
    expect(hostRefusal([], "x", "X-Host header")).toBeUndefined()
    expect(hostRefusal(["app"], "app", "X-Host header")).toBeUndefined()
    expect(hostRefusal(["app", "billing"], "intruder", "X-Host header")).toBe(
      `host "intruder" (X-Host header) is not allowed to call this plugin; allowed hosts: "app", "billing"`
    )
  })

  it.scopedLive("restServer takes the token as an option", () =>
    Effect.gen(function*() {
      const port = yield* restServer({ handlers: {}, port: 0, token: TOKEN })
      expect((yield* request(port)).status).toBe(401)
      expect((yield* request(port, { headers: bearer(TOKEN) })).body).toEqual(pong)
    }))
})

describe("per-launch token", () => {
  it.scopedLive("REST: every request without the exact bearer token is 401, the right one passes", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const plugin = yield* startServer(node, [built("examples/rest-plugin.cjs")], { GOPLUGIN_TOKEN: TOKEN })
        pids.push(plugin.pid)
        const body = execBody("upper", Buffer.from("hi").toString("hex"))
        for (const headers of [{}, bearer(OTHER), bearer(TOKEN.slice(2)), { Authorization: `Basic ${TOKEN}` }, { Authorization: TOKEN }]) {
          for (const req of [{}, { body }, { path: "/nowhere" }]) {
            const answer = yield* request(plugin.port, { ...req, headers: { ...headers, "X-Host": "app" } })
            expect(answer.status).toBe(401)
            expect(answer.body).toEqual(jsendError)
            expect(answer.text).toContain("bearer token is required")
            expect(answer.text).not.toContain(TOKEN)
            expect(answer.headers["www-authenticate"]).toBe("Bearer")
          }
        }
        const ping = yield* request(plugin.port, { headers: bearer(TOKEN) })
        expect([ping.status, ping.body]).toEqual([200, pong])
        const exec = yield* request(plugin.port, { body, headers: { ...bearer(TOKEN), "X-Host": "app" } })
        expect([exec.status, exec.body]).toEqual([202, { status: "success", data: { response: Buffer.from("HI").toString("hex") } }])
      })))

  it.scopedLive("REST: without GOPLUGIN_TOKEN (started by hand) nothing is checked", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const plugin = yield* startServer(node, [built("examples/rest-plugin.cjs")])
        pids.push(plugin.pid)
        expect((yield* request(plugin.port)).body).toEqual(pong)
      })))

  it.scopedLive("gRPC: Ping and Exec without the token are UNAUTHENTICATED, with it they answer", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const plugin = yield* startServer(node, [built("examples/grpc-plugin.js")], { GOPLUGIN_TOKEN: TOKEN })
        pids.push(plugin.pid)
        const client = yield* grpcClient(plugin.port)
        const exec = { Command: "echo", Payload: "6869" }
        for (const metadata of [{}, { authorization: `Bearer ${OTHER}` }, { authorization: TOKEN }]) {
          for (const method of ["Ping", "Exec"] as const) {
            const outcome = yield* grpcCall(client, method, exec, { ...metadata, "x-host": "app" })
            expect(outcome).toMatchObject({ ok: false, code: grpc.status.UNAUTHENTICATED })
            expect(JSON.stringify(outcome)).not.toContain(TOKEN)
          }
        }
        const auth = { authorization: `Bearer ${TOKEN}`, "x-host": "app" }
        expect(yield* grpcCall(client, "Ping", {}, auth)).toEqual({ ok: true, answer: { Status: "success", Data: { Response: "pong", Vars: {} } } })
        expect(yield* grpcCall(client, "Exec", exec, auth)).toEqual({ ok: true, answer: { Status: "success", Data: { Response: "6869", Vars: {} } } })
      })))

  it.scopedLive("Python example: 401 without the bearer token, answers with it", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const script = path.join(root, "examples/python/plugin.py")
        const plugin = yield* startServer("python3", [script], { GOPLUGIN_TOKEN: TOKEN })
        pids.push(plugin.pid)
        const body = execBody("echo", "6869")
        for (const headers of [{}, bearer(OTHER), bearer(TOKEN.slice(2))]) {
          for (const req of [{}, { body }]) {
            const answer = yield* request(plugin.port, { ...req, headers })
            expect([answer.status, answer.body]).toEqual([401, jsendError])
            expect(answer.text).not.toContain(TOKEN)
          }
        }
        expect((yield* request(plugin.port, { headers: bearer(TOKEN) })).body).toEqual(pong)
        const exec = yield* request(plugin.port, { body, headers: { ...bearer(TOKEN), "X-Host": "app" } })
        expect([exec.status, exec.body]).toEqual([202, { status: "success", data: { response: "6869" } }])
      })))
})

describe("the manifest's hosts list", () => {
  const acl = built("test/fixtures/acl-plugin.js")

  it.scopedLive("REST: exec from a host not listed is 403 naming both; ping stays open; the token is checked first", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const plugin = yield* startServer(node, [acl], { GOPLUGIN_TOKEN: TOKEN })
        pids.push(plugin.pid)
        const body = execBody("host", "")
        const as = (host: string | undefined) => ({ ...bearer(TOKEN), ...(host === undefined ? {} : { "X-Host": host }) })
        const ok = yield* request(plugin.port, { body, headers: as("app") })
        expect([ok.status, ok.body]).toEqual([202, { status: "success", data: { response: Buffer.from("app").toString("hex") } }])
        const refused = yield* request(plugin.port, { body, headers: as("intruder") })
        expect([refused.status, refused.body]).toEqual([403, jsendError])
        expect(refused.text).toContain(`host \\"intruder\\"`)
        expect(refused.text).toContain(`allowed hosts: \\"app\\"`)
        expect((yield* request(plugin.port, { body, headers: as(undefined) })).status).toBe(403)
        expect((yield* request(plugin.port, { headers: as("intruder") })).body).toEqual(pong)
        expect((yield* request(plugin.port, { body, headers: { "X-Host": "intruder" } })).status).toBe(401)
      })))

  it.scopedLive("gRPC: exec from a host not listed is PERMISSION_DENIED; ping stays open", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const plugin = yield* startServer(node, [acl, "--grpc"])
        pids.push(plugin.pid)
        const client = yield* grpcClient(plugin.port)
        const exec = { Command: "echo", Payload: "6869" }
        expect(yield* grpcCall(client, "Exec", exec, { "x-host": "app" })).toMatchObject({ ok: true })
        const refused = yield* grpcCall(client, "Exec", exec, { "x-host": "intruder" })
        expect(refused).toMatchObject({ ok: false, code: grpc.status.PERMISSION_DENIED })
        expect(refused.ok ? "" : refused.details).toContain(`host "intruder"`)
        expect(yield* grpcCall(client, "Exec", exec)).toMatchObject({ ok: false, code: grpc.status.PERMISSION_DENIED })
        expect(yield* grpcCall(client, "Ping", {}, { "x-host": "intruder" })).toMatchObject({ ok: true })
      })))

  it.scopedLive("stdio: exec from a host not listed answers a JSend error and exits 1", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const call = (request: object) =>
          Effect.gen(function*() {
            const started = yield* startProcess(node, [acl, "--stdio"], pluginEnv({ GOPLUGIN_TOKEN: TOKEN }))
            pids.push(started.pid)
            let stdout = ""
            started.child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
            started.child.stdin.end(JSON.stringify(request))
            const exit = yield* Effect.promise(() => started.exited)
            return { code: exit.code, answer: JSON.parse(stdout) as unknown }
          })
        const exec = { type: "exec", command: "echo", payload: "6869" }
        expect(yield* call({ ...exec, host: "app" })).toEqual({ code: 0, answer: { status: "success", data: { response: "6869" } } })
        const refused = yield* call({ ...exec, host: "intruder" })
        expect(refused).toEqual({ code: 1, answer: jsendError })
        expect(JSON.stringify(refused.answer)).toContain(`host \\"intruder\\"`)
        expect((yield* call(exec)).code).toBe(1)
        expect(yield* call({ type: "ping" })).toEqual({ code: 0, answer: pong })
      })))
})

describe("bad requests leave the server running", () => {
  const acl = built("test/fixtures/acl-plugin.js")

  it.scopedLive("REST: too large is 413 (connection kept when the rest is small), bad JSON/hex is 400", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const plugin = yield* startServer(node, [acl, "--max-body", "1024"])
        pids.push(plugin.pid)
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
        yield* Effect.addFinalizer(() => Effect.sync(() => agent.destroy()))
        const headers = { "X-Host": "app" }
        const big = execBody("echo", "ab".repeat(1000))
        const tooLarge = yield* request(plugin.port, { body: big, headers, agent })
        expect([tooLarge.status, tooLarge.body]).toEqual([413, jsendError])
        expect((yield* request(plugin.port, { headers, agent })).body).toEqual(pong)
        // Far past the limit the connection may be cut before the client reads the 413; either is fine.
        const huge = yield* Effect.either(request(plugin.port, { body: Buffer.alloc(8 << 20, 0x61), headers }))
        if (huge._tag === "Right") expect(huge.right.status).toBe(413)
        const bad = ["{not json", "[]", `{"command":"echo"}`, execBody("echo", "abc"), execBody("echo", "zz"), execBody("echo", "šš")]
        for (const body of bad) {
          const answer = yield* request(plugin.port, { body, headers })
          expect([answer.status, answer.body]).toEqual([400, jsendError])
        }
        expect((yield* request(plugin.port, { body: execBody("nope", ""), headers })).status).toBe(404)
        expect((yield* request(plugin.port, { method: "GET", path: "/exec", headers })).status).toBe(405)
        expect((yield* request(plugin.port, { body: execBody("echo", "ABcd"), headers })).body).toEqual({
          status: "success",
          data: { response: "abcd" }
        })
        expect(isAlive(plugin.pid)).toBe(true)
      })))

  it.scopedLive("gRPC: too large is RESOURCE_EXHAUSTED, bad hex INVALID_ARGUMENT, and Ping still answers", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const plugin = yield* startServer(node, [acl, "--grpc", "--max-body", "1024"])
        pids.push(plugin.pid)
        const client = yield* grpcClient(plugin.port)
        const md = { "x-host": "app" }
        const huge = yield* grpcCall(client, "Exec", { Command: "echo", Payload: "ab".repeat(4096) }, md)
        expect(huge).toMatchObject({ ok: false, code: grpc.status.RESOURCE_EXHAUSTED })
        for (const Payload of ["abc", "zz", "šš"]) {
          expect(yield* grpcCall(client, "Exec", { Command: "echo", Payload }, md)).toMatchObject({
            ok: false,
            code: grpc.status.INVALID_ARGUMENT
          })
        }
        expect(yield* grpcCall(client, "Exec", { Command: "nope", Payload: "" }, md)).toMatchObject({
          ok: false,
          code: grpc.status.NOT_FOUND
        })
        expect(yield* grpcCall(client, "Ping", {})).toMatchObject({ ok: true, answer: { Status: "success" } })
        expect(isAlive(plugin.pid)).toBe(true)
      })))
})

describe("host gone", () => {
  const grandchildPlugin = built("test/fixtures/grandchild-plugin.js")
  /** A minimal host: starts the plugin as a group leader with stdin a pipe, prints its pid, then idles. */
  const launcher = [
    `const child = require("node:child_process").spawn(process.execPath, process.argv.slice(1),`,
    `  { detached: true, stdio: ["pipe", "ignore", "inherit"] });`,
    `process.stdout.write(child.pid + "\\n"); setInterval(() => {}, 60000);`
  ].join("\n")

  it.scopedLive("host SIGKILLed: the plugin sees stdin EOF and takes its grandchild down within a second", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const host = yield* startProcess(node, ["-e", launcher, grandchildPlugin, "--port", "0"], pluginEnv())
        let stdout = ""
        host.child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
        const grandchild = Number(yield* awaitStderr(host, /started grandchild sleep, pid (\d+)/))
        yield* awaitStderr(host, /listening on 127\.0\.0\.1:(\d+)/)
        const plugin = Number(/^(\d+)\n/.exec(stdout)?.[1])
        yield* Effect.addFinalizer(() => Effect.sync(() => killGroup(plugin)))
        pids.push(host.pid, plugin, grandchild)
        expect([isAlive(plugin), isAlive(grandchild)]).toEqual([true, true])
        process.kill(host.pid, "SIGKILL")
        expect(yield* survivors([plugin, grandchild], 1000)).toEqual([])
        yield* awaitStderr(host, /(killing process group) \d+/)
      })))

  it.scopedLive("normal stop (stdin closed, SIGTERM to the group, as the host does it): exit 0, no self-kill", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const plugin = yield* startServer(node, [grandchildPlugin])
        const grandchild = Number(yield* awaitStderr(plugin, /started grandchild sleep, pid (\d+)/))
        pids.push(plugin.pid, grandchild)
        plugin.child.stdin.end()
        process.kill(-plugin.pid, "SIGTERM")
        expect(yield* Effect.promise(() => plugin.exited)).toEqual({ code: 0, signal: null })
        expect(plugin.stderr()).not.toContain("killing process group")
      })))

  it.scopedLive("stdin closed while the host lives: the plugin exits and leaves its group to the host", () =>
    cleanly((pids) =>
      Effect.gen(function*() {
        const plugin = yield* startServer(node, [grandchildPlugin])
        const grandchild = Number(yield* awaitStderr(plugin, /started grandchild sleep, pid (\d+)/))
        pids.push(plugin.pid, grandchild)
        plugin.child.stdin.end()
        expect(yield* Effect.promise(() => plugin.exited)).toEqual({ code: 0, signal: null })
        expect(plugin.stderr()).toContain(`leaving process group ${plugin.pid} to it`)
        expect(isAlive(grandchild)).toBe(true)
        // Closing the scope kills the group, as the host does.
      })))
})
