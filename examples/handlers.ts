/**
 * The commands the example plugins share. Each takes the payload bytes and answers bytes; text commands
 * read the payload as UTF-8 and refuse anything else with `invalid_argument`.
 */
import * as Effect from "effect/Effect"
import { CommandFailed, type Handler } from "goplugin-effect/sdk"

const decoder = new TextDecoder("utf-8", { fatal: true })
const encoder = new TextEncoder()

/** Reads the payload as UTF-8 text, or fails with `invalid_argument`. */
const utf8 = (payload: Uint8Array, command: string): Effect.Effect<string, CommandFailed> =>
  Effect.try({
    try: () => decoder.decode(payload),
    catch: () => new CommandFailed({ command, kind: "invalid_argument", detail: "the payload is not UTF-8 text" })
  })

/** A handler from a text-to-text function. */
const textHandler = (f: (text: string) => string): Handler => (payload, { command }) =>
  utf8(payload, command).pipe(Effect.map((text) => encoder.encode(f(text))))

/** Answers the payload as it is. */
export const echo: Handler = (payload) => Effect.succeed(payload)

/** Answers the UTF-8 text uppercased. */
export const upper: Handler = textHandler((text) => text.toUpperCase())

/** Answers the payload's bytes in reverse order. */
export const reverse: Handler = (payload) => Effect.succeed(payload.slice().reverse())

/** Answers `{"words":N}`: how many whitespace-separated words the UTF-8 text has. */
export const wordcount: Handler = textHandler((text) =>
  JSON.stringify({ words: text.split(/\s+/u).filter((word) => word.length > 0).length })
)

/** Answers the text as a lowercase, dash-separated slug: "Héllo, World!" becomes "hello-world". */
export const slugify: Handler = textHandler((text) =>
  text
    .normalize("NFKD")
    .replace(/\p{Mn}/gu, "")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, "-")
    .replace(/^-+|-+$/g, "")
)
