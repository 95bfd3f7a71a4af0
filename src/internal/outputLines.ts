/**
 * A plugin's output as lines: bytes decoded as UTF-8 across chunk boundaries, split on `\n` and
 * `\r\n` exactly as `Stream.splitLines` splits (a last line without a newline is a line at the end),
 * and bounded: a line longer than {@link MAX_LINE} is cut first, because a splitter buffers a line
 * until its end and a plugin writing one endless line must not exhaust the host's memory.
 *
 * Plain callbacks rather than a Stream: every plugin start reads two pipes (and a go-plugin connection
 * its stdio stream) that usually carry a line or two, and a Stream pipeline per pipe cost more CPU than
 * the rest of a start's reading together (~1 ms per start on a small machine). The lines' log entries
 * are logged by {@link entryLogger}.
 *
 * @internal
 */
import { Effect, FiberRef, FiberRefs, LogLevel, Runtime } from "effect"
import type { Readable } from "node:stream"

/** The longest line kept whole; longer ones are cut and marked with "…". */
export const MAX_LINE = 64 * 1024

/**
 * One step of the cap: breaks every run of more than `max` characters without a newline (`run` of
 * them carried over from earlier text) by inserting "…\n", so that the splitter after it never holds
 * more than `max` characters. Counts in UTF-16 units, which is what a string's memory is. Answers the
 * run left at the end of `text` and the capped text.
 */
export const capText = (max: number, run: number, text: string): readonly [number, string] => {
  let out = ""
  let length = run
  let i = 0
  while (i < text.length) {
    const newline = text.indexOf("\n", i)
    const end = newline === -1 ? text.length : newline
    const room = max - length
    if (end - i > room) {
      out += text.slice(i, i + room) + "…\n"
      i += room
      length = 0
    } else if (newline === -1) {
      out += text.slice(i)
      length += text.length - i
      i = text.length
    } else {
      out += text.slice(i, newline + 1)
      length = 0
      i = newline + 1
    }
  }
  return [length, out]
}

/** Turns chunks of bytes into complete lines; `end` gives the last line when it had no newline. */
export interface LineReader {
  /** The lines `bytes` completes (often none, or one). */
  readonly push: (bytes: Uint8Array) => ReadonlyArray<string>
  /** The unfinished last line, if any: call once, when the output ends. */
  readonly end: () => ReadonlyArray<string>
}

const none: ReadonlyArray<string> = []

/**
 * A reader of one output (one pipe, one stdio channel): its own decoder and partial line. Holds at
 * most `max` characters of an unfinished line (plus a "\r" whose "\n" may follow).
 */
export const lineReader = (max: number = MAX_LINE): LineReader => {
  const decoder = new TextDecoder("utf-8")
  let run = 0
  // The unfinished line, and whether the text so far ended in "\r" (a "\r\n" split across chunks).
  let partial = ""
  let midCrlf = false
  const split = (text: string): ReadonlyArray<string> => {
    if (text.length === 0) return none
    const lines: Array<string> = []
    let from = 0
    if (midCrlf) {
      midCrlf = false
      if (text[0] === "\n") {
        lines.push(partial)
        partial = ""
        from = 1
      } else {
        partial += "\r"
      }
    }
    // A line ends at "\n", dropping a "\r" before it; a "\r" anywhere else is part of the line.
    for (let newline = text.indexOf("\n", from); newline !== -1; newline = text.indexOf("\n", from)) {
      const end = newline > from && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline
      lines.push(partial + text.slice(from, end))
      partial = ""
      from = newline + 1
    }
    if (text.charCodeAt(text.length - 1) === 13 && from < text.length) {
      midCrlf = true
      partial += text.slice(from, text.length - 1)
    } else {
      partial += text.slice(from)
    }
    return lines
  }
  return {
    push: (bytes) => {
      const [left, capped] = capText(max, run, decoder.decode(bytes, { stream: true }))
      run = left
      return split(capped)
    },
    end: () => {
      const last = partial
      partial = ""
      midCrlf = false
      return last.length === 0 ? none : [last]
    }
  }
}

/**
 * Reads a pipe's lines until it ends: `onLines` with the lines each chunk completes, then `onEnd`
 * once (with the error when a read failed), after the unfinished last line. The pipe flows: nothing
 * waits for the callbacks, and nothing but the unfinished line is kept.
 */
export const readLines = (
  readable: Readable,
  onLines: (lines: ReadonlyArray<string>) => void,
  onEnd: (error: Error | undefined) => void
): void => {
  const reader = lineReader()
  let ended = false
  const finish = (error: Error | undefined) => {
    if (ended) return
    ended = true
    readable.off("data", onData)
    const last = reader.end()
    if (last.length > 0) onLines(last)
    onEnd(error)
  }
  const onData = (chunk: Buffer) => {
    const lines = reader.push(chunk)
    if (lines.length > 0) onLines(lines)
  }
  readable.on("data", onData)
  readable.once("end", () => finish(undefined))
  // A pipe destroyed before its end (the host stopping the process) closes without "end".
  readable.once("close", () => finish(undefined))
  readable.once("error", (error) => finish(error))
}

/**
 * Logs entries read in Node callbacks (a pipe's data, a stream's message) through `runtime`: one run
 * per batch, and none for entries below the runtime's minimum log level, which Effect would drop only
 * after building their annotations (a plugin's debug line cost a start ~0.2 ms that way).
 */
export const entryLogger = (runtime: Runtime.Runtime<never>) => {
  const minimum = FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentMinimumLogLevel)
  const run = Runtime.runFork(runtime)
  return <A extends { readonly level: LogLevel.LogLevel }>(entries: ReadonlyArray<A>, log: (entry: A) => Effect.Effect<void>): void => {
    const kept = entries.filter((entry) => LogLevel.greaterThanEqual(entry.level, minimum))
    if (kept.length > 0) run(Effect.forEach(kept, log, { discard: true }))
  }
}
