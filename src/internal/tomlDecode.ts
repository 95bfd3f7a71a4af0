/**
 * Turning TOML text into typed values with errors people can act on: syntax errors with line, column
 * and an excerpt; schema errors with the field path. Shared by every TOML file the library reads
 * (configs, pipelines, manifests). A message quotes at most {@link maxQuoted} characters of any value,
 * key or line of the file: a 10 MB string in the wrong place must not become a 10 MB error.
 *
 * @internal
 */
import { Either, ParseResult, Schema } from "effect"
import { parse as parseToml, TomlError } from "smol-toml"
import { ConfigParseError } from "../PluginError.js"

/** The most characters of one value, key or line of a file that an error message quotes. */
export const maxQuoted = 200

/** `text`, cut to {@link maxQuoted} characters with a note of how long it was. */
export const clip = (text: string, max: number = maxQuoted): string =>
  text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters in all)`

/** A field path as a user writes it: `plugins.log.exec_args[2]`; an empty key shows as `""`. */
export const formatPath = (segments: ReadonlyArray<PropertyKey>): string =>
  segments
    .map((segment, i) => {
      if (typeof segment === "number") return `[${segment}]`
      const key = String(segment) === "" ? `""` : clip(String(segment))
      return i === 0 ? key : `.${key}`
    })
    .join("")

/**
 * Schema messages end with the offending value (`Expected string, actual <value>`): quote only its
 * start. A table whose keys are renamed on decoding is named after its encoded side; call it a table.
 */
const clipIssue = (message: string): string => {
  const named = message.replace(/\bStruct \(Encoded side\)/g, "a table")
  const at = named.search(/\bactual /)
  return at < 0 ? clip(named, 2 * maxQuoted) : named.slice(0, at + 7) + clip(named.slice(at + 7))
}

/**
 * The bad spot of a line too long to quote: about {@link maxQuoted} characters around `column`, with a
 * caret under it, in the `N:  text` layout smol-toml uses for short lines.
 */
const windowAround = (lineNumber: number, lineText: string, column: number): string => {
  const from = Math.max(0, Math.min(column - 1 - maxQuoted / 2, lineText.length - maxQuoted))
  const to = Math.min(lineText.length, from + maxQuoted)
  const before = from > 0 ? "…" : ""
  const shown = `${before}${lineText.slice(from, to)}${to < lineText.length ? "…" : ""}`
  const gutter = `${lineNumber}:  `
  return `${gutter}${shown}\n${" ".repeat(gutter.length + before.length + column - 1 - from)}^`
}

/** smol-toml reports an unclosed string as a control character; say what the user actually did. */
const toParseError = (file: string, text: string, error: unknown): ConfigParseError => {
  if (!(error instanceof TomlError)) {
    return new ConfigParseError({ file, line: 0, column: 0, problem: clip(String(error)), cause: error })
  }
  const [first, ...rest] = error.message.split("\n")
  const lineText = text.split(/\r?\n/)[error.line - 1] ?? ""
  const unclosed = /control characters are not allowed in strings/.test(error.message) && error.column > lineText.length
  const problem = unclosed
    ? `a string is not closed before the end of line ${error.line} (a "…" string cannot span lines)`
    : clip((first ?? error.message).replace(/^Invalid TOML document: /, ""), 2 * maxQuoted)
  const excerpt = rest.every((line) => line.length <= maxQuoted)
    ? rest.join("\n").replace(/\n+$/, "")
    : windowAround(error.line, lineText, error.column)
  return new ConfigParseError({
    file,
    line: error.line,
    column: error.column,
    problem,
    ...(excerpt === "" ? {} : { excerpt }),
    cause: error
  })
}

/** Parses TOML text, failing with the file, line, column and an excerpt of the bad spot. */
export const parseTomlText = (file: string, text: string): Either.Either<Record<string, unknown>, ConfigParseError> =>
  Either.try({ try: () => parseToml(text), catch: (error) => toParseError(file, text, error) })

/** Where a decoded value is wrong, and how: the first problem's path, and every problem in words. */
export interface SchemaProblem {
  readonly path: string
  readonly problem: string
}

/**
 * Decodes with `errors: "all"` and unknown keys refused (a typo must not silently do nothing), and
 * summarises the failure as the first problem's path plus every problem.
 */
export const decodeStrict = <A, I>(schema: Schema.Schema<A, I>, raw: unknown): Either.Either<A, SchemaProblem> =>
  Either.mapLeft(Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "error" })(raw), (error) => {
    const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
    const first = issues[0]
    const rest = issues.slice(1).map((issue) => `${formatPath(issue.path)}: ${clipIssue(issue.message)}`)
    return {
      path: formatPath(first?.path ?? []),
      problem: (first === undefined ? "does not match the expected shape" : clipIssue(first.message)) +
        (rest.length > 0 ? ` (also: ${rest.join("; ")})` : "")
    }
  })
