/**
 * The wire form of a call's pipeline context (pipeline, step, parallel group), shared by the host's
 * callers, which send it, and the plugin SDK, which reads it: the stdio request's `"pipeline"` object,
 * and the `x-goplugin-*` REST headers and gRPC metadata. docs/protocol.md shows it byte for byte.
 *
 * @internal
 */
import type { PipelineContext } from "../Caller.js"

/** The REST header and gRPC metadata names of each context field (lowercase, as gRPC requires). */
export const contextHeader = {
  name: "x-goplugin-pipeline",
  step: "x-goplugin-step",
  parallel: "x-goplugin-parallel",
  index: "x-goplugin-parallel-index",
  size: "x-goplugin-parallel-size"
} as const

/**
 * A header value for any text: every UTF-8 byte outside visible ASCII (`!` to `~`), and `%` itself,
 * becomes `%XX`, so that names with spaces or accents survive HTTP and gRPC metadata, and
 * `decodeURIComponent` (or Python's `urllib.parse.unquote`) gives the text back.
 */
export const headerText = (text: string): string => {
  let out = ""
  for (const byte of Buffer.from(text, "utf8")) {
    out += byte > 0x20 && byte < 0x7f && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`
  }
  return out
}

/** The headers (or metadata entries) of a context, in the order docs/protocol.md lists them. */
export const contextHeaders = (context: PipelineContext): ReadonlyArray<readonly [string, string]> => [
  [contextHeader.name, headerText(context.name)],
  [contextHeader.step, headerText(context.step)],
  [contextHeader.parallel, context.parallel ? "true" : "false"],
  [contextHeader.index, String(context.index)],
  [contextHeader.size, String(context.size)]
]

/** The `"pipeline"` object of a stdio request, keys in the documented order. */
export const contextJson = (context: PipelineContext): string =>
  `{"name":${JSON.stringify(context.name)},"step":${JSON.stringify(context.step)},"parallel":${context.parallel},` +
  `"index":${context.index},"size":${context.size}}`

const count = (value: unknown): number | undefined => {
  const n = typeof value === "string" && /^\d{1,9}$/.test(value) ? Number(value) : value
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

const flag = (value: unknown): boolean | undefined =>
  value === true || value === "true" ? true : value === false || value === "false" ? false : undefined

const decoded = (value: string): string => {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/** A context from its five fields, or undefined when one is missing or malformed. */
const contextOf = (name: unknown, step: unknown, parallel: unknown, index: unknown, size: unknown): PipelineContext | undefined => {
  const isParallel = flag(parallel)
  const position = count(index)
  const groupSize = count(size)
  if (typeof name !== "string" || typeof step !== "string") return undefined
  if (isParallel === undefined || position === undefined || groupSize === undefined) return undefined
  return { name, step, parallel: isParallel, index: position, size: groupSize }
}

/** Reads the context from headers or metadata (`get` answers "" or undefined for an absent one). */
export const readContextHeaders = (get: (name: string) => string | undefined): PipelineContext | undefined => {
  const step = get(contextHeader.step)
  if (step === undefined || step === "") return undefined
  return contextOf(
    decoded(get(contextHeader.name) ?? ""),
    decoded(step),
    get(contextHeader.parallel),
    get(contextHeader.index),
    get(contextHeader.size)
  )
}

/** Reads the `"pipeline"` object of a stdio request; undefined when absent or malformed. */
export const readContextJson = (value: unknown): PipelineContext | undefined => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
  const record = value as Readonly<Record<string, unknown>>
  return contextOf(record["name"], record["step"], record["parallel"], record["index"], record["size"])
}
