/**
 * A plugin's manifest: `goplugin.toml` in the plugin's folder, with one `[plugin]` table that says what
 * the plugin is called, how it starts and which hosts may use it. {@link resolve} turns a manifest
 * into the `[plugins.<name>]` entry of a config (absolute paths, a freshly computed md5), which
 * `ConfigEditor.register` writes.
 *
 * Paths in a manifest resolve against the manifest's folder: `exec` when it holds a slash (a bare name
 * such as `node` stays a `PATH` lookup), `exec_file`, and every `exec_args` entry that starts with
 * `./` or `../` or equals `exec_file`. They are written into config.toml as absolute paths, so the
 * config does not depend on where the manifest was.
 *
 * @since 0.1.0
 */
import { Effect, Either, Schema } from "effect"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import * as Host from "./Host.js"
import { Md5Checker } from "./Md5Checker.js"
import { isFile } from "./internal/files.js"
import { decodeStrict, parseTomlText } from "./internal/tomlDecode.js"
import { PluginSpec } from "./PluginConfig.js"
import {
  ExecutableNotFound,
  type FileUnreadable,
  ManifestChecksumMismatch,
  ManifestInvalid,
  ManifestNotFound
} from "./PluginError.js"

/** The file name of a manifest inside a plugin's folder. */
export const manifestFileName = "goplugin.toml"

/** A plugin or host name: it becomes a bare TOML key (`[plugins.<name>]`), so only `A-Z a-z 0-9 _ -`. */
export const Name = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9_-]+$/, {
    message: () => "expected a name made of letters, digits, '_' and '-' (it becomes a TOML key)"
  })
)

/**
 * The `[plugin]` table: every field of a config's `[plugins.<name>]` (md5 optional: it is the author's
 * claim, checked against the file), plus `name` and `hosts`.
 */
export const ManifestPlugin = Schema.Struct({
  ...PluginSpec.fields,
  name: Name,
  md5: Schema.optional(PluginSpec.fields.md5),
  hosts: Schema.optionalWith(Schema.Array(Name), { default: () => [] })
})
/** The decoded `[plugin]` table. */
export type ManifestPlugin = typeof ManifestPlugin.Type

/** The whole manifest file. */
export const ManifestFile = Schema.Struct({ plugin: ManifestPlugin })

/** A decoded manifest and where it came from. */
export interface Manifest {
  /** Absolute path of the manifest file. */
  readonly file: string
  /** Its folder: relative paths in the manifest resolve against it. */
  readonly dir: string
  readonly plugin: ManifestPlugin
  /** The `[plugin]` table as written (no defaults filled in), used to write only what the author wrote. */
  readonly raw: Readonly<Record<string, unknown>>
}

/** What registering a manifest writes: one plugin entry and the hosts that may use it. */
export interface Registration {
  readonly name: string
  readonly hosts: ReadonlyArray<string>
  /** The `[plugins.<name>]` table to write, keys in the spec's order, paths absolute, md5 computed. */
  readonly entry: Readonly<Record<string, unknown>>
  /** Absolute path of the file the checksum covers. */
  readonly execFile: string
  /** The manifest it came from. */
  readonly manifest: string
}

/** Options of {@link resolve}. */
export interface ResolveOptions {
  /** Accept a file whose digest differs from the manifest's `md5`/`sha256` claim (the actual digest is recorded). */
  readonly trustFile?: boolean
}

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * Parses and decodes manifest text. Pure apart from its inputs, so tests and tools can decode text
 * that is not on disk.
 */
export const decodeManifest = (file: string, text: string): Either.Either<Manifest, ManifestInvalid> =>
  parseTomlText(file, text).pipe(
    Either.mapLeft((error) =>
      new ManifestInvalid({
        file,
        path: `line ${error.line}, column ${error.column}`,
        problem: `TOML syntax error: ${error.problem}${error.excerpt === undefined ? "" : `\n${error.excerpt}`}`
      })
    ),
    Either.flatMap((raw) =>
      decodeStrict(ManifestFile, raw).pipe(
        Either.mapLeft(({ path, problem }) => new ManifestInvalid({ file, path, problem })),
        Either.map((decoded) => ({
          file,
          dir: path.dirname(file),
          plugin: decoded.plugin,
          raw: isRecord(raw["plugin"]) ? raw["plugin"] : {}
        }))
      )
    )
  )

/**
 * Reads and decodes a manifest: `location` is a plugin's folder (its `goplugin.toml` is read) or the
 * manifest file itself.
 *
 * @example
 * ```ts
 * const manifest = yield* Manifest.load("./plugins/log")
 * const registration = yield* Manifest.resolve(manifest)
 * ```
 */
export const load = Effect.fn("Manifest.load")(function*(location: string) {
  const absolute = path.resolve(location)
  const stat = yield* Effect.promise(() => fs.stat(absolute).then((s) => s, () => undefined))
  if (stat === undefined) {
    return yield* new ManifestNotFound({ path: absolute, detail: "no such file or folder" })
  }
  const file = stat.isDirectory() ? path.join(absolute, manifestFileName) : absolute
  const text = yield* Effect.tryPromise({
    try: () => fs.readFile(file, "utf8"),
    catch: (error) =>
      new ManifestNotFound({
        path: file,
        detail: (error as NodeJS.ErrnoException).code === "ENOENT" ? `the folder has no ${manifestFileName}` : String(error)
      })
  })
  return yield* decodeManifest(file, text)
})

/** `exec` as written into the config: absolute when it holds a slash, a bare `PATH` name otherwise. */
const execForConfig = (exec: string, dir: string): string =>
  path.isAbsolute(exec) || !exec.includes("/") ? exec : path.resolve(dir, exec)

/** An `exec_args` entry as written into the config: `./x`, `../x` and the `exec_file` path become absolute. */
const argForConfig = (arg: string, dir: string, execFile: string | undefined): string =>
  arg.startsWith("./") || arg.startsWith("../") || arg === execFile ? path.resolve(dir, arg) : arg

/** The spec's key order for a `[plugins.<name>]` table; other keys follow in the manifest's order. */
const keyOrder = ["author", "md5", "sha256", "exec", "exec_args", "exec_file", "exec_time", "comm_type", "comm_port"]

const notFound = (manifest: Manifest, error: ExecutableNotFound): ManifestInvalid =>
  new ManifestInvalid({
    file: manifest.file,
    path: `plugin.${error.field}`,
    problem: `"${error.value}" was not found (looked at: ${error.tried.join(", ")}); build or install the plugin first`
  })

const checkClaim = (
  manifest: Manifest,
  execFile: string,
  algorithm: "md5" | "sha256",
  claimed: string | undefined,
  actual: string,
  options: ResolveOptions
): Effect.Effect<void, ManifestChecksumMismatch> =>
  claimed === undefined || claimed.toLowerCase() === actual || options.trustFile === true
    ? Effect.void
    : Effect.fail(
      new ManifestChecksumMismatch({
        manifest: manifest.file,
        plugin: manifest.plugin.name,
        file: execFile,
        algorithm,
        claimed: claimed.toLowerCase(),
        actual
      })
    )

/**
 * Resolves a manifest into what a config records: paths made absolute against the manifest's folder,
 * the executable checked to exist, and the md5 (and sha256 when the manifest gives one) computed from
 * the file. A digest that differs from the manifest's claim fails with `ManifestChecksumMismatch`
 * unless `trustFile` is set.
 */
export const resolve = Effect.fn("Manifest.resolve")(function*(manifest: Manifest, options: ResolveOptions = {}) {
  const { plugin, dir, raw } = manifest
  const exec = execForConfig(plugin.exec, dir)
  const resolvedExec = yield* Effect.mapError(Host.resolveExec(plugin.name, exec, dir), (e) => notFound(manifest, e))
  const execFile = plugin.execFile === undefined ? resolvedExec : path.resolve(dir, plugin.execFile)
  if (!(yield* isFile(execFile))) {
    const field = plugin.execFile === undefined ? "exec" : "exec_file"
    const value = plugin.execFile ?? plugin.exec
    return yield* notFound(manifest, new ExecutableNotFound({ plugin: plugin.name, field, value, tried: [execFile] }))
  }
  const checker = yield* Md5Checker
  const md5: string = yield* checker.digest(execFile, "md5")
  yield* checkClaim(manifest, execFile, "md5", plugin.md5, md5, options)
  const sha256: string | undefined = plugin.sha256 === undefined ? undefined : yield* checker.digest(execFile, "sha256")
  if (sha256 !== undefined) yield* checkClaim(manifest, execFile, "sha256", plugin.sha256, sha256, options)

  const written: Record<string, unknown> = { ...raw, md5, exec }
  delete written["name"]
  delete written["hosts"]
  if (sha256 !== undefined) written["sha256"] = sha256
  if (raw["exec_args"] !== undefined) written["exec_args"] = plugin.execArgs.map((arg) => argForConfig(arg, dir, plugin.execFile))
  if (raw["exec_file"] !== undefined) written["exec_file"] = execFile
  const ordered = [...keyOrder.filter((key) => key in written), ...Object.keys(written).filter((key) => !keyOrder.includes(key))]
  const entry = Object.fromEntries(ordered.map((key) => [key, written[key]]))
  return {
    name: plugin.name,
    hosts: Array.from(new Set(plugin.hosts)),
    entry,
    execFile,
    manifest: manifest.file
  } satisfies Registration
})

/** Every error {@link load} and {@link resolve} can produce. */
export type ManifestError = ManifestNotFound | ManifestInvalid | ManifestChecksumMismatch | FileUnreadable
