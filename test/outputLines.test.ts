/**
 * Plugin output as lines: UTF-8 decoded across chunk boundaries, split as `Stream.splitLines` splits,
 * lines bounded in length; and a pipe's lines read until it ends, fails or is destroyed.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { PassThrough } from "node:stream"
import { capText, lineReader, MAX_LINE, readLines } from "../src/internal/outputLines.js"

const encoder = new TextEncoder()

const linesOf = (chunks: ReadonlyArray<Uint8Array>, max?: number): ReadonlyArray<string> => {
  const reader = lineReader(max)
  return [...chunks.flatMap((chunk) => reader.push(chunk)), ...reader.end()]
}

/** The same lines through Effect's own Stream operators: what the reader must match. */
const streamLinesOf = (chunks: ReadonlyArray<Uint8Array>, max: number) =>
  Stream.fromIterable(chunks).pipe(
    Stream.decodeText(),
    Stream.mapAccum(0, (run, text: string) => capText(max, run, text)),
    Stream.splitLines,
    Stream.runCollect,
    Effect.map(Chunk.toReadonlyArray)
  )

/** A small deterministic generator, so a failure names its seed. */
const random = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}

describe("output lines", () => {
  it("a multibyte character split across two writes stays whole", () => {
    const bytes = encoder.encode("héllo wörld\n€uro\n")
    // Cut inside "é" (2 bytes), inside "ö", and inside "€" (3 bytes).
    const cuts = [2, 10, 14, 15]
    const chunks = [0, ...cuts].map((start, i) => bytes.slice(start, [...cuts, bytes.length][i]))
    expect(linesOf(chunks)).toEqual(["héllo wörld", "€uro"])
  })

  it("CRLF (also split across chunks), a lone CR kept, empty lines, and a last line without newline", () => {
    expect(linesOf([encoder.encode("one\r\ntwo\r\nthree")])).toEqual(["one", "two", "three"])
    expect(linesOf([encoder.encode("a\r"), encoder.encode("\nb\rc\n\n"), encoder.encode("d\r")])).toEqual(["a", "b\rc", "", "d"])
  })

  it("an endless line is cut every MAX_LINE characters, so memory stays bounded", () => {
    const chunk = encoder.encode("x".repeat(10_000))
    const lines = linesOf(Array.from({ length: 20 }, () => chunk))
    expect(lines.length).toBe(Math.ceil(200_000 / MAX_LINE))
    expect(lines.slice(0, -1).every((line) => line.length === MAX_LINE + 1 && line.endsWith("…"))).toBe(true)
    expect(lines.join("").replaceAll("…", "").length).toBe(200_000)
  })

  it("the cap counts across chunks and restarts after each newline", () => {
    expect(capText(4, 0, "abc")).toEqual([3, "abc"])
    expect(capText(4, 3, "de\nfgh")).toEqual([3, "d…\ne\nfgh"])
    expect(capText(4, 3, "ij")).toEqual([1, "i…\nj"])
    expect(linesOf(["abc", "de\nfgh", "ij"].map((text) => encoder.encode(text)), 4)).toEqual(["abcd…", "e", "fghi…", "j"])
  })

  it.effect("splits exactly as decodeText, the cap and Stream.splitLines, however the bytes are cut", () =>
    Effect.gen(function*() {
      const pieces = ["a", "b", "\n", "\r", "\r\n", "é", "€", "😀", " ", "{\"@level\":\"warn\"}"]
      for (let seed = 1; seed <= 300; seed++) {
        const next = random(seed)
        const text = Array.from({ length: Math.floor(next() * 60) }, () => pieces[Math.floor(next() * pieces.length)]).join("")
        const bytes = encoder.encode(text)
        const chunks: Array<Uint8Array> = []
        for (let at = 0; at < bytes.length;) {
          const size = 1 + Math.floor(next() * 7)
          chunks.push(bytes.slice(at, at + size))
          at += size
        }
        const max = 1 + Math.floor(next() * 12)
        expect([seed, linesOf(chunks, max)]).toEqual([seed, yield* streamLinesOf(chunks, max)])
      }
    }))
})

describe("readLines", () => {
  const readAll = (pipe: PassThrough) => {
    const seen: Array<ReadonlyArray<string>> = []
    const ends: Array<Error | undefined> = []
    readLines(pipe, (lines) => void seen.push(lines), (error) => void ends.push(error))
    return { seen, ends }
  }

  it("gives each chunk's complete lines, then the last line and the end once", () => {
    const pipe = new PassThrough()
    const { ends, seen } = readAll(pipe)
    pipe.write("one\ntw")
    pipe.write("o\n")
    pipe.end("three")
    return new Promise<void>((resolve) =>
      pipe.once("close", () => {
        expect(seen).toEqual([["one"], ["two"], ["three"]])
        expect(ends).toEqual([undefined])
        resolve()
      })
    )
  })

  /** Writes `text`, then (a turn later) destroys the pipe with `error`; answers what was read once it closed. */
  const destroyedAfter = (text: string, error?: Error) => {
    const pipe = new PassThrough()
    const read = readAll(pipe)
    pipe.write(text)
    return new Promise<ReturnType<typeof readAll>>((resolve) =>
      setImmediate(() => {
        pipe.destroy(error)
        pipe.once("close", () => resolve(read))
      })
    )
  }

  it("ends with the error when a read fails, after the lines before it", async () => {
    const { ends, seen } = await destroyedAfter("kept\npartial", new Error("EIO"))
    expect(seen).toEqual([["kept"], ["partial"]])
    expect(ends.map((error) => error?.message)).toEqual(["EIO"])
  })

  it("ends when the pipe is destroyed before its end (a process stopped)", async () => {
    const { ends, seen } = await destroyedAfter("last words\n")
    expect(seen).toEqual([["last words"]])
    expect(ends).toEqual([undefined])
  })
})
