/**
 * Row 1 and 2: REST exec round trips and throughput. The library's `Caller.exec` and a raw `node:http`
 * keep-alive client send the same `POST /exec` JSON body with a hex payload to the same plugin process
 * (examples/rest-plugin.ts) and decode the same JSend answer.
 */
import { Effect } from "effect"
import * as http from "node:http"
import { HOST, payloadOf, runNetworkPlugin } from "./fixtures.js"
import { type BenchOptions, transportRows } from "./measure.js"

/**
 * What a careful hand-written client does: one keep-alive agent, JSON body, hex both ways, the same
 * headers the library sends (X-Host and, when the plugin was given one, the bearer token).
 */
export const rawRestClient = (port: number, token: string | undefined) => {
  const agent = new http.Agent({ keepAlive: true })
  const exec = (command: string, payload: Uint8Array): Promise<Uint8Array> =>
    new Promise((resolve, reject) => {
      const body = `{"command":${JSON.stringify(command)},"payload":"${
        Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("hex")
      }"}`
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
          response.on("end", () => {
            try {
              const answer = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
                status?: string
                data?: { response?: string }
              }
              if (answer.status !== "success" || typeof answer.data?.response !== "string") {
                return reject(new Error(`HTTP ${response.statusCode}: ${JSON.stringify(answer)}`))
              }
              resolve(new Uint8Array(Buffer.from(answer.data.response, "hex")))
            } catch (error) {
              reject(error)
            }
          })
        }
      )
      request.on("error", reject)
      request.end(body)
    })
  return { exec, close: () => agent.destroy() }
}

/** The REST rows: exec p50/p99 at 16 B, 1 KiB, 64 KiB, 1 MiB, and 64-in-flight throughput. */
export const restRows = (options: BenchOptions) =>
  Effect.gen(function*() {
    const { caller, port, token } = yield* runNetworkPlugin("ts_rest")
    const raw = yield* Effect.acquireRelease(Effect.sync(() => rawRestClient(port, token)), (client) => Effect.sync(client.close))
    return yield* transportRows(
      {
        group: "REST",
        idPrefix: "rest.exec",
        baselineName: "raw node:http keep-alive client, same JSON/hex body, same plugin process",
        sizes: [16, 1024, 64 * 1024, 1024 * 1024],
        library: (payload) => caller.exec("echo", payload),
        baseline: (payload) => raw.exec("echo", payload),
        p50Target: { kind: "ratioAtMost", value: 1.2 },
        throughputTarget: { kind: "ratioAtLeast", value: 0.85 },
        inFlight: 64
      },
      options,
      payloadOf
    )
  }).pipe(Effect.scoped)
