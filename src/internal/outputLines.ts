/**
 * A plugin's output as a Stream of lines: bytes decoded as UTF-8 across chunk boundaries
 * (`Stream.decodeText`), then split with `Stream.splitLines`. A line longer than {@link MAX_LINE}
 * is cut first, because `splitLines` buffers a line until its end and a plugin writing one endless
 * line must not exhaust the host's memory.
 *
 * @internal
 */
import * as NodeStream from "@effect/platform-node/NodeStream"
import { Stream } from "effect"
import type { Readable } from "node:stream"

/** The longest line kept whole; longer ones are cut and marked with "…". */
export const MAX_LINE = 64 * 1024

/**
 * Breaks every run of more than `max` characters without a newline, so that the line splitter after
 * it never holds more than `max` characters. Counts in UTF-16 units, which is what a string's memory is.
 */
export const capLineLength = (max: number) => <E, R>(self: Stream.Stream<string, E, R>): Stream.Stream<string, E, R> =>
  Stream.mapAccum(self, 0, (run, chunk: string): readonly [number, string] => {
    let out = ""
    let length = run
    let i = 0
    while (i < chunk.length) {
      const newline = chunk.indexOf("\n", i)
      const end = newline === -1 ? chunk.length : newline
      const room = max - length
      if (end - i > room) {
        out += chunk.slice(i, i + room) + "…\n"
        i += room
        length = 0
      } else if (newline === -1) {
        out += chunk.slice(i)
        length += chunk.length - i
        i = chunk.length
      } else {
        out += chunk.slice(i, newline + 1)
        length = 0
        i = newline + 1
      }
    }
    return [length, out]
  })

/** Lines of decoded text, each at most {@link MAX_LINE} characters (plus the "…" mark). */
export const splitBoundedLines = <E, R>(text: Stream.Stream<string, E, R>): Stream.Stream<string, E, R> =>
  text.pipe(capLineLength(MAX_LINE), Stream.splitLines)

/** The lines a readable pipe carries until it ends; a read error ends the stream with that error. */
export const readableLines = (readable: Readable): Stream.Stream<string, Error> =>
  NodeStream.fromReadable<Error>(() => readable, (error) => (error instanceof Error ? error : new Error(String(error)))).pipe(
    Stream.decodeText(),
    splitBoundedLines
  )
