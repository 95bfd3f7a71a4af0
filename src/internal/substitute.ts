/**
 * `${...}` templates of pipeline payloads and config strings: `${vars.NAME}`, `${env.NAME}` and
 * `${steps.NAME.output}`, with `$${` for a literal `${`. Pure: parsing, rendering and building a step's
 * payload take every value they need as arguments.
 *
 * @internal
 */
import { Either } from "effect"
import { SubstitutionError } from "../PluginError.js"

/** A reference inside `${...}`. */
export type Reference =
  | { readonly kind: "vars"; readonly name: string }
  | { readonly kind: "env"; readonly name: string }
  | { readonly kind: "steps"; readonly name: string }

/** A parsed template: literal text and references, in order. */
export type Segment = string | Reference

/** Why a template or a reference in it is unusable: the reference as written and the problem. */
export interface TemplateProblem {
  readonly reference: string
  readonly problem: string
}

const VARS = /^vars\.([A-Za-z0-9_-]+)$/
const ENV = /^env\.([A-Za-z_][A-Za-z0-9_]*)$/
const STEPS = /^steps\.([A-Za-z0-9_-]+)\.output$/

/** The reference as a user writes it, e.g. `${steps.fetch.output}`. */
export const referenceText = (reference: Reference): string =>
  reference.kind === "steps" ? `\${steps.${reference.name}.output}` : `\${${reference.kind}.${reference.name}}`

const parseReference = (inner: string): Reference | undefined => {
  const vars = VARS.exec(inner)
  if (vars !== null) return { kind: "vars", name: vars[1]! }
  const env = ENV.exec(inner)
  if (env !== null) return { kind: "env", name: env[1]! }
  const steps = STEPS.exec(inner)
  if (steps !== null) return { kind: "steps", name: steps[1]! }
  return undefined
}

/** Splits a template into literal text and references, or says which `${...}` is malformed. */
export const parseTemplate = (template: string): Either.Either<ReadonlyArray<Segment>, TemplateProblem> => {
  const segments: Array<Segment> = []
  let literal = ""
  let i = 0
  while (i < template.length) {
    if (template.startsWith("$${", i)) {
      literal += "${"
      i += 3
      continue
    }
    if (!template.startsWith("${", i)) {
      literal += template[i]
      i += 1
      continue
    }
    const close = template.indexOf("}", i + 2)
    if (close === -1) {
      return Either.left({
        reference: template.slice(i),
        problem: `"\${" is not closed by "}" (write "$\${" for a literal "\${")`
      })
    }
    const inner = template.slice(i + 2, close).trim()
    const reference = parseReference(inner)
    if (reference === undefined) {
      return Either.left({
        reference: template.slice(i, close + 1),
        problem: "unknown reference; use ${vars.NAME}, ${env.NAME} or ${steps.NAME.output} " +
          `(write "$\${" for a literal "\${")`
      })
    }
    if (literal !== "") segments.push(literal)
    literal = ""
    segments.push(reference)
    i = close + 1
  }
  if (literal !== "") segments.push(literal)
  return Either.right(segments)
}

/** The references of a parsed template. */
export const referencesOf = (segments: ReadonlyArray<Segment>): ReadonlyArray<Reference> =>
  segments.filter((segment): segment is Reference => typeof segment !== "string")

/** The single reference a template consists of, when it is nothing else (no text around it). */
export const soleReference = (segments: ReadonlyArray<Segment>): Reference | undefined => {
  const [only, ...rest] = segments
  return only !== undefined && typeof only !== "string" && rest.length === 0 ? only : undefined
}

/** Renders a parsed template, asking `resolve` for each reference's text. */
export const renderTemplate = (
  segments: ReadonlyArray<Segment>,
  resolve: (reference: Reference) => Either.Either<string, string>
): Either.Either<string, TemplateProblem> => {
  let out = ""
  for (const segment of segments) {
    if (typeof segment === "string") {
      out += segment
      continue
    }
    const value = resolve(segment)
    if (Either.isLeft(value)) return Either.left({ reference: referenceText(segment), problem: value.left })
    out += value.right
  }
  return Either.right(out)
}

/** A string found inside a config value, with its path below the config (e.g. `.headers.accept`, `[0]`). */
export interface StringLeaf {
  readonly path: string
  readonly value: string
}

const isPlainObject = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date)

const keyPath = (key: string): string => (/^[A-Za-z0-9_-]+$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`)

/** Every string in a (TOML-decoded) value, with its path; keys are not templates, only values. */
export const stringLeaves = (value: unknown, path = ""): ReadonlyArray<StringLeaf> => {
  if (typeof value === "string") return [{ path, value }]
  if (Array.isArray(value)) return value.flatMap((item, i) => stringLeaves(item, `${path}[${i}]`))
  if (isPlainObject(value)) return Object.entries(value).flatMap(([key, item]) => stringLeaves(item, path + keyPath(key)))
  return []
}

/**
 * Rebuilds a value with every string passed through `render`; stops at the first string that fails,
 * answering its path and problem.
 */
export const mapStrings = <E>(
  value: unknown,
  render: (text: string, path: string) => Either.Either<string, E>,
  path = ""
): Either.Either<unknown, E> => {
  if (typeof value === "string") return render(value, path)
  if (Array.isArray(value)) {
    const out: Array<unknown> = []
    for (const [i, item] of value.entries()) {
      const mapped = mapStrings(item, render, `${path}[${i}]`)
      if (Either.isLeft(mapped)) return mapped
      out.push(mapped.right)
    }
    return Either.right(out)
  }
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      const mapped = mapStrings(item, render, path + keyPath(key))
      if (Either.isLeft(mapped)) return mapped
      out[key] = mapped.right
    }
    return Either.right(out)
  }
  return Either.right(value)
}

/** What a step's payload is built from: the variables, the environment and the results so far. */
export interface SubstitutionContext {
  /** The pipeline file, for error messages. */
  readonly file: string
  readonly vars: Readonly<Record<string, string>>
  readonly env: Readonly<Record<string, string | undefined>>
  readonly results: ReadonlyMap<string, { readonly status: string; readonly output: Uint8Array | undefined }>
}

/** The parts of a step a payload is built from. */
export interface PayloadSource {
  readonly name: string
  readonly payload?: string | undefined
  readonly config?: Readonly<Record<string, unknown>> | undefined
}

const decoder = new TextDecoder("utf-8", { fatal: true })
const encoder = new TextEncoder()

const outputOf = (context: SubstitutionContext, name: string): Either.Either<Uint8Array, string> => {
  const result = context.results.get(name)
  if (result === undefined || result.status === "skipped") return Either.left(`step "${name}" did not run, so it has no output`)
  if (result.output === undefined) {
    return Either.left(`step "${name}" failed (it continues on error), so it has no output`)
  }
  return Either.right(result.output)
}

const resolveText = (context: SubstitutionContext) => (reference: Reference): Either.Either<string, string> => {
  switch (reference.kind) {
    case "vars": {
      if (Object.hasOwn(context.vars, reference.name)) return Either.right(context.vars[reference.name]!)
      const known = Object.keys(context.vars)
      return Either.left(
        `there is no variable "${reference.name}": it is not in [vars] and no earlier step's plugin set it ` +
          `(defined: ${known.length === 0 ? "(none)" : known.join(", ")}); add it to [vars] or check the name`
      )
    }
    case "env": {
      const value = context.env[reference.name]
      return value === undefined
        ? Either.left(`the environment variable ${reference.name} is not set; set it before running the pipeline`)
        : Either.right(value)
    }
    case "steps":
      return Either.flatMap(outputOf(context, reference.name), (bytes) =>
        Either.try({
          try: () => decoder.decode(bytes),
          catch: () =>
            `the output of step "${reference.name}" is not UTF-8 text (${bytes.length} bytes); ` +
            `a payload that is exactly \${steps.${reference.name}.output} passes bytes unchanged`
        }))
  }
}

/**
 * Builds a step's payload: the substituted text's UTF-8 bytes, the substituted config as JSON bytes, or
 * no bytes. A payload that is exactly one `${steps.NAME.output}` passes that output's bytes unchanged.
 */
export const buildPayload = (context: SubstitutionContext, step: PayloadSource): Either.Either<Uint8Array, SubstitutionError> => {
  const fail = (field: string, reference: string, problem: string) =>
    new SubstitutionError({ file: context.file, step: step.name, field, reference, problem })
  const render = (template: string, field: string): Either.Either<string, SubstitutionError> =>
    Either.flatMap(
      Either.mapLeft(parseTemplate(template), (problem) => fail(field, problem.reference, problem.problem)),
      (segments) =>
        Either.mapLeft(renderTemplate(segments, resolveText(context)), (problem) => fail(field, problem.reference, problem.problem))
    )
  if (step.payload !== undefined) {
    const payload = step.payload
    const parsed = parseTemplate(payload)
    const sole = Either.isRight(parsed) ? soleReference(parsed.right) : undefined
    if (sole !== undefined && sole.kind === "steps") {
      return Either.mapLeft(outputOf(context, sole.name), (problem) => fail("payload", referenceText(sole), problem))
    }
    return Either.map(render(payload, "payload"), (text) => encoder.encode(text))
  }
  if (step.config !== undefined) {
    return Either.map(mapStrings(step.config, render, "config"), (config) => encoder.encode(JSON.stringify(config)))
  }
  return Either.right(new Uint8Array())
}
