/**
 * Variables that plugins set for later pipeline steps: reading a step's updates from its answer, and
 * merging the updates of one parallel group. Pure: no process, no clock.
 *
 * The rules (docs/pipelines.md, "Variables set by plugins"): names as in `[vars]`; values are strings,
 * numbers or booleans, used as text; the steps of a group all see the variables as they were when the
 * group started; their updates are applied when the group ends, in file order; two steps of a group
 * that set one variable to different values are a conflict, and the later step (in file order) fails.
 *
 * @internal
 */
import { Either } from "effect"

/** Variables by name, values as text. */
export type Vars = Readonly<Record<string, string>>

const NAME = /^[A-Za-z0-9_-]+$/

/** Why a step's updates are unusable: the variable concerned (when one is) and the problem. */
export interface UpdateProblem {
  readonly variable: string | undefined
  readonly problem: string
}

const describe = (value: unknown): string =>
  value === null
    ? "null"
    : Array.isArray(value)
    ? "an array"
    : typeof value === "number"
    ? String(value)
    : typeof value === "object"
    ? "an object"
    : `a ${typeof value}`

/**
 * Reads the `vars` a plugin answered: a JSON object of names to strings, numbers or booleans (numbers
 * and booleans become their text, as in `[vars]`). `undefined` (no `vars`) is no update.
 */
export const readUpdates = (raw: unknown): Either.Either<Vars, UpdateProblem> => {
  if (raw === undefined) return Either.right({})
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return Either.left({ variable: undefined, problem: `"vars" is ${describe(raw)}, expected an object of names to values` })
  }
  const updates: Array<[string, string]> = []
  for (const [name, value] of Object.entries(raw)) {
    if (!NAME.test(name)) {
      return Either.left({
        variable: name,
        problem: `the name ${JSON.stringify(name)} is not a variable name (letters, digits, '_' and '-' only)`
      })
    }
    if (typeof value === "string" || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) {
      updates.push([name, String(value)])
    } else {
      return Either.left({
        variable: name,
        problem: `the value of "${name}" is ${describe(value)}; a value is a string, a number or a boolean`
      })
    }
  }
  return Either.right(Object.fromEntries(updates))
}

/** One step's updates, as read from its answer. */
export interface StepUpdates {
  readonly step: string
  readonly vars: Vars
}

/** Two steps of a group that set one variable to different values; `step` is the later one in file order. */
export interface Conflict {
  readonly variable: string
  readonly step: string
  readonly value: string
  readonly otherStep: string
  readonly otherValue: string
}

/**
 * Merges the updates of one group's steps, given in file order. A step whose update disagrees with an
 * earlier accepted step's update of the same variable is refused as a whole (its first disagreement is
 * reported); every other step's updates are accepted. Equal values do not conflict.
 */
export const mergeGroup = (
  updates: ReadonlyArray<StepUpdates>
): { readonly accepted: ReadonlyArray<StepUpdates>; readonly conflicts: ReadonlyArray<Conflict> } => {
  const setBy = new Map<string, { readonly step: string; readonly value: string }>()
  const accepted: Array<StepUpdates> = []
  const conflicts: Array<Conflict> = []
  for (const update of updates) {
    const clash = Object.entries(update.vars).find(([name, value]) => {
      const earlier = setBy.get(name)
      return earlier !== undefined && earlier.value !== value
    })
    if (clash !== undefined) {
      const [variable, value] = clash
      const earlier = setBy.get(variable)!
      conflicts.push({ variable, step: update.step, value, otherStep: earlier.step, otherValue: earlier.value })
      continue
    }
    for (const [name, value] of Object.entries(update.vars)) setBy.set(name, { step: update.step, value })
    accepted.push(update)
  }
  return { accepted, conflicts }
}

/** The variables after applying updates in order (a later update of a name replaces an earlier one). */
export const applyUpdates = (vars: Vars, updates: ReadonlyArray<Vars>): Vars =>
  updates.length === 0 ? vars : Object.fromEntries([...Object.entries(vars), ...updates.flatMap((u) => Object.entries(u))])
