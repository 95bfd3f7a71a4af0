/**
 * Turning TOML text into typed values with errors people can act on: syntax errors with line, column
 * and an excerpt; schema errors with the field path. Shared by every TOML file the library reads.
 *
 * @internal
 */
import { Either, ParseResult, Schema } from "effect"
import { parse as parseToml, TomlError } from "smol-toml"
import { ConfigParseError } from "../PluginError.js"

/** A field path as a user writes it: `plugins.log.exec_args[2]`. */
export const formatPath = (segments: ReadonlyArray<PropertyKey>): string =>
  segments
    .map((segment, i) => (typeof segment === "number" ? `[${segment}]` : i === 0 ? String(segment) : `.${String(segment)}`))
    .join("")

/** smol-toml reports an unclosed string as a control character; say what the user actually did. */
const toParseError = (file: string, text: string, error: unknown): ConfigParseError => {
  if (!(error instanceof TomlError)) return new ConfigParseError({ file, line: 0, column: 0, problem: String(error) })
  const [first, ...rest] = error.message.split("\n")
  const lineText = text.split(/\r?\n/)[error.line - 1] ?? ""
  const unclosed = /control characters are not allowed in strings/.test(error.message) && error.column > lineText.length
  const problem = unclosed
    ? `a string is not closed before the end of line ${error.line} (a "…" string cannot span lines)`
    : (first ?? error.message).replace(/^Invalid TOML document: /, "")
  const excerpt = rest.join("\n").replace(/\n+$/, "")
  return new ConfigParseError({ file, line: error.line, column: error.column, problem, ...(excerpt === "" ? {} : { excerpt }) })
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
    const rest = issues.slice(1).map((issue) => `${formatPath(issue.path)}: ${issue.message}`)
    return {
      path: formatPath(first?.path ?? []),
      problem: (first?.message ?? "does not match the expected shape") + (rest.length > 0 ? ` (also: ${rest.join("; ")})` : "")
    }
  })
