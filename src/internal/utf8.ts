/**
 * Turning a file's bytes into text, refusing what is not UTF-8 (TOML requires it) and saying where the
 * first bad byte is, so the user can find it.
 *
 * @internal
 */
import { Either } from "effect"

/** Where the first byte that is not part of valid UTF-8 sits. */
export interface Utf8Problem {
  readonly offset: number
  readonly line: number
  readonly column: number
}

const strict = new TextDecoder("utf-8", { fatal: true })

/** Length of the valid sequence at `i` (1-4), or 0 when the byte there starts no valid sequence. */
const sequenceAt = (bytes: Uint8Array, i: number): number => {
  const b0 = bytes[i]!
  if (b0 < 0x80) return 1
  const [length, min, max] = b0 >= 0xc2 && b0 <= 0xdf
    ? [2, 0x80, 0xbf]
    : b0 === 0xe0
    ? [3, 0xa0, 0xbf]
    : b0 === 0xed
    ? [3, 0x80, 0x9f]
    : b0 >= 0xe1 && b0 <= 0xef
    ? [3, 0x80, 0xbf]
    : b0 === 0xf0
    ? [4, 0x90, 0xbf]
    : b0 === 0xf4
    ? [4, 0x80, 0x8f]
    : b0 >= 0xf1 && b0 <= 0xf3
    ? [4, 0x80, 0xbf]
    : [0, 0, 0]
  if (length === 0 || i + length > bytes.length) return 0
  const b1 = bytes[i + 1]!
  if (b1 < min || b1 > max) return 0
  for (let k = 2; k < length; k++) {
    const b = bytes[k + i]!
    if (b < 0x80 || b > 0xbf) return 0
  }
  return length
}

/** The first invalid byte's offset, line and column (1-based, in characters of the valid text before it). */
export const firstInvalid = (bytes: Uint8Array): Utf8Problem | undefined => {
  let line = 1
  let column = 1
  for (let i = 0; i < bytes.length;) {
    const length = sequenceAt(bytes, i)
    if (length === 0) return { offset: i, line, column }
    if (bytes[i] === 0x0a) {
      line++
      column = 1
    } else {
      column++
    }
    i += length
  }
  return undefined
}

/** The bytes as text (a leading byte-order mark dropped), or where they stop being UTF-8. */
export const decodeUtf8 = (bytes: Uint8Array): Either.Either<string, Utf8Problem> =>
  Either.try({
    try: () => strict.decode(bytes),
    catch: () => firstInvalid(bytes) ?? { offset: 0, line: 1, column: 1 }
  })
