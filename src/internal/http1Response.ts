/**
 * An incremental HTTP/1.x response parser (RFC 9112) for the lean REST client: the status line and
 * headers, then the body as the headers frame it (`Content-Length`, `Transfer-Encoding: chunked`, or
 * until the connection closes), with interim 1xx answers skipped. Pure: bytes in, a parsed answer or a
 * refusal out, so every framing rule is tested without a socket.
 *
 * Bounded: a head over {@link MAX_HEAD} bytes, a chunk-size line over {@link MAX_LINE}, and a body over
 * the caller's limit are refused as soon as they are seen, before they are kept.
 *
 * @internal
 */

/** The largest status line plus headers kept. */
export const MAX_HEAD = 64 * 1024
/** The largest chunk-size line (with extensions) or trailer line kept. */
export const MAX_LINE = 4 * 1024

/**
 * A complete answer: its status, body, whether the connection may carry another request, and whether
 * bytes beyond it arrived (a server must not send them; the connection is then not reused).
 */
export interface Answer {
  readonly _tag: "Answer"
  readonly status: number
  readonly body: Buffer
  readonly keepAlive: boolean
  readonly extra: boolean
}

/** Why the bytes are not an acceptable answer. */
export interface Refused {
  readonly _tag: "Refused"
  readonly reason: "protocol" | "too-large"
  readonly detail: string
}

/** What feeding bytes produced: nothing yet (`undefined`), an answer, or a refusal. */
export type Parsed = Answer | Refused | undefined

/**
 * A parser of one response; `feed` takes the bytes as they arrive, `end` says the peer closed.
 */
export interface ResponseParser {
  readonly feed: (chunk: Buffer) => Parsed
  /** The connection ended: completes a close-delimited body, else refuses what is missing. */
  readonly end: () => Answer | Refused
  /** Whether any byte of the response has arrived. */
  readonly started: () => boolean
}

const CRLF = Buffer.from("\r\n")
const HEAD_END = Buffer.from("\r\n\r\n")

type Framing =
  | { readonly _tag: "None" }
  | { readonly _tag: "Length"; remaining: number }
  | { readonly _tag: "Chunked"; state: "size" | "data" | "data-end" | "trailers"; remaining: number }
  | { readonly _tag: "UntilClose" }

const refused = (reason: Refused["reason"], detail: string): Refused => ({ _tag: "Refused", reason, detail })

const tooLarge = (maxBodyBytes: number): Refused => refused("too-large", `answer larger than the limit of ${maxBodyBytes} bytes`)

interface Head {
  readonly _tag: "Head"
  readonly status: number
  readonly http10: boolean
  readonly contentLength: number | undefined
  readonly chunked: boolean
  readonly connection: string
}

/** The header names that frame a body or decide reuse; any other header is skipped unread. */
const FRAMING = new Set(["content-length", "transfer-encoding", "connection"])

const parseHead = (text: string): Head | Refused => {
  const firstEnd = text.indexOf("\r\n")
  const first = firstEnd === -1 ? text : text.slice(0, firstEnd)
  const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(first)
  if (statusLine === null) {
    return refused("protocol", `the answer does not start with an HTTP/1.x status line: ${JSON.stringify(first.slice(0, 80))}`)
  }
  let contentLength: number | undefined
  let chunked = false
  let connection = ""
  // One pass over the lines with indexOf: this runs for every answer, so no split, and a name is
  // lower-cased only when its length could make it one of the three that matter.
  for (let at = firstEnd === -1 ? text.length : firstEnd + 2; at < text.length;) {
    const lineEnd = text.indexOf("\r\n", at)
    const end = lineEnd === -1 ? text.length : lineEnd
    const colon = text.indexOf(":", at)
    if (colon <= at || colon > end) return refused("protocol", `a header line without a name: ${JSON.stringify(text.slice(at, Math.min(end, at + 80)))}`)
    const nameLength = colon - at
    if (nameLength === 10 || nameLength === 14 || nameLength === 17) {
      const name = text.slice(at, colon).toLowerCase()
      if (FRAMING.has(name)) {
        const value = text.slice(colon + 1, end).trim()
        if (name === "content-length") {
          if (!/^\d{1,15}$/.test(value)) return refused("protocol", `Content-Length ${JSON.stringify(value.slice(0, 40))} is not a number`)
          const length = Number(value)
          if (contentLength !== undefined && contentLength !== length) return refused("protocol", "two different Content-Length headers")
          contentLength = length
        } else if (name === "transfer-encoding") {
          const codings = value.toLowerCase().split(",").map((coding) => coding.trim())
          if (codings[codings.length - 1] !== "chunked") {
            return refused("protocol", `Transfer-Encoding ${JSON.stringify(value.slice(0, 40))} is not chunked, which this client reads`)
          }
          chunked = true
        } else {
          connection += `${value.toLowerCase()},`
        }
      }
    }
    at = end + 2
  }
  return { _tag: "Head", status: Number(statusLine[2]), http10: statusLine[1] === "0", contentLength, chunked, connection }
}

/**
 * A parser of the answer to one request; `method` matters because an answer to HEAD has no body.
 */
export const responseParser = (method: string, maxBodyBytes: number): ResponseParser => {
  let buffered: Buffer | undefined
  let head: Head | undefined
  let framing: Framing | undefined
  let parts: Array<Buffer> = []
  let size = 0
  let started = false
  let finished: Answer | Refused | undefined

  const keepAlive = (h: Head, framed: Framing): boolean =>
    framed._tag !== "UntilClose" &&
    (h.http10 ? /(^|[\s,])keep-alive,/.test(h.connection) : !/(^|[\s,])close,/.test(h.connection))

  const done = (extra: boolean): Answer => {
    const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size)
    parts = []
    return (finished = { _tag: "Answer", status: head!.status, body, keepAlive: keepAlive(head!, framing!) && !extra, extra })
  }

  const fail = (refusal: Refused): Refused => (finished = refusal)

  const take = (bytes: Buffer): Refused | undefined => {
    if (bytes.length === 0) return undefined
    size += bytes.length
    if (size > maxBodyBytes) return fail(tooLarge(maxBodyBytes))
    parts.push(bytes)
    return undefined
  }

  /** Reads body bytes from `input`; answers what is left over, or the outcome once there is one. */
  const body = (input: Buffer): Parsed => {
    const framed = framing!
    switch (framed._tag) {
      case "None":
        return done(input.length > 0)
      case "UntilClose":
        return take(input)
      case "Length": {
        const now = input.subarray(0, framed.remaining)
        framed.remaining -= now.length
        const refusal = take(now)
        if (refusal !== undefined) return refusal
        return framed.remaining === 0 ? done(input.length > now.length) : undefined
      }
      case "Chunked": {
        let rest = input
        while (rest.length > 0) {
          if (framed.state === "data") {
            const now = rest.subarray(0, framed.remaining)
            framed.remaining -= now.length
            rest = rest.subarray(now.length)
            const refusal = take(now)
            if (refusal !== undefined) return refusal
            if (framed.remaining === 0) framed.state = "data-end"
            continue
          }
          const eol = rest.indexOf(CRLF)
          if (eol === -1) {
            if (rest.length > MAX_LINE) return fail(refused("protocol", `a chunk line longer than ${MAX_LINE} bytes`))
            buffered = rest
            return undefined
          }
          const line = rest.toString("latin1", 0, eol)
          rest = rest.subarray(eol + 2)
          if (framed.state === "data-end") {
            if (line !== "") return fail(refused("protocol", "a chunk is longer than its size says"))
            framed.state = "size"
          } else if (framed.state === "size") {
            const match = /^([0-9a-fA-F]{1,8})(?:[ \t]*;.*)?$/.exec(line)
            if (match === null) return fail(refused("protocol", `a chunk size that is not hex: ${JSON.stringify(line.slice(0, 40))}`))
            const chunkSize = parseInt(match[1]!, 16)
            if (chunkSize === 0) framed.state = "trailers"
            else {
              if (size + chunkSize > maxBodyBytes) return fail(tooLarge(maxBodyBytes))
              framed.state = "data"
              framed.remaining = chunkSize
            }
          } else if (line === "") {
            return done(rest.length > 0)
          }
        }
        return undefined
      }
    }
  }

  const feed = (chunk: Buffer): Parsed => {
    if (finished !== undefined) return finished._tag === "Refused" ? finished : undefined
    started = true
    let input = buffered === undefined ? chunk : Buffer.concat([buffered, chunk])
    buffered = undefined
    while (head === undefined) {
      const end = input.indexOf(HEAD_END)
      if (end === -1) {
        if (input.length > MAX_HEAD) return fail(refused("protocol", `the answer's headers are longer than ${MAX_HEAD} bytes`))
        buffered = input
        return undefined
      }
      const parsed = parseHead(input.toString("latin1", 0, end))
      if (parsed._tag === "Refused") return fail(parsed)
      input = input.subarray(end + 4)
      // An interim answer (100 Continue, 103 Early Hints) is followed by the real one.
      if (parsed.status >= 100 && parsed.status < 200 && parsed.status !== 101) continue
      head = parsed
      if (method === "HEAD" || parsed.status === 204 || parsed.status === 304 || parsed.status < 200) framing = { _tag: "None" }
      else if (parsed.chunked) framing = { _tag: "Chunked", state: "size", remaining: 0 }
      else if (parsed.contentLength !== undefined) {
        if (parsed.contentLength > maxBodyBytes) return fail(tooLarge(maxBodyBytes))
        framing = parsed.contentLength === 0 ? { _tag: "None" } : { _tag: "Length", remaining: parsed.contentLength }
      } else framing = { _tag: "UntilClose" }
    }
    return body(input)
  }

  const end = (): Answer | Refused => {
    if (finished !== undefined) return finished
    if (head !== undefined && framing?._tag === "UntilClose") return done(false)
    return fail(refused(
      "protocol",
      started ? "the connection closed in the middle of the answer" : "the connection closed before any answer"
    ))
  }

  return { feed, end, started: () => started }
}
