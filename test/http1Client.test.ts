/**
 * The lean REST client's connections (src/internal/http1Client.ts) against loopback servers: reuse of
 * idle connections, a server that closes them, and the ways a request ends without an answer
 * (nothing listening, closed unanswered, cut short, cancelled), each with the reason `CallError` uses.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as net from "node:net"
import * as Http1Client from "../src/internal/http1Client.js"

const ok = (body: string) => `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`

/** A loopback server answering each request with `answer(n, socket)` (n counts requests); closed with the scope. */
const server = (answer: (n: number, socket: net.Socket, request: string) => void) =>
  Effect.acquireRelease(
    Effect.async<{ readonly port: number; readonly connections: () => number; readonly server: net.Server }>((resume) => {
      let connections = 0
      let requests = 0
      const srv = net.createServer((socket) => {
        connections++
        socket.on("error", () => {})
        socket.on("data", (chunk) => answer(++requests, socket, chunk.toString("latin1")))
      })
      srv.listen(0, "127.0.0.1", () => resume(Effect.succeed({ port: (srv.address() as net.AddressInfo).port, connections: () => connections, server: srv })))
    }),
    ({ server: srv }) => Effect.sync(() => srv.close())
  )

const client = (port: number) =>
  Effect.acquireRelease(
    Effect.sync(() => Http1Client.make({ host: "127.0.0.1", port }, "x-host: test\r\n", `Host: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n`)),
    (c) => Effect.sync(() => c.destroy())
  )

const send = (c: Http1Client.Http1Client, body: string | undefined = "{}") =>
  Effect.async<Http1Client.Outcome>((resume) => {
    c.request({ method: body === undefined ? "GET" : "POST", path: "/exec", headers: "", body, maxBodyBytes: 1024 }, (outcome) => resume(Effect.succeed(outcome)))
  })

const summary = (outcome: Http1Client.Outcome) =>
  outcome._tag === "Answer" ? `${outcome.status} ${outcome.body.toString()}` : `${outcome.reason}: ${outcome.detail}`

describe("the lean REST client's connections", () => {
  it.scopedLive("sequential requests reuse one connection; the request goes out whole, headers in order", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const srv = yield* server((n, socket, request) => {
        seen.push(request)
        socket.write(ok(`{"n":${n}}`))
      })
      const c = yield* client(srv.port)
      for (let i = 1; i <= 3; i++) expect(summary(yield* send(c))).toBe(`200 {"n":${i}}`)
      expect(srv.connections()).toBe(1)
      expect(seen[0]).toBe(
        "POST /exec HTTP/1.1\r\nx-host: test\r\ncontent-type: application/json\r\ncontent-length: 2\r\n" +
          `Host: 127.0.0.1:${srv.port}\r\nConnection: keep-alive\r\n\r\n{}`
      )
    }))

  it.scopedLive("an idle connection the server closed is not used again", () =>
    Effect.gen(function*() {
      const srv = yield* server((_, socket) => socket.end(ok("{}")))
      const c = yield* client(srv.port)
      expect(summary(yield* send(c))).toBe("200 {}")
      yield* Effect.sleep("50 millis")
      expect(summary(yield* send(c))).toBe("200 {}")
      expect(srv.connections()).toBe(2)
    }))

  it.scopedLive("nothing listening: refused (never sent)", () =>
    Effect.gen(function*() {
      const srv = yield* server(() => {})
      const { port } = srv
      yield* Effect.async<void>((resume) => void srv.server.close(() => resume(Effect.void)))
      const c = yield* client(port)
      expect(yield* send(c)).toMatchObject({ _tag: "Failed", reason: "refused", detail: expect.stringContaining("ECONNREFUSED") })
    }))

  it.scopedLive("closed after the request without an answer: dropped; cut short: protocol", () =>
    Effect.gen(function*() {
      const srv = yield* server((n, socket) => n === 1 ? socket.destroy() : socket.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"))
      const c = yield* client(srv.port)
      expect(yield* send(c)).toMatchObject({ _tag: "Failed", reason: "dropped" })
      expect(yield* send(c)).toMatchObject({ _tag: "Failed", reason: "protocol", detail: "the connection closed in the middle of the answer" })
    }))

  it.scopedLive("an answer over the limit is too-large and its connection is closed", () =>
    Effect.gen(function*() {
      const srv = yield* server((_, socket) => socket.write(ok("x".repeat(2000))))
      const c = yield* client(srv.port)
      expect(yield* send(c)).toMatchObject({ _tag: "Failed", reason: "too-large" })
      expect(summary(yield* send(c))).toMatch(/^too-large/)
      expect(srv.connections()).toBe(2)
    }))

  it.scopedLive("cancelling closes the request's connection (the server sees it), and the next request opens another", () =>
    Effect.gen(function*() {
      let closed = 0
      const srv = yield* server((n, socket) => {
        socket.on("close", () => closed++)
        if (n > 1) socket.write(ok("{}"))
      })
      const c = yield* client(srv.port)
      let called = false
      const cancel = c.request({ method: "GET", path: "/ping", headers: "", body: undefined, maxBodyBytes: 1024 }, () => void (called = true))
      yield* Effect.sleep("50 millis")
      cancel()
      yield* Effect.sleep("50 millis")
      expect({ closed, called }).toEqual({ closed: 1, called: false })
      expect(summary(yield* send(c))).toBe("200 {}")
    }))
})
