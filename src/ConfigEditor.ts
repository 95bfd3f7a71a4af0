/**
 * Edits a goplugin config file: adds or updates one plugin (`[plugins.<name>]`) and lets hosts use it
 * (`[hosts.<name>].plugins`), keeping every other entry. The file is patched as text, so comments and
 * the layout of every table it does not touch are kept; the patch is checked by parsing it again, and
 * when the file's layout is one the patcher cannot follow, the file is rewritten from its data instead
 * (comments are then lost and the previous file is saved as `<file>.bak`).
 *
 * @since 0.1.0
 */
import { Effect, Either, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { parse as parseToml, stringify as stringifyToml } from "smol-toml"
import { decodeConfig } from "./Discover.js"
import type { Registration } from "./Manifest.js"
import { PluginSpec } from "./PluginConfig.js"
import { type ConfigInvalid, ConfigParseError, ConfigWriteError, FileUnreadable, PluginConflict } from "./PluginError.js"
import { applyEdits, type Block, blocksOf, findArrayEnd, type TextEdit } from "./internal/tomlText.js"

/** Options of {@link register}. */
export interface RegisterOptions {
  /** Replace a plugin entry that exists with different settings (otherwise `PluginConflict`). */
  readonly force?: boolean
}

/** What happened to the plugin's entry. */
export type PluginChange = "added" | "updated" | "unchanged"

/** What {@link planRegistration} decided, before anything is written. */
export interface RegistrationPlan {
  /** Absolute path of the config file. */
  readonly file: string
  /** The config file did not exist and is created. */
  readonly created: boolean
  readonly plugin: string
  readonly change: PluginChange
  /** Hosts that did not exist and are created with this plugin in their ACL. */
  readonly hostsCreated: ReadonlyArray<string>
  /** Existing hosts whose ACL gains this plugin. */
  readonly hostsJoined: ReadonlyArray<string>
  /** Hosts whose ACL already lists this plugin. */
  readonly hostsUnchanged: ReadonlyArray<string>
  /** False when the file could not be patched in place and is rewritten without its comments. */
  readonly commentsKept: boolean
  /** The new text of the file (the old text when nothing changes). */
  readonly text: string
}

/** The outcome of {@link register}. */
export interface RegisterResult extends Omit<RegistrationPlan, "text"> {
  /** Whether the file was written (false when it already said all of it). */
  readonly written: boolean
  /** Where the previous file was saved when it was rewritten without its comments, else null. */
  readonly backup: string | null
}

type Table = Record<string, unknown>

const isTable = (value: unknown): value is Table => typeof value === "object" && value !== null && !Array.isArray(value)

/** JSON with sorted keys, to compare TOML data regardless of key order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_, v: unknown) =>
    isTable(v) && !(v instanceof Date) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v)

const bareKey = /^[A-Za-z0-9_-]+$/
const tableKey = (key: string): string => (bareKey.test(key) ? key : JSON.stringify(key))
const renderTable = (keys: ReadonlyArray<string>, body: Table): string =>
  `[${keys.map(tableKey).join(".")}]\n${stringifyToml(body).trimEnd()}`

/** The entry as TOML keys with defaults filled in (decoded, then encoded back), so equal settings compare equal. */
const normalised = (entry: unknown): Either.Either<unknown, unknown> =>
  Either.flatMap(Schema.decodeUnknownEither(PluginSpec)(entry), Schema.encodeEither(PluginSpec))

/** The TOML keys in which an existing entry differs from the new one, compared with defaults filled in. */
const differingFields = (existing: unknown, entry: Table): ReadonlyArray<string> => {
  const before = normalised(existing)
  const after = normalised(entry)
  const [a, b]: [unknown, unknown] = Either.isRight(before) && Either.isRight(after)
    ? [before.right, after.right]
    : [existing, entry]
  const left = isTable(a) ? a : {}
  const right = isTable(b) ? b : {}
  const keys = Array.from(new Set([...Object.keys(left), ...Object.keys(right)]))
  return keys.filter((key) => canonical(left[key]) !== canonical(right[key]))
}

const lastBlock = (blocks: ReadonlyArray<Block>, table: string): Block | undefined =>
  blocks.filter((b) => !b.isArray && b.keys[0] === table).at(-1)

const findBlock = (blocks: ReadonlyArray<Block>, keys: ReadonlyArray<string>): Block | undefined =>
  blocks.find((b) => !b.isArray && b.keys.length === keys.length && b.keys.every((k, i) => k === keys[i]))

/** Patches the text: the plugin's table, then hosts' ACLs and new hosts. Unfollowable layouts are left as they are. */
const patchText = (
  text: string,
  registration: Registration,
  change: PluginChange,
  hostsCreated: ReadonlyArray<string>,
  hostsJoined: ReadonlyArray<string>
): string => {
  const { blocks, lineStart, lineEnd, lines } = blocksOf(text)
  const edits: Array<TextEdit> = []
  const end = text.length
  let appended = 0
  const appendAtEnd = (table: string) => {
    const separator = appended > 0 ? "\n" : text === "" ? "" : text.endsWith("\n") ? "\n" : "\n\n"
    appended++
    edits.push({ start: end, end, text: separator + table + "\n" })
  }
  /** After a table's last line, a blank line apart from it and from whatever follows. */
  const insertAfter = (block: Block, table: string) => {
    const at = lineEnd(block.contentEnd)
    const next = lines[block.contentEnd + 1]
    edits.push({ start: at, end: at, text: `\n\n${table}${next !== undefined && next.trim() !== "" ? "\n" : ""}` })
  }
  const pluginTable = renderTable(["plugins", registration.name], registration.entry)
  const existing = findBlock(blocks, ["plugins", registration.name])
  if (change === "updated" && existing !== undefined) {
    edits.push({ start: lineStart(existing.start), end: lineEnd(existing.contentEnd), text: pluginTable })
  } else if (change === "added") {
    const afterPlugins = lastBlock(blocks, "plugins")
    const firstHosts = blocks.find((b) => !b.isArray && b.keys[0] === "hosts")
    if (afterPlugins !== undefined) {
      insertAfter(afterPlugins, pluginTable)
    } else if (firstHosts !== undefined) {
      let line = firstHosts.start
      while (line > 0 && (lines[line - 1] ?? "").trim().startsWith("#")) line--
      edits.push({ start: lineStart(line), end: lineStart(line), text: `${pluginTable}\n\n` })
    } else {
      appendAtEnd(pluginTable)
    }
  }
  const quoted = JSON.stringify(registration.name)
  for (const host of hostsJoined) {
    const block = findBlock(blocks, ["hosts", host])
    const found = block === undefined ? undefined : findArrayEnd(text, lineStart(block.start + 1), lineStart(block.end), "plugins")
    if (found === undefined) continue
    const insert = found.lastSignificant === "[" ? quoted : found.lastSignificant === "," ? ` ${quoted}` : `, ${quoted}`
    edits.push({ start: found.insertAt, end: found.insertAt, text: insert })
  }
  const afterHosts = lastBlock(blocks, "hosts")
  for (const host of hostsCreated) {
    const table = renderTable(["hosts", host], { plugins: [registration.name] })
    if (afterHosts === undefined) {
      appendAtEnd(table)
    } else {
      insertAfter(afterHosts, table)
    }
  }
  const eol = text.includes("\r\n") ? "\r\n" : "\n"
  return applyEdits(text, edits.map((e) => (eol === "\n" ? e : { ...e, text: e.text.replace(/\n/g, eol) })))
}

const newFileHeader = "# goplugin config (format: docs/configuration.md). Created by `goplugin register`.\n\n"

/**
 * Decides what registering a plugin changes in a config's text, without touching the disk: the new
 * text (checked to decode as a valid config), what happened to the plugin and to each host. Fails with
 * `PluginConflict` when the plugin exists with other settings and `force` is not set.
 */
export const planRegistration = (
  file: string,
  existing: string | undefined,
  registration: Registration,
  options: RegisterOptions = {}
): Either.Either<RegistrationPlan, ConfigParseError | ConfigInvalid | PluginConflict> => {
  const parsed = Either.try(() => (existing === undefined ? {} : parseToml(existing)))
  if (Either.isLeft(parsed)) {
    const decoded = decodeConfig(file, existing ?? "")
    return Either.left(
      Either.isLeft(decoded) ? decoded.left : new ConfigParseError({ file, line: 0, column: 0, problem: String(parsed.left) })
    )
  }
  const expected: Table = parsed.right
  const name = registration.name
  const plugins = isTable(expected["plugins"]) ? expected["plugins"] : {}
  const hosts = isTable(expected["hosts"]) ? expected["hosts"] : {}
  const previous = plugins[name]
  const fields = previous === undefined ? [] : differingFields(previous, registration.entry as Table)
  const change: PluginChange = previous === undefined ? "added" : fields.length === 0 ? "unchanged" : "updated"
  if (change === "updated" && options.force !== true) {
    return Either.left(new PluginConflict({ file, plugin: name, fields }))
  }
  const hostsCreated: Array<string> = []
  const hostsJoined: Array<string> = []
  const hostsUnchanged: Array<string> = []
  for (const host of registration.hosts) {
    const entry = hosts[host]
    const acl = isTable(entry) && Array.isArray(entry["plugins"]) ? (entry["plugins"] as ReadonlyArray<unknown>) : undefined
    if (entry === undefined) hostsCreated.push(host)
    else if (acl?.includes(name) === true) hostsUnchanged.push(host)
    else hostsJoined.push(host)
    hosts[host] = { ...(isTable(entry) ? entry : {}), plugins: [...(acl ?? []), ...(acl?.includes(name) === true ? [] : [name])] }
  }
  const base = { file, created: existing === undefined, plugin: name, change, hostsCreated, hostsJoined, hostsUnchanged }
  if (existing !== undefined && change === "unchanged" && hostsCreated.length === 0 && hostsJoined.length === 0) {
    return Either.right({ ...base, commentsKept: true, text: existing })
  }
  plugins[name] = registration.entry
  expected["plugins"] = plugins
  if (Object.keys(hosts).length > 0) expected["hosts"] = hosts
  const patched = patchText(existing ?? "", registration, change, hostsCreated, hostsJoined)
  const patchHolds = Either.getOrUndefined(Either.try(() => canonical(parseToml(patched)))) === canonical(expected)
  const text = existing === undefined
    ? newFileHeader + patched
    : patchHolds
    ? patched
    : stringifyToml(expected)
  return Either.map(decodeConfig(file, text), () => ({ ...base, commentsKept: existing === undefined || patchHolds, text }))
}

const readIfExists = (file: string): Effect.Effect<string | undefined, FileUnreadable> =>
  Effect.tryPromise({
    try: () =>
      fs.readFile(file, "utf8").then(
        (text): string | undefined => text,
        (error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? undefined : Promise.reject(error))
      ),
    catch: (error) => new FileUnreadable({ file, detail: error instanceof Error ? error.message : String(error) })
  })

/** Writes through a temporary file and a rename, so a reader never sees half a config; keeps the file's mode. */
const writeAtomically = (file: string, text: string): Effect.Effect<void, ConfigWriteError> =>
  Effect.tryPromise({
    try: async () => {
      await fs.mkdir(path.dirname(file), { recursive: true })
      const mode = await fs.stat(file).then((s) => s.mode & 0o777, () => 0o644)
      const temporary = `${file}.${process.pid}.tmp`
      await fs.writeFile(temporary, text, { mode })
      await fs.rename(temporary, file)
    },
    catch: (error) => new ConfigWriteError({ file, detail: error instanceof Error ? error.message : String(error) })
  })

/**
 * Registers a plugin in a config file: adds or updates `[plugins.<name>]`, adds the plugin to each
 * host's ACL (creating hosts that do not exist), keeps every other entry, and creates the file and its
 * folder when absent. Nothing is written when the file already says all of it.
 *
 * @example
 * ```ts
 * const manifest = yield* Manifest.load("./plugins/log")
 * const registration = yield* Manifest.resolve(manifest)
 * const result = yield* ConfigEditor.register("/home/me/.goplugin/config.toml", registration)
 * // result.change: "added" | "updated" | "unchanged"
 * ```
 */
export const register = Effect.fn("ConfigEditor.register")(function*(
  file: string,
  registration: Registration,
  options: RegisterOptions = {}
) {
  const absolute = path.resolve(file)
  const existing = yield* readIfExists(absolute)
  const { text, ...plan } = yield* planRegistration(absolute, existing, registration, options)
  if (text === existing) return { ...plan, written: false, backup: null } satisfies RegisterResult
  const backup = plan.commentsKept || existing === undefined ? null : `${absolute}.bak`
  if (backup !== null) yield* writeAtomically(backup, existing ?? "")
  yield* writeAtomically(absolute, text)
  return { ...plan, written: true, backup } satisfies RegisterResult
})
