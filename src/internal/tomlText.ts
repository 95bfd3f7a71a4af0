/**
 * Just enough TOML lexing to patch a file as text: where each table starts and ends, and where a
 * key's array value ends. Strings (one- and multi-line) and comments are skipped so that brackets in
 * them do not count. Callers check their patch by parsing the result, so an unusual layout costs a
 * fallback, never a wrong file.
 *
 * @internal
 */

/** A `[table]` or `[[array.of.tables]]` header and the lines its table spans. */
export interface Block {
  readonly keys: ReadonlyArray<string>
  readonly isArray: boolean
  /** Line of the header. */
  readonly start: number
  /** Last line of the table that is neither blank nor a comment (the header when the table is empty). */
  readonly contentEnd: number
  /** Line of the next header, or the number of lines. */
  readonly end: number
}

/** Replace `text.slice(start, end)` with `text`. */
export interface TextEdit {
  readonly start: number
  readonly end: number
  readonly text: string
}

interface LexState {
  /** The closing delimiter of an open multi-line string. */
  readonly multiline: string | undefined
  /** Open `[` and `{` of a value that spans lines. */
  readonly depth: number
}

/** Index just after the closing quote of a basic string whose content starts at `from`. */
const skipBasicString = (line: string, from: number): number => {
  for (let i = from; i < line.length; i++) {
    if (line[i] === "\\") i++
    else if (line[i] === "\"") return i + 1
  }
  return line.length
}

/** Index of `delimiter` closing a multi-line string, skipping backslash escapes in basic ones; -1 if absent. */
const findClosing = (line: string, from: number, delimiter: string): number => {
  for (let i = from; i <= line.length - 3; i++) {
    if (delimiter === "\"\"\"" && line[i] === "\\") i++
    else if (line.startsWith(delimiter, i)) return i
  }
  return -1
}

const lexLine = (line: string, state: LexState): LexState => {
  let { multiline, depth } = state
  let i = 0
  while (i < line.length) {
    if (multiline !== undefined) {
      const close = findClosing(line, i, multiline)
      if (close < 0) return { multiline, depth }
      i = close + 3
      multiline = undefined
      continue
    }
    const c = line[i]
    if (c === "#") break
    if (line.startsWith("\"\"\"", i) || line.startsWith("'''", i)) {
      multiline = line.slice(i, i + 3)
      i += 3
    } else if (c === "\"") {
      i = skipBasicString(line, i + 1)
    } else if (c === "'") {
      const close = line.indexOf("'", i + 1)
      i = close < 0 ? line.length : close + 1
    } else {
      if (c === "[" || c === "{") depth++
      else if (c === "]" || c === "}") depth = Math.max(0, depth - 1)
      i++
    }
  }
  return { multiline, depth }
}

/** The keys of a header line (`[a."b c".d]`), or undefined when the line is not a header. */
const parseHeader = (line: string): { keys: Array<string>; isArray: boolean } | undefined => {
  const open = /^\s*(\[\[?)/.exec(line)
  if (open === null) return undefined
  const isArray = open[1] === "[["
  let rest = line.slice(open[0].length)
  const keys: Array<string> = []
  for (;;) {
    rest = rest.trimStart()
    const key = /^(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))/.exec(rest)
    if (key === null) return undefined
    keys.push(key[1] !== undefined ? String(JSON.parse(`"${key[1]}"`)) : (key[2] ?? key[3] ?? ""))
    rest = rest.slice(key[0].length).trimStart()
    if (rest.startsWith(".")) {
      rest = rest.slice(1)
      continue
    }
    const close = isArray ? "]]" : "]"
    return rest.startsWith(close) && /^\s*(#.*)?$/.test(rest.slice(close.length)) ? { keys, isArray } : undefined
  }
}

const isFiller = (line: string): boolean => {
  const trimmed = line.trim()
  return trimmed === "" || trimmed.startsWith("#")
}

/** The tables of a TOML text, with helpers to turn line numbers into offsets. */
export const blocksOf = (text: string) => {
  const rawLines = text.split("\n")
  const lines = rawLines.map((line) => line.replace(/\r$/, ""))
  const starts: Array<number> = []
  let offset = 0
  for (const raw of rawLines) {
    starts.push(offset)
    offset += raw.length + 1
  }
  const headers: Array<{ line: number; keys: Array<string>; isArray: boolean }> = []
  let state: LexState = { multiline: undefined, depth: 0 }
  lines.forEach((line, index) => {
    const header = state.multiline === undefined && state.depth === 0 ? parseHeader(line) : undefined
    if (header !== undefined) headers.push({ line: index, ...header })
    else state = lexLine(line, state)
  })
  const blocks: Array<Block> = headers.map((header, i) => {
    const end = headers[i + 1]?.line ?? lines.length
    let contentEnd = end - 1
    while (contentEnd > header.line && isFiller(lines[contentEnd] ?? "")) contentEnd--
    return { keys: header.keys, isArray: header.isArray, start: header.line, contentEnd, end }
  })
  const lineStart = (line: number): number => starts[line] ?? text.length
  const lineEnd = (line: number): number => (starts[line] ?? text.length) + (lines[line]?.length ?? 0)
  return { blocks, lines, lineStart, lineEnd }
}

/**
 * In `text[from, to)`, finds the assignment `key = [ … ]` and returns where to insert a new last
 * element (just after the last significant character before the closing `]`) and that character.
 */
export const findArrayEnd = (
  text: string,
  from: number,
  to: number,
  key: string
): { insertAt: number; lastSignificant: string } | undefined => {
  const region = text.slice(from, to)
  const assignment = new RegExp(`^[ \\t]*(?:${key}|"${key}"|'${key}')[ \\t]*=[ \\t]*\\[`, "m").exec(region)
  if (assignment === null) return undefined
  let i = from + assignment.index + assignment[0].length
  let depth = 1
  let lastAt = i - 1
  while (i < text.length) {
    const c = text[i]!
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++
      continue
    }
    if (c === "\"" || c === "'") {
      const close = c === "\"" ? skipBasicString(text, i + 1) : text.indexOf("'", i + 1) + 1
      lastAt = (close <= 0 ? text.length : close) - 1
      i = close <= 0 ? text.length : close
      continue
    }
    if (c === "[" || c === "{") depth++
    if (c === "]" || c === "}") {
      depth--
      if (depth === 0) return { insertAt: lastAt + 1, lastSignificant: text[lastAt] ?? "[" }
    }
    if (!/\s/.test(c)) lastAt = i
    i++
  }
  return undefined
}

/** Applies non-overlapping edits; edits at the same offset land in the order given. */
export const applyEdits = (text: string, edits: ReadonlyArray<TextEdit>): string => {
  const ordered = edits.map((edit, order) => ({ edit, order })).sort((a, b) =>
    b.edit.start - a.edit.start || b.order - a.order
  )
  let result = text
  for (const { edit } of ordered) result = result.slice(0, edit.start) + edit.text + result.slice(edit.end)
  return result
}
