/**
 * The lean REST client's response parser (src/internal/http1Response.ts), without sockets: every way
 * an HTTP/1.x server may frame an answer, split at every byte, and the answers it must refuse.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Answer, MAX_HEAD, type Parsed, type Refused, responseParser } from "../src/internal/http1Response.js"

/** Feeds `text` in pieces of `step` bytes (all at once when 0); then `end` when asked. */
const parse = (text: string | Buffer, options: { readonly step?: number; readonly max?: number; readonly method?: string; readonly close?: boolean } = {}) => {
  const bytes = typeof text === "string" ? Buffer.from(text, "latin1") : text
  const parser = responseParser(options.method ?? "POST", options.max ?? 1024 * 1024)
  const step = options.step === undefined || options.step === 0 ? bytes.length : options.step
  let outcome: Parsed
  for (let at = 0; at < bytes.length && outcome === undefined; at += step) outcome = parser.feed(bytes.subarray(at, at + step))
  if (outcome === undefined && options.close === true) outcome = parser.end()
  return outcome
}

const answer = (outcome: Parsed): { status: number; body: string; keepAlive: boolean; extra: boolean } => {
  expect(outcome?._tag).toBe("Answer")
  const { body, extra, keepAlive, status } = outcome as Answer
  return { status, body: body.toString("latin1"), keepAlive, extra }
}

const refusal = (outcome: Parsed) => {
  expect(outcome?._tag).toBe("Refused")
  return outcome as Refused
}

const chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: yes\r\n\r\n"

describe("HTTP/1.x answers the REST client reads", () => {
  it("Content-Length, keep-alive by default on 1.1, whole or one byte at a time", () => {
    const text = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"bcd\"}"
    for (const step of [0, 1, 2, 7]) {
      expect(answer(parse(text, { step }))).toEqual({ status: 200, body: "{\"a\":\"bcd\"}", keepAlive: true, extra: false })
    }
  })

  it("chunked bodies with extensions and trailers, split anywhere", () => {
    for (const step of [0, 1, 3, 10]) {
      expect(answer(parse(chunked, { step }))).toEqual({ status: 200, body: "hello, world", keepAlive: true, extra: false })
    }
  })

  it("a body until the connection closes (HTTP/1.0 without a length), never reused", () => {
    const outcome = parse("HTTP/1.0 200 OK\r\nServer: BaseHTTP/0.6 Python\r\n\r\n{\"x\":1}", { close: true })
    expect(answer(outcome)).toEqual({ status: 200, body: "{\"x\":1}", keepAlive: false, extra: false })
  })

  it("Connection: close on 1.1 and keep-alive on 1.0 decide reuse", () => {
    expect(answer(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")).keepAlive).toBe(false)
    expect(answer(parse("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok")).keepAlive).toBe(true)
    expect(answer(parse("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")).keepAlive).toBe(false)
  })

  it("interim 1xx answers are skipped; 204 and answers to HEAD have no body", () => {
    expect(answer(parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", { step: 4 })).status).toBe(201)
    expect(answer(parse("HTTP/1.1 204 No Content\r\n\r\n"))).toEqual({ status: 204, body: "", keepAlive: true, extra: false })
    expect(answer(parse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", { method: "HEAD" })).body).toBe("")
  })

  it("bytes past the answer are reported, and the connection is then not reused", () => {
    expect(answer(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE"))).toMatchObject({ body: "ok", extra: true, keepAlive: false })
  })

  it("multibyte UTF-8 bodies come back byte for byte", () => {
    const body = Buffer.from("{\"v\":\"héllo ✓\"}", "utf8")
    const text = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`), body])
    expect((parse(text, { step: 1 }) as Answer).body.toString("utf8")).toBe("{\"v\":\"héllo ✓\"}")
  })
})

describe("answers the REST client refuses", () => {
  it("more than the body limit, by Content-Length before reading it, or as chunks and close-delimited bytes arrive", () => {
    expect(refusal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n", { max: 1000 }))).toMatchObject({ reason: "too-large", detail: expect.stringContaining("1000 bytes") })
    expect(refusal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n", { max: 999 })).reason).toBe("too-large")
    expect(refusal(parse(`HTTP/1.0 200 OK\r\n\r\n${"x".repeat(1001)}`, { max: 1000, step: 100 })).reason).toBe("too-large")
  })

  it("headers that never end are refused past the cap instead of kept", () => {
    const endless = `HTTP/1.1 200 OK\r\n${"X-Junk: aaaaaaaaaaaaaaaa\r\n".repeat(MAX_HEAD / 16)}`
    expect(refusal(parse(endless, { step: 4096 })).detail).toContain(`longer than ${MAX_HEAD} bytes`)
  })

  it("garbage, bad lengths, bad chunk sizes and unknown codings are protocol errors", () => {
    expect(refusal(parse("SSH-2.0-OpenSSH\r\n\r\n")).detail).toContain("HTTP/1.x status line")
    expect(refusal(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")).reason).toBe("protocol")
    expect(refusal(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n")).detail).toContain("two different")
    expect(refusal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")).detail).toContain("not hex")
    expect(refusal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n")).detail).toContain("longer than its size")
    expect(refusal(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")).detail).toContain("not chunked")
    expect(refusal(parse("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n")).reason).toBe("protocol")
  })

  it("an answer cut short by the connection's end says so", () => {
    expect(refusal(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", { close: true })).detail).toBe("the connection closed in the middle of the answer")
    expect(refusal(parse("", { close: true })).detail).toBe("the connection closed before any answer")
    expect(refusal(parse(chunked.slice(0, 40), { close: true })).reason).toBe("protocol")
  })
})
