/**
 * Finds the goplugin config file (`GOPLUGIN_DIR`, else `$HOME/.goplugin`), reads it through
 * `@effect/platform`'s `FileSystem`, parses its TOML and decodes it into a typed {@link PluginConfig}.
 * The environment is read through effect's `Config`, so a `ConfigProvider` can stand in for it.
 *
 * @since 0.1.0
 */
import type { PlatformError } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { Config, Context, Effect, Either, Layer, Option } from "effect"
import * as os from "node:os"
import * as nodePath from "node:path"
import { ConfigInvalid, ConfigNotFound, type ConfigParseError, ConfigUnreadable, type ConfigError } from "./PluginError.js"
import { PluginConfigFile, type PluginConfig } from "./PluginConfig.js"
import { clip, decodeStrict, parseTomlText } from "./internal/tomlDecode.js"
import { decodeUtf8 } from "./internal/utf8.js"

/** Where a config file was found, and why that place was chosen. */
export interface ConfigLocation {
  readonly file: string
  readonly reason: string
}

/** The environment variables that decide where the config file is. */
export interface DiscoverEnv {
  readonly GOPLUGIN_DIR?: string | undefined
  readonly HOME?: string | undefined
}

/**
 * The place to look for the config file, from the environment: `GOPLUGIN_DIR` (a folder holding
 * `config.toml`, or a `.toml` file itself), else `$HOME/.goplugin/config.toml`.
 */
export const candidateFor = (
  env: DiscoverEnv,
  path: Pick<Path.Path, "resolve" | "join"> = nodePath
): ConfigLocation => {
  const dir = env.GOPLUGIN_DIR?.trim()
  if (dir !== undefined && dir !== "") {
    return dir.endsWith(".toml")
      ? { file: path.resolve(dir), reason: "GOPLUGIN_DIR names the file" }
      : { file: path.resolve(dir, "config.toml"), reason: "GOPLUGIN_DIR is set" }
  }
  const home = env.HOME !== undefined && env.HOME !== "" ? env.HOME : os.homedir()
  return { file: path.join(home, ".goplugin", "config.toml"), reason: "GOPLUGIN_DIR is not set, so $HOME/.goplugin" }
}

/**
 * `GOPLUGIN_DIR` and `HOME` from the current `ConfigProvider` (the process environment unless a test
 * or an application sets another).
 *
 * @since 0.2.0
 */
export const discoverEnv: Effect.Effect<DiscoverEnv> = Config.all({
  GOPLUGIN_DIR: Config.option(Config.string("GOPLUGIN_DIR")),
  HOME: Config.option(Config.string("HOME"))
}).pipe(
  Effect.map(({ GOPLUGIN_DIR, HOME }) => ({ GOPLUGIN_DIR: Option.getOrUndefined(GOPLUGIN_DIR), HOME: Option.getOrUndefined(HOME) })),
  // A string setting can only be missing, which Config.option already turns into None.
  Effect.orDie
)

/** Every `[plugins.<name>]` a host lists must exist and no table may be named `""`; the spec leaves this to chance. */
const crossChecks = (config: typeof PluginConfigFile.Type): ReadonlyArray<[string, string]> => {
  const problems: Array<[string, string]> = []
  for (const table of ["plugins", "hosts"] as const) {
    if (Object.hasOwn(config[table], "")) {
      problems.push([`${table}.""`, `a ${table === "plugins" ? "plugin" : "host"} name cannot be empty; name the table, e.g. [${table}.my-${table === "plugins" ? "plugin" : "host"}]`])
    }
  }
  for (const [host, spec] of Object.entries(config.hosts)) {
    spec.plugins.forEach((plugin, i) => {
      if (!Object.hasOwn(config.plugins, plugin)) {
        problems.push([`hosts.${clip(host)}.plugins[${i}]`, `plugin "${clip(plugin)}" is not defined under [plugins]`])
      }
    })
  }
  return problems
}

/**
 * Parses and decodes config text. Pure apart from its inputs, so tests and the CLI can decode text that
 * is not on disk.
 */
export const decodeConfig = (file: string, text: string): Either.Either<PluginConfig, ConfigParseError | ConfigInvalid> =>
  parseTomlText(file, text).pipe(Either.flatMap((raw) => decodeTable(file, raw)))

const decodeTable = (file: string, raw: unknown): Either.Either<PluginConfig, ConfigInvalid> =>
  decodeStrict(PluginConfigFile, raw).pipe(
    Either.mapLeft(({ path, problem }) => new ConfigInvalid({ file, path, problem })),
    Either.flatMap((decoded) => {
      const problems = crossChecks(decoded)
      if (problems.length === 0) return Either.right({ ...decoded, file, dir: nodePath.dirname(file) })
      const [[where, problem], ...others] = problems as [[string, string], ...Array<[string, string]>]
      const also = others.length > 0 ? ` (also: ${others.map(([p, m]) => `${p}: ${m}`).join("; ")})` : ""
      return Either.left(new ConfigInvalid({ file, path: where, problem: problem + also }))
    })
  )

/** Finds, reads and decodes the goplugin config. */
export class Discover extends Context.Tag("goplugin-effect/Discover")<Discover, {
  /** Which file would be used, and why. */
  readonly locate: Effect.Effect<ConfigLocation>
  /** Reads and decodes the located config file. */
  readonly load: Effect.Effect<PluginConfig, ConfigError>
  /** Reads and decodes a given config file. */
  readonly loadFile: (file: string) => Effect.Effect<PluginConfig, ConfigError>
}>() {}

/**
 * Reads a config file as text: a missing file is `ConfigNotFound`; a folder, a file this process may
 * not read, bytes that are not UTF-8 or another read failure is `ConfigUnreadable` with that reason.
 *
 * @since 0.2.0
 */
export const readConfigText = Effect.fn("Discover.readConfigText")(function*(file: string, reason: string) {
  const fs = yield* FileSystem.FileSystem
  const failed = (error: PlatformError): ConfigNotFound | ConfigUnreadable => {
    const systemReason = error._tag === "SystemError" ? error.reason : undefined
    if (systemReason === "NotFound") {
      return new ConfigNotFound({ tried: [file], detail: `${reason}; no such file`, cause: error })
    }
    const detail = clip(error.message)
    const kind = systemReason === "PermissionDenied" ? "permission" : /EISDIR/.test(detail) ? "directory" : "io"
    return new ConfigUnreadable({ file, reason: kind, detail, cause: error })
  }
  const info = yield* Effect.mapError(fs.stat(file), failed)
  if (info.type === "Directory") {
    return yield* new ConfigUnreadable({ file, reason: "directory", detail: "EISDIR: the path is a folder" })
  }
  const bytes = yield* Effect.mapError(fs.readFile(file), failed)
  return yield* Either.mapLeft(decodeUtf8(bytes), ({ offset, line, column }) =>
    new ConfigUnreadable({
      file,
      reason: "encoding",
      detail: `byte ${offset} (line ${line}, column ${column}) starts no valid UTF-8 character`
    }))
})

/**
 * Reads and decodes one config file. A file with nothing but blanks is `ConfigInvalid`: it configures
 * nothing, and checking it must not pass as "0 hosts verified".
 */
export const loadFile = Effect.fn("Discover.loadFile")(function*(file: string, reason = "given explicitly") {
  const path = yield* Path.Path
  const absolute = path.resolve(file)
  const text = yield* readConfigText(absolute, reason)
  if (text.trim() === "") {
    return yield* new ConfigInvalid({
      file: absolute,
      path: "",
      problem: "the file is empty; a config needs [plugins.<name>] and [hosts.<name>] tables " +
        "(goplugin register <plugin-folder> writes them, docs/configuration.md describes them)"
    })
  }
  return yield* decodeConfig(absolute, text)
})

const make = Effect.fnUntraced(function*(locate: (path: Path.Path) => Effect.Effect<ConfigLocation>) {
  const context = yield* Effect.context<FileSystem.FileSystem | Path.Path>()
  const path = Context.get(context, Path.Path)
  const located = locate(path)
  const load = (file: string, reason?: string) => Effect.provide(loadFile(file, reason), context)
  return Discover.of({
    locate: located,
    load: Effect.flatMap(located, (location) => load(location.file, location.reason)),
    loadFile: (file) => load(file)
  })
})

/**
 * Discover from the environment (`GOPLUGIN_DIR`, `HOME`, read through `Config` each time the config is
 * loaded), reading files through the `FileSystem` and `Path` it is given.
 */
export const layer: Layer.Layer<Discover, never, FileSystem.FileSystem | Path.Path> = Layer.effect(
  Discover,
  make((path) => Effect.map(discoverEnv, (env) => candidateFor(env, path)))
)

/** Discover that always uses the given config file (tests, CLIs with a `--config` flag). */
export const layerFile = (file: string): Layer.Layer<Discover, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(Discover, make((path) => Effect.succeed({ file: path.resolve(file), reason: "given explicitly" })))

const nodePlatform = Layer.merge(NodeFileSystem.layer, NodePath.layer)

/**
 * {@link layer} on Node's file system.
 *
 * @since 0.2.0
 */
export const layerNode: Layer.Layer<Discover> = Layer.provide(layer, nodePlatform)

/**
 * {@link layerFile} on Node's file system.
 *
 * @since 0.2.0
 */
export const layerFileNode = (file: string): Layer.Layer<Discover> => Layer.provide(layerFile(file), nodePlatform)
