/**
 * Helpers for test/sdk.test.ts: start a plugin as the host would (its own process group, stdin a pipe),
 * and talk to it with plain node:http and a raw @grpc/grpc-js client, without the library's callers.
 */
import * as grpc from "@grpc/grpc-js"
import * as protoLoader from "@grpc/proto-loader"
import { Effect, type Scope } from "effect"
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import * as http from "node:http"
import { protoLoaderOptions, protoPath } from "../src/internal/wire.js"

/** A plugin process started by a test. */
export interface Started {
  readonly pid: number
  readonly child: ChildProcessWithoutNullStreams
  /** Everything it wrote to stderr so far. */
  readonly stderr: () => string
  /** Resolves with the exit code (null when killed by a signal) and signal once it ended and its pipes closed. */
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
}

/** The test's environment without any GOPLUGIN_* variable, plus `extra`. */
export const pluginEnv = (extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("GOPLUGIN_"))),
  ...extra
})

/** SIGKILLs the process group led by `pid`; a group already gone is fine. */
export const killGroup = (pid: number): void => {
  try {
    process.kill(-pid, "SIGKILL")
  } catch {
    // Already gone.
  }
}

/**
 * Starts `command args…` as the leader of a new process group with all three streams piped. Closing the
 * scope SIGKILLs the group.
 */
export const startProcess = (
  command: string,
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv
): Effect.Effect<Started, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(command, args, { detached: true, env, stdio: ["pipe", "pipe", "pipe"] })
      let stderr = ""
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
      child.stdin.on("error", () => {})
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once("close", (code, signal) => resolve({ code, signal }))
      )
      return { pid: child.pid ?? -1, child, stderr: () => stderr, exited }
    }),
    (started) => Effect.sync(() => killGroup(started.pid))
  )

/** Waits until the process's stderr matches `pattern` (answering the first group), up to 20 s. */
export const awaitStderr = (started: Started, pattern: RegExp): Effect.Effect<string> =>
  Effect.promise(async () => {
    const deadline = Date.now() + 20_000
    let ended = false
    void started.exited.then(() => (ended = true))
    for (;;) {
      const match = pattern.exec(started.stderr())
      if (match !== null) return match[1] ?? match[0]
      if (ended || Date.now() > deadline) {
        return Promise.reject(new Error(`no ${pattern} on stderr (ended: ${ended}): ${started.stderr()}`))
      }
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })

/** Starts a listening plugin (`node <script>` or any command) with `--port 0` and answers its port. */
export const startServer = (
  command: string,
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>> = {}
): Effect.Effect<Started & { readonly port: number }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const started = yield* startProcess(command, [...args, "--port", "0"], pluginEnv(env))
    const port = Number(yield* awaitStderr(started, /listening on 127\.0\.0\.1:(\d+)/))
    return { ...started, port }
  })

/** An HTTP answer: status, headers and the body parsed as JSON. */
export interface HttpAnswer {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: unknown
  readonly text: string
}

/** What to send; `agent` defaults to a fresh connection. */
export interface HttpRequest {
  readonly method?: string
  readonly path?: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Buffer
  readonly agent?: http.Agent
}

/** One HTTP exchange with 127.0.0.1:`port`; fails when the connection fails. */
export const request = (port: number, options: HttpRequest = {}): Effect.Effect<HttpAnswer, Error> =>
  Effect.async<HttpAnswer, Error>((resume) => {
    const req = http.request({
      host: "127.0.0.1",
      port,
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      path: options.path ?? (options.body === undefined ? "/ping" : "/exec"),
      headers: { ...options.headers, ...(options.body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(options.body)) }) },
      agent: options.agent ?? false
    })
    req.on("error", (error) => resume(Effect.fail(error)))
    req.on("response", (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("error", (error) => resume(Effect.fail(error)))
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        let body: unknown = text
        try {
          body = JSON.parse(text)
        } catch {
          // Left as text.
        }
        resume(Effect.succeed({ status: res.statusCode ?? 0, headers: res.headers, body, text }))
      })
    })
    req.end(options.body)
  })

/** An exec request body. */
export const execBody = (command: string, payload: string): string => JSON.stringify({ command, payload })

/** The plugin.Plugin answer: `Status` and `Data.Response`. */
export interface GrpcAnswer {
  readonly Status: string
  readonly Data: { readonly Response: string } | null
}

/** A gRPC outcome: the answer, or the status code and details of the error. */
export type GrpcOutcome =
  | { readonly ok: true; readonly answer: GrpcAnswer }
  | { readonly ok: false; readonly code: grpc.status; readonly details: string }

type Callback = (error: grpc.ServiceError | null, answer?: GrpcAnswer) => void

interface PluginClient extends grpc.Client {
  Ping(request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback): grpc.ClientUnaryCall
  Exec(request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: Callback): grpc.ClientUnaryCall
}

type PluginClientConstructor = new(address: string, credentials: grpc.ChannelCredentials) => PluginClient

const Plugin = (grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, protoLoaderOptions)) as unknown as {
  readonly plugin: { readonly Plugin: PluginClientConstructor }
}).plugin.Plugin

/** A raw plugin.Plugin client on 127.0.0.1:`port`, closed with the scope. */
export const grpcClient = (port: number): Effect.Effect<PluginClient, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => new Plugin(`127.0.0.1:${port}`, grpc.credentials.createInsecure())),
    (client) => Effect.sync(() => client.close())
  )

/** One unary call with the given metadata; never fails, answers the outcome. */
export const grpcCall = (
  client: PluginClient,
  method: "Ping" | "Exec",
  message: object,
  metadata: Readonly<Record<string, string>> = {}
): Effect.Effect<GrpcOutcome> =>
  Effect.async<GrpcOutcome>((resume) => {
    const meta = new grpc.Metadata()
    for (const [key, value] of Object.entries(metadata)) meta.set(key, value)
    const callback: Callback = (error, answer) =>
      resume(Effect.succeed(
        error !== null
          ? { ok: false, code: error.code, details: error.details }
          : { ok: true, answer: answer ?? { Status: "", Data: null } }
      ))
    const options = { deadline: Date.now() + 10_000 }
    if (method === "Ping") client.Ping({}, meta, options, callback)
    else client.Exec(message, meta, options, callback)
  })
