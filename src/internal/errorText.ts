/**
 * Pieces shared by the error messages of every error module.
 *
 * @internal
 */
import * as Schema from "effect/Schema"

/** A list of names or paths in an error. */
export const Strings = Schema.Array(Schema.String)

/** The last stderr lines of a plugin, or a note that it wrote none. */
export const tail = (lines: ReadonlyArray<string>): string =>
  lines.length === 0 ? " It wrote nothing to stderr." : `\nLast stderr lines:\n  ${lines.join("\n  ")}`

/** Names joined for a message; "(none)" for an empty list. */
export const list = (names: ReadonlyArray<string>): string => (names.length === 0 ? "(none)" : names.join(", "))

/** A defect (anything thrown) in words: an `Error`'s message, else the value as a string. */
export const defectText = (defect: unknown): string => (defect instanceof Error ? defect.message : String(defect))
