/**
 * Row 1 and 2: REST exec round trips and throughput. The library's `Caller.exec` and raw keep-alive
 * clients send the same `POST /exec` JSON body with a hex payload to the same plugin process
 * (examples/rest-plugin.ts) and decode the same JSend answer. Two raw clients, so that the ratio is
 * always against the fastest one: `node:http`'s, and the library's own HTTP/1.1 client
 * (`internal/http1Client.ts`) called from a Promise loop without Effect.
 */
import { Effect } from "effect"
import * as http from "node:http"
import * as Http1Client from "../src/internal/http1Client.js"
import { HOST, payloadOf, runNetworkPlugin } from "./fixtures.js"
import { type BenchOptions, transportRowsAgainst } from "./measure.js"

/** The `POST /exec` body both raw clients send: the library's, byte for byte. */
const execBody = (command: string, payload: Uint8Array): string =>
  `{"command":${JSON.stringify(command)},"payload":"${Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("hex")}"}`

/** Decodes a JSend echo answer the way a careful client does: success with a hex response, else why not. */
const settleEcho = (
  body: Buffer,
  status: number | undefined,
  resolve: (bytes: Uint8Array) => void,
  reject: (error: unknown) => void
): void => {
  try {
    const answer = JSON.parse(body.toString("utf8")) as { status?: string; data?: { response?: string } }
    if (answer.status !== "success" || typeof answer.data?.response !== "string") {
      return reject(new Error(`HTTP ${status}: ${JSON.stringify(answer)}`))
    }
    resolve(new Uint8Array(Buffer.from(answer.data.response, "hex")))
  } catch (error) {
    reject(error)
  }
}

/**
 * What a careful hand-written client does: one keep-alive agent, JSON body, hex both ways, the same
 * headers the library sends (X-Host and, when the plugin was given one, the bearer token).
 */
export const rawRestClient = (port: number, token: string | undefined) => {
  const agent = new http.Agent({ keepAlive: true })
  const exec = (command: string, payload: Uint8Array): Promise<Uint8Array> =>
    new Promise((resolve, reject) => {
      const body = execBody(command, payload)
      const request = http.request(
        {
          agent,
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/exec",
          headers: {
            "x-host": HOST,
            ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body)
          }
        },
        (response) => {
          const chunks: Array<Buffer> = []
          response.on("data", (chunk: Buffer) => chunks.push(chunk))
          response.on("error", reject)
          response.on("end", () => settleEcho(Buffer.concat(chunks), response.statusCode, resolve, reject))
        }
      )
      request.on("error", reject)
      request.end(body)
    })
  return { exec, close: () => agent.destroy() }
}

/** The library's own HTTP/1.1 client used raw: same request bytes as the library's, no Effect. */
export const rawOwnClient = (port: number, token: string | undefined) => {
  const client = Http1Client.make(
    { host: "127.0.0.1", port },
    `x-host: ${HOST}\r\n${token === undefined ? "" : `authorization: Bearer ${token}\r\n`}`,
    `Host: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n`
  )
  const exec = (command: string, payload: Uint8Array): Promise<Uint8Array> =>
    new Promise((resolve, reject) => {
      const body = execBody(command, payload)
      client.request({ method: "POST", path: "/exec", headers: "", body, maxBodyBytes: 64 * 1024 * 1024 }, (outcome) => {
        if (outcome._tag === "Failed") return reject(new Error(`${outcome.reason}: ${outcome.detail}`))
        settleEcho(outcome.body, outcome.status, resolve, reject)
      })
    })
  return { exec, close: () => client.destroy() }
}

/**
 * The REST rows: exec p50/p99 at 16 B, 1 KiB, 64 KiB, 1 MiB, and 64-in-flight throughput against
 * `node:http`; then 16 B and 1 KiB p50/p99 and throughput against the library's own client used raw.
 */
export const restRows = (options: BenchOptions) =>
  Effect.gen(function*() {
    const { caller, port, token } = yield* runNetworkPlugin("ts_rest")
    const raw = yield* Effect.acquireRelease(Effect.sync(() => rawRestClient(port, token)), (client) => Effect.sync(client.close))
    const own = yield* Effect.acquireRelease(Effect.sync(() => rawOwnClient(port, token)), (client) => Effect.sync(client.close))
    return yield* transportRowsAgainst(
      {
        library: (payload) => caller.exec("echo", payload),
        p50Target: { kind: "ratioAtMost", value: 1.2 },
        throughputTarget: { kind: "ratioAtLeast", value: 0.85 },
        inFlight: 64
      },
      [
        {
          group: "REST",
          idPrefix: "rest.exec",
          baselineName: "raw node:http keep-alive client, same JSON/hex body, same plugin process",
          sizes: [16, 1024, 64 * 1024, 1024 * 1024],
          baseline: (payload) => raw.exec("echo", payload)
        },
        {
          group: "REST (own client raw)",
          idPrefix: "rest.own-client.exec",
          baselineName: "the library's own HTTP/1.1 client (internal/http1Client.ts) from a Promise loop, same body, same plugin process",
          sizes: [16, 1024],
          baseline: (payload) => own.exec("echo", payload)
        }
      ],
      options,
      payloadOf
    )
  }).pipe(Effect.scoped)
