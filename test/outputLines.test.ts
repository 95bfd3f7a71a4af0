/**
 * Plugin output as lines: UTF-8 decoded across chunk boundaries, lines bounded in length.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { capLineLength, MAX_LINE, splitBoundedLines } from "../src/internal/outputLines.js"

const linesOf = (chunks: ReadonlyArray<Uint8Array>) =>
  Stream.fromIterable(chunks).pipe(Stream.decodeText(), splitBoundedLines, Stream.runCollect, Effect.map(Chunk.toReadonlyArray))

describe("output lines", () => {
  it.effect("a multibyte character split across two writes stays whole", () =>
    Effect.gen(function*() {
      const bytes = new TextEncoder().encode("héllo wörld\n€uro\n")
      // Cut inside "é" (2 bytes), inside "ö", and inside "€" (3 bytes).
      const cuts = [2, 10, 14, 15]
      const chunks = [0, ...cuts].map((start, i) => bytes.slice(start, [...cuts, bytes.length][i]))
      expect(yield* linesOf(chunks)).toEqual(["héllo wörld", "€uro"])
    }))

  it.effect("CRLF and a last line without newline", () =>
    Effect.gen(function*() {
      expect(yield* linesOf([new TextEncoder().encode("one\r\ntwo\r\nthree")])).toEqual(["one", "two", "three"])
    }))

  it.effect("an endless line is cut every MAX_LINE characters, so memory stays bounded", () =>
    Effect.gen(function*() {
      const chunk = new TextEncoder().encode("x".repeat(10_000))
      const lines = yield* linesOf(Array.from({ length: 20 }, () => chunk))
      expect(lines.length).toBe(Math.ceil(200_000 / MAX_LINE))
      expect(lines.slice(0, -1).every((line) => line.length === MAX_LINE + 1 && line.endsWith("…"))).toBe(true)
      expect(lines.join("").replaceAll("…", "").length).toBe(200_000)
    }))

  it.effect("the cap counts across chunks and restarts after each newline", () =>
    Effect.gen(function*() {
      const out = yield* Stream.make("abc", "de\nfgh", "ij").pipe(capLineLength(4), Stream.runCollect)
      expect(Chunk.toReadonlyArray(out).join("")).toBe("abcd…\ne\nfghi…\nj")
    }))
})
